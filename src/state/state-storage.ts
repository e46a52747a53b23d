/**
 * How an optimizer stores its state, tensor by tensor: why `stateBytes` is what it is. Under
 * stateFormat 'q8', tensors with fewer than `minQuantizedElements` elements keep f32 state (as
 * bitsandbytes' min_8bit_size), so a model of small tensors gets no saving at all; this says so
 * instead of leaving a q8 figure equal to f32's unexplained.
 */
import { isQuantizedTensor, type Quantization } from './q8.js';
import { isBlockwise, type StateFormat } from './state-format.js';

/** Where an optimizer's state bytes go (`Optimizer.stateStorage`). */
export interface StateStorage {
  /** The optimizer's `stateFormat`. */
  readonly format: StateFormat;
  /**
   * Names of the tensors whose per-element slots take fewer bytes than f32: every tensor under
   * 'bf16' and 'f16'; under 'q8', those of `minQuantizedElements` elements or more; none under 'f32'.
   * (A slot the format keeps in f32 whatever the size, docs/state-formats.md, is not told apart.)
   */
  readonly compactTensors: readonly string[];
  /** Names of the tensors whose state is f32: every tensor under 'f32'; under 'q8', the small ones. */
  readonly f32Tensors: readonly string[];
  /** stateFormat 'q8': tensors with fewer elements keep f32 state. */
  readonly minQuantizedElements?: number;
  /**
   * A sentence where the format saves less than its name says: a 'q8' optimizer with tensors under
   * `minQuantizedElements` (none quantized: `stateBytes` equals f32's). Undefined otherwise.
   */
  readonly note?: string;
}

/** Names cut to the first `max`, with how many more. */
function someNames(names: readonly string[], max = 3): string {
  const shown = names.slice(0, max).map((n) => `"${n}"`).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

function q8Note(format: StateFormat, compact: readonly string[], f32: readonly string[], threshold: number): string | undefined {
  if (f32.length === 0) return undefined;
  const why = `fewer than minQuantizedElements (${threshold}) elements`;
  const fix = 'a smaller quantization.minQuantizedElements quantizes them';
  if (compact.length === 0) {
    return `stateFormat '${format}' quantizes none of the ${f32.length} tensors: each has ${why}, so all state stays f32 and stateBytes equals f32's (${fix})`;
  }
  return `${f32.length} of ${f32.length + compact.length} tensors (${someNames(f32)}) have ${why} and keep f32 state (${fix})`;
}

/** The storage of an optimizer over `tensors` in `format` (`quantization`: q8's, resolved). */
export function stateStorage(tensors: readonly { name: string; length: number }[], format: StateFormat, quantization?: Quantization): StateStorage {
  if (format === 'f32') return Object.freeze({ format, compactTensors: [], f32Tensors: tensors.map((t) => t.name) });
  if (!isBlockwise(format) || quantization === undefined) return Object.freeze({ format, compactTensors: tensors.map((t) => t.name), f32Tensors: [] });
  const compact = tensors.filter((t) => isQuantizedTensor(t.length, quantization)).map((t) => t.name);
  const f32 = tensors.filter((t) => !isQuantizedTensor(t.length, quantization)).map((t) => t.name);
  const note = q8Note(format, compact, f32, quantization.minQuantizedElements);
  return Object.freeze({ format, compactTensors: compact, f32Tensors: f32, minQuantizedElements: quantization.minQuantizedElements, ...(note ? { note } : {}) });
}
