// node bench/merge.mjs OUT.json IN.json...: one result file from runs made in parts on the same
// adapter (a long run split to fit a time limit, or a run stopped early whose rows
// bench/results/partial/ kept). Rows are matched by optimizer and workload; a later file's
// measurement of the same mode replaces an earlier one. Then re-render with `node bench/render.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) {
  console.error('usage: node bench/merge.mjs OUT.json IN.json... (OUT may be one of the inputs)');
  process.exit(2);
}
const files = inputs.map((f) => ({ file: f, data: JSON.parse(readFileSync(f, 'utf8')) }));
const full = files.filter((f) => f.data.meta);
if (full.length === 0) throw new Error('merge: at least one input must be a finished run (with meta)');
const devices = new Set(full.map((f) => JSON.stringify(f.data.meta.adapter)));
if (devices.size > 1) throw new Error(`merge: the inputs come from different adapters: ${[...devices].join(' / ')}`);

/** Bytes of every buffer per format, merged as the state bytes are (absent when neither part counted them). */
const allocated = (known, row) =>
  known.allocatedBytesPerParam || row.allocatedBytesPerParam ? { allocatedBytesPerParam: { ...known.allocatedBytesPerParam, ...row.allocatedBytesPerParam } } : {};

const rows = new Map();
for (const { data } of files) {
  for (const row of data.rows) {
    const key = `${row.optimizer}\u0000${row.workload}`;
    const known = rows.get(key);
    // Results and state bytes per format: a later part's measurement replaces an earlier one.
    rows.set(key, known ? { ...known, results: { ...known.results, ...row.results }, stateBytesPerParam: { ...known.stateBytesPerParam, ...row.stateBytesPerParam }, ...allocated(known, row) } : structuredClone(row));
  }
}
const last = full[full.length - 1].data;
/** The suite's order: single tensors by size, then the many-tensor mixes, then the sweep (stable within a workload). */
const workloadOrder = (row) => (row.workload.startsWith('sweep') ? 2e12 : row.tensors > 1 ? 1e12 + row.tensors : 0) + row.elements / 1e3;
/** The last input's non-empty list under `key` (a part that ran no such experiment leaves it empty). */
const latest = (key) => [...full].reverse().find((f) => f.data[key]?.length)?.data[key];
const dates = files.map((f) => f.data.meta?.date ?? f.data.date).filter(Boolean).sort();
const merged = {
  ...last,
  meta: {
    ...last.meta,
    date: dates[dates.length - 1],
    reps: Math.min(...full.map((f) => f.data.meta.reps)),
    command: [...new Set(full.flatMap((f) => f.data.meta.command.split('; ')))].join('; '),
    // A merged input brings its own parts along.
    parts: files.flatMap((f) => f.data.meta?.parts ?? [f.data.meta?.command ?? `${f.file} (rows kept from a run stopped early)`]),
  },
  // Seeded only if every part was (a part timed on zero gradients makes its q8 figures lower bounds).
  gradients: full.every((f) => f.data.gradients === 'seeded') ? 'seeded' : undefined,
  rows: [...rows.values()].sort((a, b) => workloadOrder(a) - workloadOrder(b)),
  hostCost: latest('hostCost'),
  kernelShapes: latest('kernelShapes'),
  fit: latest('fit'),
};
writeFileSync(out, JSON.stringify(merged, null, 2));
console.log(`wrote ${out}: ${merged.rows.length} rows from ${files.length} files`);
