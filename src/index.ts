/**
 * webgpu-optim: fused WebGPU optimizer kernels with PyTorch torch.optim semantics.
 * @packageDocumentation
 */
export { createParameterSet, type ParameterSet, type ParameterSetOptions } from './engine/parameters.js';
export { createOptimizer, type Optimizer } from './engine/optimizer.js';
export type { StepOptions } from './engine/step-call.js';
export type { OptimizerCreateOptions } from './front/resolve.js';
export { createReferenceOptimizer, type NamedTensor, type ReferenceOptimizer } from './reference/optimizer.js';
export { dequantizeStateDict, stateDictFromJSON, stateDictToJSON, type OptimizerStateDict, type StateDictOptions } from './state/state-dict.js';
export type { StateFormat } from './state/state-format.js';
export type { StateStorage } from './state/state-storage.js';
export type { OptimizerOptions, ParamGroup } from './core/config.js';
export {
  listOptimizers,
  optimizerNames,
  registerOptimizer,
  type BuiltinOptimizerName,
  type OptimizerName,
  type OptimizerOptionsMap,
  type RegisteredOptimizers,
} from './optimizers/registry.js';
export { defineOptimizer, type KernelDefines, type OptimizerDefinition, type ReferenceUpdate, type ScalarSpec, type Scalars, type SlotSpec } from './core/definition.js';
export { is as optionChecks, type OptionCheck } from './core/validate.js';
export * as twinMath from './core/twin-math.js';
export type { SgdOptions, EmaMomentumOptions } from './optimizers/sgd/definition.js';
export type { AdagradOptions } from './optimizers/adagrad/definition.js';
export type { RmspropOptions } from './optimizers/rmsprop/definition.js';
export type { AdadeltaOptions } from './optimizers/adadelta/definition.js';
export type { AdamOptions } from './optimizers/adam/definition.js';
export type { AdamaxOptions } from './optimizers/adamax/definition.js';
export type { NadamOptions } from './optimizers/nadam/definition.js';
export type { RadamOptions } from './optimizers/radam/definition.js';
export type { RpropOptions } from './optimizers/rprop/definition.js';
export type { LionOptions } from './optimizers/lion/definition.js';
export type { ScheduleFreeOptions } from './optimizers/adamw_schedule_free/definition.js';
export type { ScheduleFreePaperOptions } from './optimizers/adamw_schedule_free_paper/definition.js';
export type { LambOptions } from './optimizers/lamb/definition.js';
export type { LarsOptions } from './optimizers/lars/definition.js';
export type { MuonOptions, NsTriple } from './optimizers/muon/definition.js';
export type { MuonAdamwOptions } from './optimizers/muon/hybrid.js';
export type { ProdigyOptions } from './optimizers/prodigy/definition.js';
export type { AdafactorOptions } from './optimizers/adafactor/definition.js';
export type { AdemamixOptions } from './optimizers/ademamix/definition.js';
export type { ChunkReduction } from './passes/tensor-reduction.js';
export type { SegmentResources, BindingSpec, KernelBindGroup, PassContext, PassDeclaration, PassState, StepPass, Tile } from './core/passes.js';
export type { LayoutLimits, TensorSlot, Segment, PackedLayout } from './core/layout.js';
export { requestOptimizerDevice } from './engine/device.js';
export {
  constantLr,
  cosineAnnealingWarmRestarts,
  cosineWithWarmup,
  exponentialDecay,
  linearLr,
  multiStepLr,
  oneCycle,
  polynomialLr,
  sequential,
  sequentialLr,
  stepDecay,
  type LrSchedule,
} from './core/schedules.js';
export { reduceLrOnPlateau, type LrAdjustable, type PlateauState, type ReduceLrOnPlateau, type ReduceLrOnPlateauOptions } from './control/reduce-lr-on-plateau.js';
export type { GradClipping, LossScaling, TrainingOptions } from './control/training.js';
export type { ControlSnapshot } from './control/control-block.js';
export { fromTorchCheckpoint, toTorchCheckpoint, TORCH_CHECKPOINT_FORMAT, TORCH_CLASSES } from './checkpoint/torch.js';
export { fromTorchCheckpointPair, toTorchCheckpointPair } from './checkpoint/torch-pair.js';
export { decodeSafetensors, encodeSafetensors, type SafetensorsContent } from './checkpoint/safetensors.js';
export { decodeWeights, encodeWeights, loadWeights, saveWeights, WEIGHTS_FORMAT, type WeightsTensor } from './checkpoint/weights.js';
