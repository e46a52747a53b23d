/**
 * What the Node benchmark loads (through Vite, or as one bundled file on a machine without the
 * dev dependencies: npm run bench:bundle): the suite and the peers, which find the GPU through
 * `navigator.gpu` (bench/run-node.mjs sets it to Dawn's).
 */
export { runSuite } from './suite.js';
export { jaxRunner } from './jaxjs.js';
export { tfjsRunner, tfjsVersion } from './tfjs.js';
