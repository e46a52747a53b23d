/**
 * 4-bit state (stateFormat 'q4'), the pure parts: torchao's maps (their f32 bits as torchao's
 * `create_dynamic_map(True, 3, 4)` and `linspace(0, 1, 17)[1:]` give them in torch 1.13; pytorch/ao
 * @ 36027d82d1ad9949597ea16002ff4940374b1b94, torchao/optim/quant_utils.py), its rounding (nearest,
 * ties up) and least scale, the dict's packing (torchao's: element 2k in the high half) and the
 * kernel's words; on every optimizer q8 takes, the twin's refusals and dicts.
 */
import { describe, expect, test } from 'vitest';
import { CHUNK_ELEMENTS } from '../../src/core/layout.js';
import { decodeQ8, encodeQ4, encodeQ8, packCodes4, Q4_ABSMAX_FLOOR, Q4_MAPS, Q8_MAPS, q8Chunks, quantizePacked, unpackCodes4 } from '../../src/state/q8.js';
import { chunkCodes4, chunkWords4 } from '../../src/state/q8-regions.js';
import type { Q8Slot } from '../../src/state/state-dict.js';
import { createReferenceOptimizer, dequantizeStateDict, fromTorchCheckpoint, stateDictFromJSON, stateDictToJSON, toTorchCheckpoint, TORCH_CLASSES } from '../../src/index.js';
import { BLOCKWISE_MATRIX, OPTION_MATRIX } from '../helpers/cases.js';
import { namedTensors, randomArray, rng } from '../helpers/data.js';
import { recordShaped } from '../helpers/parity.js';
import { TESTED, type TestOptimizerName } from '../helpers/records/index.js';

const bits = (map: Float32Array) => Array.from(new Int32Array(map.buffer, map.byteOffset, map.length));

describe('q4: maps, codes, packing', () => {
  // The expected bits are the output of torchao's create_dynamic_map(True, 3, 4) and of
  // torch.linspace(0, 1, 17)[1:] under torch 1.13, viewed as int32 (not derived from this code).
  test("the maps are torchao's, bit for bit", () => {
    expect(bits(Q4_MAPS.signed)).toEqual([-1084017869, -1087792742, -1092616192, -1101424231, -1113671598, -1123737927, -1145816744, 0, 1001666904, 1023745721, 1033812050, 1046059417, 1054867456, 1059690906, 1063465779, 1065353216]);
    expect(bits(Q4_MAPS.unsigned)).toEqual([1031798784, 1040187392, 1044381696, 1048576000, 1050673152, 1052770304, 1054867456, 1056964608, 1058013184, 1059061760, 1060110336, 1061158912, 1062207488, 1063256064, 1064304640, 1065353216]);
  });

  test('codes: the nearest map value, ties up (q8: down), ±Inf at the ends, NaN and values below the map at 0', () => {
    for (const map of [Q4_MAPS.signed, Q4_MAPS.unsigned]) {
      for (let t = 0; t < 2000; t++) {
        const x = Math.fround(Math.sin(t * 12.9898) * (map === Q4_MAPS.signed ? 1.2 : 0.6) + (map === Q4_MAPS.signed ? 0 : 0.6));
        const code = encodeQ4(map, x, 1);
        const gap = (k: number) => Math.abs(map[k]! - Math.min(1, x));
        for (let k = 0; k < 16; k++) expect(gap(code), `${x}`).toBeLessThanOrEqual(gap(k));
      }
    }
    // 3/32 is halfway between 1/16 and 2/16: torchao rounds it up.
    expect(encodeQ4(Q4_MAPS.unsigned, 3, 32)).toBe(1);
    expect(encodeQ8(Q4_MAPS.unsigned, 3, 32)).toBe(1);
    expect(encodeQ4(Q4_MAPS.unsigned, 0, 1)).toBe(0); // no 0 in the map: 1/16
    expect([encodeQ4(Q4_MAPS.signed, Infinity, Infinity), encodeQ4(Q4_MAPS.signed, -Infinity, Infinity)]).toEqual([15, 0]);
    expect(encodeQ4(Q4_MAPS.signed, 0.3, NaN)).toBe(0);
    expect(encodeQ4(Q4_MAPS.signed, 0, 1)).toBe(7);
    expect(decodeQ8(Q4_MAPS.unsigned, 0, 2)).toBe(0.125);
  });

  test("a run's absmax is at least torchao's 1e-12 (NaN stays NaN); q8's is not floored", () => {
    const placement = { tensors: [{ offset: 0, length: 256 }], paddedLength: 256 };
    const chunks = q8Chunks(placement, { blockSize: 128, minQuantizedElements: 0, codeBits: 4 });
    const values = new Float32Array(256);
    values[200] = NaN;
    expect(Array.from(quantizePacked(values, chunks, Q4_MAPS.unsigned).absmax)).toEqual([Q4_ABSMAX_FLOOR, NaN]);
    expect(Array.from(quantizePacked(values, chunks, Q8_MAPS.unsigned).absmax)).toEqual([0, NaN]);
  });

  test("dict codes: two per byte as torchao packs them (codes[::2] << 4 | codes[1::2]), an odd last code in the high half", () => {
    expect(Array.from(packCodes4(Uint8Array.from([1, 2, 3])))).toEqual([0x12, 0x30]);
    const codes = Uint8Array.from({ length: 1001 }, (_, e) => (e * 7) % 16);
    expect(unpackCodes4(packCodes4(codes), 1001)).toEqual(codes);
  });

  test("the kernel's words: vec4 j of a chunk in the 16 bits from 16·(j ÷ 8) of word j mod 8, element e of it at nibble e", () => {
    const codes = Uint8Array.from({ length: CHUNK_ELEMENTS }, (_, e) => (e * 5 + 3) % 16);
    const words = chunkWords4(codes);
    expect(words.length).toBe(8);
    // Element 38 = vec4 9, element 2: word 1, bits 16 + 8.
    expect((words[1]! >>> 24) & 15).toBe(codes[38]);
    // Element 5 = vec4 1, element 1: word 1, bits 4.
    expect((words[1]! >>> 4) & 15).toBe(codes[5]);
    expect(chunkCodes4(words)).toEqual(codes);
  });
});

/** The message of creating `name`'s twin with these options, or 'created'; the format's name made neutral. */
function creation(name: TestOptimizerName, row: object, format: 'q4' | 'q8'): string {
  try {
    createReferenceOptimizer(name as 'adam', recordShaped(name, namedTensors([70, 5000], 1)), { ...row, stateFormat: format } as never);
    return 'created';
  } catch (error) {
    return (error as Error).message.replaceAll(`"${format}"`, '"FORMAT"').replaceAll(`'${format}'`, "'FORMAT'");
  }
}

describe('q4 on every optimizer q8 takes (the CPU twin; the GPU suite: tests/gpu/q4.test.ts)', () => {
  test('refused exactly where q8 is, for the same reason, over every row of every option matrix', () => {
    const outcomes = TESTED.flatMap((name) => (OPTION_MATRIX[name] as readonly object[]).map((row) => [name, row, creation(name, row, 'q4'), creation(name, row, 'q8')] as const));
    for (const [name, row, q4, q8] of outcomes) expect(q4, `${name} ${JSON.stringify(row)}`).toBe(q8);
    // Both kinds occur: cautious rows, Muon, Prodigy and Adafactor are refused, the rest created.
    const refused = new Set(outcomes.filter(([, , q4]) => q4 !== 'created').map(([name]) => name));
    expect([...refused].sort()).toEqual(['adafactor', 'adam', 'adamw', 'lion', 'muon', 'prodigy'].filter((n) => TESTED.includes(n as TestOptimizerName)));
    expect(new Set(BLOCKWISE_MATRIX.map(([name]) => name)).size).toBeGreaterThanOrEqual(15);
  });

  /** The first row of a matrix whose optimizer keeps per-element state (SGD: with momentum). */
  const rowWithState = (name: TestOptimizerName, matrix: readonly object[]) =>
    matrix.find((row) => Object.values(createReferenceOptimizer(name as 'adam', recordShaped(name, namedTensors([8], 1)), row as never).stateDict().state[0]!).some((v) => v instanceof Float32Array))!;
  test.each(BLOCKWISE_MATRIX.map(([name, matrix]) => [name, rowWithState(name, matrix)] as const))('%s %j: the dict (codes two per byte, absmax) through JSON bit for bit, the next step equal; dequantized; a PyTorch checkpoint holds the decoded f32 values', (name, row) => {
    const tensors = recordShaped(name, namedTensors([5001, 100, 1000], 3));
    const options = { ...row, stateFormat: 'q4', quantization: { minQuantizedElements: 1000 } } as never;
    const copy = () => tensors.map((t) => ({ ...t, data: t.data.slice() }));
    const grads = (s: number) => tensors.map((t, i) => randomArray(t.data.length, rng(s * 100 + i)));
    const a = createReferenceOptimizer(name as 'adam', copy(), options);
    for (let s = 1; s <= 3; s++) a.step(grads(s));
    const sd = a.stateDict();
    expect([sd.stateFormat, sd.quantization]).toEqual(['q4', { blockSize: 128, minQuantizedElements: 1000 }]);
    const quantized = Object.entries(sd.state[0]!).filter(([, v]) => v && typeof v === 'object' && 'codes' in v);
    expect(quantized.length).toBeGreaterThan(0);
    for (const [, v] of quantized) expect([(v as Q8Slot).codes.length, (v as Q8Slot).absmax.length]).toEqual([2501, 40]);
    for (const v of Object.values(sd.state[1]!)) if (typeof v !== 'number') expect(v).toBeInstanceOf(Float32Array);

    const b = createReferenceOptimizer(name as 'adam', a.params.map((p, i) => ({ ...tensors[i]!, data: p.slice() })), options);
    b.loadStateDict(stateDictFromJSON(stateDictToJSON(sd)));
    expect(b.stateDict().state).toEqual(sd.state);
    const plain = a.stateDict({ dequantize: true });
    expect(dequantizeStateDict(sd).state).toEqual(plain.state);
    if (Object.hasOwn(TORCH_CLASSES, name)) {
      const f32 = createReferenceOptimizer(name as 'adam', copy(), row as never);
      expect(fromTorchCheckpoint(toTorchCheckpoint(sd), f32.stateDict()).state).toEqual(plain.state);
    }
    a.step(grads(9));
    b.step(grads(9));
    expect(b.stateDict().state).toEqual(a.stateDict().state);
    expect(b.params).toEqual(a.params);
  });
});

describe("q4 and PyTorch's step rule", () => {
  // Its tiles leave a tensor without gradient as it was (tests/gpu/step-rule.test.ts runs the GPU).
  test("a tensor without gradient keeps its codes, absmax and parameters; the other steps as alone", () => {
    const ref = createReferenceOptimizer('adam', namedTensors([5000, 4500], 5), { lr: 0.1, stateFormat: 'q4' });
    const alone = createReferenceOptimizer('adam', namedTensors([5000], 5), { lr: 0.1, stateFormat: 'q4' });
    const g = randomArray(5000, rng(1));
    ref.step([g, randomArray(4500, rng(2))]);
    alone.step([g]);
    const before = { param: ref.params[1]!.slice(), state: ref.stateDict().state[1] };
    const g2 = randomArray(5000, rng(3));
    ref.step([g2, null]);
    alone.step([g2]);
    expect(ref.params[1]).toEqual(before.param);
    expect(ref.stateDict().state[1]).toEqual({ ...before.state, step: 1 });
    expect(ref.params[0]).toEqual(alone.params[0]);
    const { step, ...stepped } = ref.stateDict().state[0]!;
    expect(step).toBe(2);
    expect(stepped).toEqual(alone.stateDict().state[0]);
  });
});
