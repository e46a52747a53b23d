/// <reference types="@webgpu/types" preserve="true" />
// The package's types for TypeScript before 6.0 (package.json's "types@<6.0" condition): those
// versions have no WebGPU in their DOM lib, so this entry brings in @webgpu/types (a dependency).
// TypeScript 6 and later declare WebGPU in lib.dom itself, where @webgpu/types would clash
// (Duplicate identifier 'GPUSupportedFeatures'): their entry is ../index.ts, which references nothing.
export * from '../index.js';
