/**
 * The state dict's public face: its type, dequantization and exact JSON form (what src/index.ts
 * exports). Its parts live one concept per file: state-dict-types (the shape), -slots (what a dict
 * holds under a config), -build, -checks and -stored (the checks a load runs), -load, -dequantize
 * and -json.
 */
export type { OptimizerStateDict } from './state-dict-types.js';
export { dequantizeStateDict, type StateDictOptions } from './state-dict-dequantize.js';
export { stateDictFromJSON, stateDictToJSON } from './state-dict-json.js';
export type { Q8Slot } from './q8.js';
