// CommonJS entry of webgpu-optim/tfjs: it is an ES module. Node 20 cannot require() it; say what to do.
throw new Error(
  "webgpu-optim/tfjs is an ES module: use `import { train } from 'webgpu-optim/tfjs'`, or from " +
    "CommonJS `const { train } = await import('webgpu-optim/tfjs')`.",
);
