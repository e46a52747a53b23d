/// <reference types="@webgpu/types" preserve="true" />
// webgpu-optim/tfjs's types for TypeScript before 6.0: see ./index.ts.
export * from '../tfjs/index.js';
