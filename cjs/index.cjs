// CommonJS entry: webgpu-optim is an ES module. Node 20 cannot require() it; say what to do.
throw new Error(
  "webgpu-optim is an ES module: use `import { createOptimizer } from 'webgpu-optim'`, or from " +
    "CommonJS `const { createOptimizer } = await import('webgpu-optim')`.",
);
