// Footnotes of a benchmark table: a surprising figure gets a mark, and the note under the table
// says why it is what it is. The same note given twice gets the same mark.

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';
/** The mark of the n-th note (1-based): ¹, ², … ¹⁰. */
const markOf = (n) => [...String(n)].map((d) => SUPERSCRIPT[Number(d)]).join('');

/**
 * A footnote list: `mark(note)` returns the note's mark (its number, in order of first use),
 * `lines()` the notes as `¹ note` lines, in that order.
 */
export function createFootnotes() {
  const notes = [];
  return {
    mark(note) {
      let i = notes.indexOf(note);
      if (i < 0) i = notes.push(note) - 1;
      return markOf(i + 1);
    },
    lines: () => notes.map((note, i) => `${markOf(i + 1)} ${note}`),
  };
}
