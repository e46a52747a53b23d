/**
 * dequantizeStateDict and toTorchCheckpoint check a dict as a load does before they decode it: a
 * slot of the wrong type or length, a missing quantization or an unknown format is refused with an
 * error naming the call and the slot, and the dict is left as it was (nothing is truncated, no NaN
 * is made from a missing absmax).
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, decodeSafetensors, dequantizeStateDict, fromTorchCheckpoint, stateDictToJSON, toTorchCheckpoint } from '../../src/index.js';
import { decodeQ8, Q8_MAPS } from '../../src/state/q8.js';

/** A dict these tests spoil on purpose (any field, any type). */
type Dict = any;

/** Adam with q8 state after two steps: `w` (5000 elements, 20 blocks of 256) is quantized, `b` (10) keeps f32 state. */
function q8Dict(): Dict {
  const arrays = [
    { name: 'w', data: Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i)), shape: [50, 100] },
    { name: 'b', data: new Float32Array(10).fill(0.5) },
  ];
  const opt = createReferenceOptimizer('adam', arrays, { lr: 0.01, stateFormat: 'q8' });
  for (let s = 1; s <= 2; s++) opt.step([Float32Array.from({ length: 5000 }, (_, i) => Math.cos(i * s)), new Float32Array(10).fill(s)]);
  return opt.stateDict();
}

function bf16Dict(): Dict {
  const opt = createReferenceOptimizer('adam', [new Float32Array(10)], { stateFormat: 'bf16' });
  opt.step([new Float32Array(10).fill(1)]);
  return opt.stateDict();
}

function f32Dict(): Dict {
  const opt = createReferenceOptimizer('adam', [new Float32Array(10)], {});
  opt.step([new Float32Array(10).fill(1)]);
  return opt.stateDict();
}

/** What a refused 8-bit slot of `w`'s exp_avg is told. */
const q8Slot = "state[0].exp_avg must be { codes: Uint8Array of length 5000, absmax: Float32Array of length 20 } (stateFormat 'q8', blocks of 256)";

/** A deep copy (typed arrays included) to change. */
const copy = (sd: Dict): Dict => structuredClone(sd);

describe('dequantizeStateDict', () => {
  test('decodes every 8-bit slot (code × its block absmax) and keeps f32 side state; an f32 dict comes back as it is', () => {
    const sd = q8Dict();
    const plain = dequantizeStateDict(sd);
    expect(plain.stateFormat).toBeUndefined();
    expect(plain.quantization).toBeUndefined();
    const { codes, absmax } = sd.state[0]!.exp_avg as { codes: Uint8Array; absmax: Float32Array };
    const m = plain.state[0]!.exp_avg as Float32Array;
    expect(m).toHaveLength(5000);
    m.forEach((x, e) => expect(x).toBe(decodeQ8(Q8_MAPS.signed, codes[e]!, absmax[Math.floor(e / 256)]!)));
    expect(m.some((x) => x !== 0)).toBe(true);
    expect(plain.state[1]!.exp_avg_sq).toBe(sd.state[1]!.exp_avg_sq);
    const f32 = f32Dict();
    expect(dequantizeStateDict(f32)).toBe(f32);
  });

  const cases: [string, () => Dict, (d: Dict) => void, string][] = [
    ['codes cut short', q8Dict, (d) => (d.state[0].exp_avg.codes = d.state[0].exp_avg.codes.slice(0, 10)), q8Slot],
    ['an absmax missing', q8Dict, (d) => (d.state[0].exp_avg.absmax = d.state[0].exp_avg.absmax.slice(0, 19)), q8Slot],
    ['an f32 array where codes belong', q8Dict, (d) => (d.state[0].exp_avg = new Float32Array(5000)), q8Slot],
    ['side state of the wrong length', q8Dict, (d) => (d.state[1].exp_avg_sq = new Float32Array(9)), 'state[1].exp_avg_sq must be a Float32Array of length 10'],
    ['no quantization', q8Dict, (d) => delete d.quantization, "stateFormat 'q8' needs its quantization"],
    ['a block size out of range', q8Dict, (d) => (d.quantization.blockSize = 100), 'quantization.blockSize must be a power of two in [64, 4096], got 100'],
    ['an unknown format', q8Dict, (d) => (d.stateFormat = 'q2'), 'stateFormat must be one of'],
    ['a quantization without q8', bf16Dict, (d) => (d.quantization = { blockSize: 256, minQuantizedElements: 0 }), 'it has a quantization but stateFormat "bf16"'],
    ['16-bit bits cut short', bf16Dict, (d) => (d.state[0].exp_avg = d.state[0].exp_avg.slice(0, 3)), 'state[0].exp_avg must be a Uint16Array of length 10 (the bf16 bits of stateFormat "bf16")'],
    ['a slot missing', bf16Dict, (d) => delete d.state[0].exp_avg, 'tensor "0" has slots [exp_avg_sq], expected [exp_avg,exp_avg_sq]'],
    ['an unknown optimizer', q8Dict, (d) => (d.optimizer = 'adamz'), 'unknown optimizer "adamz"'],
    ['a tensor without a length', q8Dict, (d) => (d.tensors[1].length = -1), 'tensor 1 must have a name and a length'],
    ['a shape that does not hold the tensor', q8Dict, (d) => (d.tensors[0].shape = [50, 99]), 'tensor 0 ("w") has shape [50,99], which does not hold its 5000 values'],
    ['a step that is not a count', q8Dict, (d) => (d.step = 1.5), 'step 1.5 is not a count'],
    ['no groups', q8Dict, (d) => (d.options.groups = []), 'options.groups is missing'],
    ['a group option out of range', q8Dict, (d) => (d.options.groups[0].lr = -1), 'options.groups: '],
  ];
  test.each(cases)('refuses %s, naming the call, and leaves the dict as it was', (_, make, spoil, message) => {
    const sd = copy(make());
    spoil(sd);
    const before = stateDictToJSON(sd);
    expect(() => dequantizeStateDict(sd)).toThrow(`webgpu-optim: dequantizeStateDict: `);
    expect(() => dequantizeStateDict(sd)).toThrow(message);
    expect(stateDictToJSON(sd)).toBe(before);
  });

  test('refuses what is not a dict', () => {
    for (const value of [null, undefined, 3, 'adam', []]) {
      expect(() => dequantizeStateDict(value as never)).toThrow('webgpu-optim: dequantizeStateDict: the state dict must be an object');
    }
  });

  test('the spoiled dicts were valid before they were spoiled (each case checks what it names)', () => {
    for (const [, make] of cases) expect(() => dequantizeStateDict(copy(make()))).not.toThrow();
  });
});

describe('toTorchCheckpoint', () => {
  test('refuses a spoiled 8-bit, 16-bit or f32 dict before writing anything, naming itself and the slot', () => {
    const q8 = copy(q8Dict());
    q8.state[0].exp_avg.absmax = q8.state[0].exp_avg.absmax.slice(0, 1);
    expect(() => toTorchCheckpoint(q8)).toThrow(`webgpu-optim: toTorchCheckpoint: ${q8Slot}`);
    const bf16 = copy(bf16Dict());
    bf16.state[0].exp_avg_sq = new Uint16Array(11);
    expect(() => toTorchCheckpoint(bf16)).toThrow('webgpu-optim: toTorchCheckpoint: state[0].exp_avg_sq must be a Uint16Array of length 10');
    const f32 = copy(f32Dict());
    f32.state[0].exp_avg = f32.state[0].exp_avg.slice(0, 3);
    expect(() => toTorchCheckpoint(f32)).toThrow('webgpu-optim: toTorchCheckpoint: state[0].exp_avg must be a Float32Array of length 10');
  });

  test('writes an 8-bit dict as its decoded f32 state', () => {
    const sd = q8Dict();
    expect(toTorchCheckpoint(sd)).toEqual(toTorchCheckpoint(dequantizeStateDict(sd)));
  });

  test('a q8 optimizer reads its own checkpoint back: the file holds the decoded state, which the load quantizes again', () => {
    const sd = q8Dict();
    const file = toTorchCheckpoint(sd);
    const q8 = createReferenceOptimizer('adam', [{ name: 'w', data: new Float32Array(5000), shape: [50, 100] }, { name: 'b', data: new Float32Array(10) }], { lr: 0.01, stateFormat: 'q8' });
    const back = fromTorchCheckpoint(file, q8.stateDict());
    expect(back.stateFormat).toBeUndefined();
    expect(back.quantization).toBeUndefined();
    q8.loadStateDict(back);
    const loaded = q8.stateDict();
    expect(loaded.step).toBe(2);
    const fileValues = decodeSafetensors(file).tensors['state.0.exp_avg']!.data;
    const again = dequantizeStateDict(loaded).state[0]!.exp_avg as Float32Array;
    const { absmax } = loaded.state[0]!.exp_avg as { absmax: Float32Array };
    // Within half the map's widest relative gap (0.9 / 64 near ±1) of each block's absmax.
    again.forEach((x, e) => expect(Math.abs(x - fileValues[e]!)).toBeLessThanOrEqual(0.0071 * absmax[Math.floor(e / 256)]!));
    expect(again.some((x) => x !== 0)).toBe(true);
    const f32 = createReferenceOptimizer('adam', [{ name: 'w', data: new Float32Array(5000), shape: [50, 100] }, { name: 'b', data: new Float32Array(10) }], { lr: 0.01 });
    f32.loadStateDict(fromTorchCheckpoint(file, f32.stateDict()));
    expect(f32.stateDict().state[0]!.exp_avg).toEqual(fileValues);
  });
});
