/**
 * `step()`'s options, checked in full before anything is recorded or counted: WebGPU's own checks
 * of `timestampWrites` come from `beginComputePass`, after the control pass (loss scaler, device
 * step) is already in the caller's encoder, or asynchronously as a validation error.
 */
import { checkOptionsObject } from '../core/config.js';
import { describeValue } from '../core/describe-value.js';

const STEP_OPTIONS = ['timestampWrites'];
const TIMESTAMP_WRITES_KEYS = ['querySet', 'beginningOfPassWriteIndex', 'endOfPassWriteIndex'] as const;

/** Throws unless `options` is undefined or `{ timestampWrites? }` with a usable `timestampWrites`. */
export function checkStepOptions(options: unknown, what: string): void {
  if (options === undefined) return;
  checkOptionsObject(options, `${what} options`);
  for (const key of Object.keys(options as object)) {
    if (!STEP_OPTIONS.includes(key)) throw new Error(`webgpu-optim: ${what}: unknown step option "${key}"; known: ${STEP_OPTIONS.join(', ')}`);
  }
  const { timestampWrites } = options as { timestampWrites?: unknown };
  if (timestampWrites !== undefined) checkTimestampWrites(timestampWrites, `${what}: timestampWrites`);
}

function checkTimestampWrites(value: unknown, what: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`webgpu-optim: ${what} must be an object { querySet, beginningOfPassWriteIndex?, endOfPassWriteIndex? }, got ${describeValue(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!(TIMESTAMP_WRITES_KEYS as readonly string[]).includes(key)) {
      throw new Error(`webgpu-optim: ${what}: unknown timestampWrites key "${key}"; known: ${TIMESTAMP_WRITES_KEYS.join(', ')}`);
    }
  }
  const { querySet, beginningOfPassWriteIndex: begin, endOfPassWriteIndex: end } = value as Record<string, unknown>;
  const QuerySet = (globalThis as { GPUQuerySet?: abstract new () => GPUQuerySet }).GPUQuerySet;
  const looksLikeOne = querySet !== null && typeof querySet === 'object' && typeof (querySet as GPUQuerySet).count === 'number' && typeof (querySet as GPUQuerySet).type === 'string';
  if (!looksLikeOne || (QuerySet && !(querySet instanceof QuerySet))) {
    throw new TypeError(`webgpu-optim: ${what}.querySet must be a GPUQuerySet, got ${describeValue(querySet)}`);
  }
  const { type, count } = querySet as GPUQuerySet;
  if (type !== 'timestamp') throw new Error(`webgpu-optim: ${what}.querySet is of type "${type}", not "timestamp"`);
  if (begin === undefined && end === undefined) throw new Error(`webgpu-optim: ${what} needs beginningOfPassWriteIndex or endOfPassWriteIndex`);
  for (const [key, index] of [['beginningOfPassWriteIndex', begin], ['endOfPassWriteIndex', end]] as const) {
    if (index !== undefined && (!Number.isSafeInteger(index) || (index as number) < 0 || (index as number) >= count)) {
      throw new RangeError(`webgpu-optim: ${what}.${key} ${describeValue(index)} must be an integer in [0, ${count - 1}] (the query set holds ${count})`);
    }
  }
  if (begin !== undefined && begin === end) throw new Error(`webgpu-optim: ${what}: beginningOfPassWriteIndex and endOfPassWriteIndex are both ${String(begin)}; they must differ`);
}
