/**
 * Optimizer paths on a test surface (surfaces.ts): the gradient is computed on the GPU, the
 * library's optimizer updates (x, y), and every position is copied into a trajectory buffer, all
 * recorded into one command encoder; one readback at the end.
 */
import { createOptimizer, createParameterSet, exponentialDecay, type OptimizerName } from '../../src/index.js';
import source from './surfaces.wgsl?raw';
import { COLORS } from '../../common/palette.js';
import { SURFACES, type Surface } from './surfaces.js';

export interface PathOptimizer {
  label: string;
  name: OptimizerName;
  options: Record<string, unknown>;
  color: string;
}

/**
 * The paths drawn, per registered optimizer (several configurations of one optimizer are several
 * paths). Keyed by the registry: an optimizer registered without an entry does not compile.
 */
const PATHS: { readonly [K in OptimizerName]: readonly Omit<PathOptimizer, 'name' | 'color'>[] | { skip: string } } = {
  sgd: [
    { label: 'SGD', options: { lr: 0.95 } },
    { label: 'Momentum', options: { lr: 0.1, momentum: 0.9 } },
    { label: 'Nesterov', options: { lr: 0.1, momentum: 0.9, nesterov: true } },
  ],
  ema_momentum: { skip: 'the same path as Momentum with the lr scaled by 1/(1 − β); shown on the train page' },
  adagrad: [{ label: 'AdaGrad', options: { lr: 1.5 } }],
  rmsprop: [{ label: 'RMSProp', options: { lr: 0.1 } }],
  adadelta: [{ label: 'Adadelta', options: { lr: 50 } }],
  adam: [{ label: 'Adam', options: { lr: 0.3 } }],
  adamw: { skip: 'no weight decay on this surface: the same path as Adam' },
  adamax: [{ label: 'Adamax', options: { lr: 0.5 } }],
  nadam: [{ label: 'NAdam', options: { lr: 0.3 } }],
  radam: [{ label: 'RAdam', options: { lr: 1 } }],
  rprop: [{ label: 'Rprop', options: { lr: 0.5 } }],
  // Lion's steps all have length lr: it reaches the minimum with a decaying lr.
  adamw_schedule_free: { skip: 'its iterate y is not the point it converges to (eval() switches to x); shown on the train page' },
  adamw_schedule_free_paper: { skip: 'as adamw_schedule_free: its iterate y is not the point it converges to; shown on the train page' },
  lamb: { skip: 'layer-wise: its steps are scaled by the norm of the whole tensor, here the point itself; shown on the train page' },
  adafactor: { skip: 'its steps are relative to the RMS of the whole tensor, here the point itself; shown on the train page' },
  lars: { skip: 'layer-wise: its steps are scaled by the norm of the whole tensor, here the point itself; shown on the train page' },
  lion: [{ label: 'Lion', options: { lr: 0.5, lrSchedule: exponentialDecay({ gamma: 0.97 }) } }],
  muon: { skip: 'it orthogonalizes matrices: a 2-D point is a vector, which Muon hands to AdamW (the AdamW path shows that); Muon is on the train page' },
  // lr 1, the authors' advice: d grows from d0 = 1e-6 to the point's distance from the minimum within a few dozen steps.
  prodigy: [{ label: 'Prodigy', options: { lr: 1 } }],
  ademamix: { skip: 'its slow EMA (β₃ 0.9999, a half-life of about 7000 steps) barely acts within a 100-step path, which would be Adam\'s; shown on the train page' },
};

/** The paths drawn, in order, each in its own colour. */
export const PATH_OPTIMIZERS: PathOptimizer[] = (Object.entries(PATHS) as [OptimizerName, (typeof PATHS)[OptimizerName]][]).flatMap(
  ([name, paths]) => ('skip' in paths ? [] : paths.map((path) => ({ name, ...path }))),
).map((path, k) => ({ ...path, color: COLORS[k % COLORS.length]! }));

/** Optimizers whose `betas` are Adam's (β₁ for the mean, β₂ for the squared gradient): the β sliders set them. */
export const ADAM_FAMILY: readonly OptimizerName[] = ['adam', 'adamax', 'nadam', 'radam'];

/** The options of one path on one surface: the surface's rate, and the page's momentum and betas. */
export function pathOptions(opt: PathOptimizer, surface: Surface, knobs: { lr?: number; momentum: number; betas: [number, number] }): Record<string, unknown> {
  const options: Record<string, unknown> = { ...opt.options, lr: knobs.lr ?? surface.rates[opt.label] ?? opt.options.lr };
  if (opt.name === 'sgd' && options.momentum !== undefined) options.momentum = knobs.momentum;
  if (ADAM_FAMILY.includes(opt.name)) options.betas = knobs.betas;
  return options;
}

const gradientPipelines = new WeakMap<GPUDevice, GPUComputePipeline[]>();

/** The gradient kernel's pipeline for one surface, created once per device. */
export function gradientPipeline(device: GPUDevice, surface: number): GPUComputePipeline {
  let pipelines = gradientPipelines.get(device);
  if (!pipelines) {
    const module = device.createShaderModule({ label: 'demo:paths:gradient', code: source });
    pipelines = SURFACES.map((s, i) =>
      device.createComputePipeline({ label: `demo:paths:gradient:${s.key}`, layout: 'auto', compute: { module, entryPoint: 'main', constants: { SURFACE: i } } }),
    );
    gradientPipelines.set(device, pipelines);
  }
  return pipelines[surface]!;
}

/** The path of one optimizer on surface `surface` (index into SURFACES): `steps + 1` points, the start included. */
export async function runPath(device: GPUDevice, opt: PathOptimizer, steps: number, surface = 0): Promise<[number, number][]> {
  const start = SURFACES[surface]!.start;
  const params = createParameterSet(device, [{ name: 'xy', data: Float32Array.from(start) }], { label: `demo:paths:${opt.label}` });
  const optimizer = createOptimizer(opt.name, params, opt.options as never);
  const pipeline = gradientPipeline(device, surface);
  const bindGroup = device.createBindGroup({
    label: 'demo:paths:gradient',
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: params.paramBuffer, size: 8 } },
      { binding: 1, resource: { buffer: params.gradBuffer, size: 8 } },
    ],
  });
  const bytes = (steps + 1) * 8;
  const trajectory = device.createBuffer({ label: 'demo:paths:trajectory', size: bytes, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  const staging = device.createBuffer({ label: 'demo:paths:staging', size: bytes, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const encoder = device.createCommandEncoder({ label: `demo:paths:${opt.label}` });
  encoder.copyBufferToBuffer(params.paramBuffer, 0, trajectory, 0, 8);
  for (let s = 1; s <= steps; s++) {
    const pass = encoder.beginComputePass({ label: 'demo:paths:gradient' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(1);
    pass.end();
    optimizer.step(encoder);
    encoder.copyBufferToBuffer(params.paramBuffer, 0, trajectory, s * 8, 8);
  }
  encoder.copyBufferToBuffer(trajectory, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const xy = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  for (const b of [trajectory, staging]) b.destroy();
  optimizer.destroy();
  params.destroy();
  return Array.from({ length: steps + 1 }, (_, s) => [xy[2 * s]!, xy[2 * s + 1]!]);
}
