/**
 * The state dict's shape: what stateDict() returns and loadStateDict() takes, in the same form for
 * the GPU optimizer and its CPU reference.
 */
import type { Q8Slot, Quantization } from './q8.js';
import type { StateFormat } from './state-format.js';

export const STATE_DICT_FORMAT = 'webgpu-optim/state-dict';
export const STATE_DICT_VERSION = 1;

export interface OptimizerStateDict<H extends object = Record<string, unknown>> {
  /** `"webgpu-optim/state-dict"`, version 1 (absent in hand-made dicts: read as version 1). */
  format?: typeof STATE_DICT_FORMAT;
  version?: number;
  /** Optimizer name, e.g. "adam". */
  optimizer: string;
  /** Optimizer steps taken: PyTorch's `step` state (steps skipped for non-finite gradients do not count). */
  step: number;
  /** Updates made, skipped ones included: the lr schedule's position. Equal to `step` when absent. */
  stepCalls?: number;
  /** Name, length and shape of each tensor, in tensor order (shape absent in older dicts). */
  tensors: { name: string; length: number; shape?: number[] }[];
  /**
   * How the slots are stored: absent (f32), 'bf16', 'f16' or 'q8'. In a 16-bit dict every slot the
   * format applies to is a Uint16Array of the stored bits, exactly as on the GPU; in a q8 dict it is
   * a Q8Slot (codes and absmax) where the tensor is quantized. The slots that are always f32, such
   * as Schedule-Free's `z`, and those of tensors under minQuantizedElements stay Float32Arrays.
   */
  stateFormat?: Exclude<StateFormat, 'f32'>;
  /** stateFormat 'q8': the block size and the size under which tensors keep f32 state. */
  quantization?: Quantization;
  /**
   * `state[i]` holds tensor i's state slots by their PyTorch names (`exp_avg`, `sum`, …), and any
   * scalar state PyTorch keeps per tensor as a number (NAdam's `mu_product`).
   */
  state: Record<string, Float32Array | Uint16Array | Q8Slot | number>[];
  /** Hyperparameters: `groups[0]` is the default group, then the groups given at creation. */
  options: { groups: (H & { tensors: string[] })[] };
  /** Loss-scaler state (GradScaler's scale and growth tracker), with `lossScaling`. */
  scaler?: { scale: number; growthTracker: number };
  /**
   * Gradients accumulated in an unfinished accumulation cycle, and how many micro-batches they hold.
   * `grads[i]` is null when no micro-batch of the cycle wrote tensor i (PyTorch's `grad` None: the
   * update leaves it untouched unless a later micro-batch writes it).
   */
  accumulation?: { microSteps: number; grads: (Float32Array | null)[] };
  /**
   * Scalar state of the whole set, by the authors' names (Prodigy: `d`, `d_numerator`, `d_max`, `k`,
   * and `d_hat` once a step computed it), for an optimizer that keeps it (its definition's `setState`).
   */
  setState?: Record<string, number>;
  /** Optimizers with train/eval modes (Schedule-Free): which point the parameters held when saved. */
  mode?: 'train' | 'eval';
}

export interface TensorInfo {
  name: string;
  length: number;
  shape?: readonly number[];
}
