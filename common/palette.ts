/** The plot colours of the demo and benchmark pages (no DOM: the paths module and tests import it too). */

/**
 * Line and bar colours, in the order curves take them. Each has a contrast of at least 4.5:1 on
 * the page's background and on white (WCAG AA for text, so a label may wear its curve's colour)
 * and at least 3:1 on every band of the paths page's contours; neighbours differ in hue.
 * 19 colours: every preset of the training page has its own.
 */
export const COLORS = [
  '#1f77b4', '#d62728', '#237a23', '#b85300', '#7b52ab', '#00808a', '#8c564b', '#b5267b', '#6f7300', '#1c3f94',
  '#666666', '#a23bd0', '#1b6e50', '#7a1a1a', '#222222', '#9a6a00', '#c2185b', '#4a5a7a', '#5a3d00',
];
