/**
 * What the Node benchmark loads, bundled into one file (npm run bench:bundle), so it runs on a machine
 * without the dev dependencies too: the suite and the peers, which find the GPU through
 * `navigator.gpu` (bench/run-node.mjs sets it to Dawn's).
 */
export { runSuite } from './suite.js';
export { jaxRunner } from './jaxjs.js';
export { jaxMuonRunner } from './jaxjs-muon.js';
export { tfjsRunner, tfjsVersion } from './tfjs.js';
export { measureFit } from './fit.js';
