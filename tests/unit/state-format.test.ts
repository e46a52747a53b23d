/**
 * The 16-bit state encoders (src/state/state-format.ts, the twin of shaders/state-format.wgsl): round
 * to nearest even checked against an independent float64 computation by value, every one of the
 * 65 536 bit patterns round-tripped, and the kernel source transform.
 */
import { describe, expect, test } from 'vitest';
import { bf16Bits, bf16BitsStochastic, checkStateFormat, f16Bits, f16BitsStochastic, fromBf16Bits, fromF16Bits, fromF32Bits, roundingNoise, roundToFormat, slotCodec } from '../../src/state/state-format.js';
import { createReferenceOptimizer, decodeSafetensors, dequantizeStateDict, fromTorchCheckpoint, stateDictFromJSON, stateDictToJSON, toTorchCheckpoint } from '../../src/index.js';
import { rng } from '../helpers/data.js';

/** The nearest value with `mantissaBits` bits after the point, exponent ≥ `minExponent`, ties to even (float64 arithmetic). */
function nearestByValue(x: number, mantissaBits: number, minExponent: number, overflowAt: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? -1 : 1;
  if (a >= overflowAt) return sign * Infinity;
  if (a === 0) return sign * 0;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (Math.max(e, minExponent) - mantissaBits);
  const q = a / ulp; // exact: a scaling by a power of two
  const floor = Math.floor(q);
  const rest = q - floor;
  const n = rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return sign * n * ulp;
}
const f16ByValue = (x: number) => nearestByValue(x, 10, -14, 65520);
const bf16ByValue = (x: number) => nearestByValue(x, 7, -126, (2 - 2 ** -8) * 2 ** 127);

/** f32 values that probe every branch: random bits, each format's range ends, ties and specials. */
function probes(): number[] {
  const random = rng(11);
  const values = [0, -0, Infinity, -Infinity, NaN, 1, -1, 65504, 65519.99, 65520, 65536, 2 ** -14, 2 ** -24, 2 ** -25, 2 ** -26, 3 * 2 ** -26, 2 ** -149, 2 ** -126, 3.4028234663852886e38];
  // Exact ties: the halfway points between neighbouring values of each format, on both sides of even.
  for (let k = 0; k < 200; k++) {
    const m = 1024 + Math.floor(random() * 1024);
    const e = Math.floor(random() * 40) - 25;
    values.push((m + 0.5) * 2 ** (e - 10), ((m >> 3) + 0.5) * 2 ** (e - 7));
  }
  for (let k = 0; k < 100_000; k++) values.push(fromF32Bits(Math.floor(random() * 2 ** 32)));
  // Concentrated on f16's range and its subnormals.
  for (let k = 0; k < 50_000; k++) values.push((random() < 0.5 ? -1 : 1) * 2 ** (random() * 44 - 30));
  return values.map(Math.fround);
}

describe('round to nearest even, against float64 by value', () => {
  const values = probes();
  test.each([
    ['bf16', bf16Bits, fromBf16Bits, bf16ByValue],
    ['f16', f16Bits, fromF16Bits, f16ByValue],
  ] as const)('%s: %# over 150 000 f32 values', (_name, encode, decode, byValue) => {
    const wrong = values.filter((x) => !Object.is(decode(encode(x)), byValue(x)));
    expect(wrong.slice(0, 5).map((x) => [x, decode(encode(x)), byValue(x)])).toEqual([]);
  });

  test('ties go to even; the overflow boundaries', () => {
    expect(fromF16Bits(f16Bits(1 + 2 ** -11))).toBe(1); // halfway, 1 is even
    expect(fromF16Bits(f16Bits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(fromF16Bits(f16Bits(65519))).toBe(65504);
    expect(fromF16Bits(f16Bits(65520))).toBe(Infinity);
    expect(fromF16Bits(f16Bits(-(2 ** -25)))).toBe(-0);
    expect(fromF16Bits(f16Bits(3 * 2 ** -26))).toBe(2 ** -24);
    expect(fromBf16Bits(bf16Bits(1 + 2 ** -8))).toBe(1);
    expect(fromBf16Bits(bf16Bits(3.4028234663852886e38))).toBe(Infinity);
  });
});

describe('every stored pattern', () => {
  test.each([
    ['bf16', bf16Bits, fromBf16Bits, 0x7fc0],
    ['f16', f16Bits, fromF16Bits, 0x7e00],
  ] as const)('%s: all 65 536 patterns decode exactly and encode back; every NaN to one quiet NaN', (_name, encode, decode, nan) => {
    let nans = 0;
    for (let bits = 0; bits < 65536; bits++) {
      const x = decode(bits);
      if (Number.isNaN(x)) {
        nans++;
        expect(encode(x)).toBe(nan);
      } else if (encode(x) !== bits) {
        throw new Error(`pattern ${bits.toString(16)} → ${x} → ${encode(x).toString(16)}`);
      }
    }
    expect(nans).toBe(2 * (2 ** (_name === 'bf16' ? 7 : 10) - 1)); // both signs, every non-zero mantissa
  });

  test('roundToFormat rounds a range in place and leaves f32 slots alone', () => {
    const values = new Float32Array([1 + 2 ** -9, 1 + 2 ** -9, 1 + 2 ** -9]);
    roundToFormat(slotCodec({}, 'f32'), values);
    roundToFormat(slotCodec({ alwaysF32: true }, 'bf16'), values);
    expect(values[0]).toBe(Math.fround(1 + 2 ** -9));
    roundToFormat(slotCodec({}, 'bf16'), values, 1, 2);
    expect(Array.from(values)).toEqual([Math.fround(1 + 2 ** -9), 1, Math.fround(1 + 2 ** -9)]);
  });

  test('f16 stores slots of squares as their root: small second moments survive, the rest round as f16 of √x', () => {
    const plain = slotCodec({}, 'f16')!;
    const squares = slotCodec({ squared: true }, 'f16')!;
    expect([plain.root, squares.root, slotCodec({ squared: true }, 'bf16')!.root]).toEqual([false, true, false]);
    // Adam's v after one step at |g| = 1e-4 (β₂ = 0.999): 1e-11 is 0 in f16; its root 3.2e-6 is an
    // f16 subnormal (steps of 2^-24), kept to within 2 · 2^-25 / 3.2e-6 ≈ 1 %.
    const v = Math.fround(0.001 * 1e-4 * 1e-4);
    expect(plain.decode(plain.encode(v))).toBe(0);
    expect(Math.abs(squares.decode(squares.encode(v)) / v - 1)).toBeLessThan(0.01);
    // A normal root keeps f16's 11 bits: twice its relative rounding on the square.
    const w = Math.fround(0.37);
    expect(Math.abs(squares.decode(squares.encode(w)) / w - 1)).toBeLessThan(2 * 2 ** -11 + 2 ** -20);
    // Up to 65504² instead of 65504; NaN and Inf kept; a stored root squares back exactly.
    expect(squares.decode(squares.encode(1e9))).toBeCloseTo(1e9, -6);
    expect([squares.decode(squares.encode(NaN)), squares.decode(squares.encode(Infinity))]).toEqual([NaN, Infinity]);
    for (let bits = 0; bits < 0x7c00; bits += 7) expect(squares.encode(squares.decode(bits))).toBe(bits);
  });
});

describe('stochastic rounding', () => {
  // Over every value of the noise bits a format drops, the stored values average to x exactly.
  // [value, noise bits dropped]: 16 for bf16; for f16 13 when normal, 126 − biased exponent below 2^-14.
  test.each([
    ['bf16', bf16BitsStochastic, fromBf16Bits, [[1 + 2 ** -9, 16], [-3.14159, 16], [1e-3, 16], [6.1e30, 16], [2 ** -130, 16]]],
    ['f16', f16BitsStochastic, fromF16Bits, [[1 + 2 ** -12, 13], [-3.14159, 13], [1e-3, 13], [60000, 13], [3e-6, 18], [-2.5e-7, 21], [2 ** -24 * 1.3, 23]]],
  ] as const)('%s: unbiased, exactly, over all noise values', (_name, encode, decode, cases) => {
    for (const [value, noiseBits] of cases) {
      const x = Math.fround(value);
      let sum = 0;
      for (let r = 0; r < 2 ** noiseBits; r++) sum += decode(encode(x, r));
      expect(sum / 2 ** noiseBits, String(x)).toBe(x);
      // Only the two neighbours occur, and nearest rounding gives one of them.
      const seen = new Set(Array.from({ length: 2 ** noiseBits }, (_, r) => encode(x, r)));
      expect(seen.size).toBeLessThanOrEqual(2);
    }
  });

  test('exact values, NaN, ±Inf and ±0 are kept whatever the noise', () => {
    for (const r of [0, 0xffff, 0xffffffff, 0x12345678]) {
      for (const x of [1, -2.5, 0, -0, Infinity, -Infinity, 2 ** -20]) {
        expect(Object.is(fromBf16Bits(bf16BitsStochastic(x, r)), x), `bf16 ${x}`).toBe(true);
        expect(Object.is(fromF16Bits(f16BitsStochastic(x, r)), x), `f16 ${x}`).toBe(true);
      }
      expect(fromF16Bits(f16BitsStochastic(65504, r))).toBe(65504);
      expect(fromBf16Bits(bf16BitsStochastic(NaN, r))).toBeNaN();
      expect(fromF16Bits(f16BitsStochastic(NaN, r))).toBeNaN();
    }
  });

  test('why it exists: a bf16 second moment with β₂ = 0.999 never decays under nearest rounding', () => {
    // v ← 0.999·v + 0.001·g² with g = 0: each step removes 0.1 %, less than half a bf16 step (0.2 %).
    const codec = slotCodec({ squared: true }, 'bf16')!;
    let nearest = 1;
    let stochastic = 1;
    for (let t = 1; t <= 1000; t++) {
      nearest = codec.decode(codec.encode(Math.fround(0.999 * nearest)));
      stochastic = codec.decode(codec.encodeStochastic(Math.fround(0.999 * stochastic), roundingNoise(3, t, 1, 0)));
    }
    expect(nearest).toBe(1);
    expect(Math.abs(stochastic / 0.999 ** 1000 - 1)).toBeLessThan(0.1); // 0.368 expected
  });

  test('the noise: 32 bits that change with the seed, the step, the slot and the element', () => {
    const base = roundingNoise(1, 2, 3, 4);
    expect(Number.isInteger(base) && base >= 0 && base < 2 ** 32).toBe(true);
    expect(new Set([base, roundingNoise(9, 2, 3, 4), roundingNoise(1, 9, 3, 4), roundingNoise(1, 2, 9, 4), roundingNoise(1, 2, 3, 9)]).size).toBe(5);
    // Low 16 bits (what bf16 uses) spread evenly: a chi-square over 16 bins of 64 000 draws.
    const bins = new Array(16).fill(0);
    for (let e = 0; e < 64_000; e++) bins[(roundingNoise(7, 1, 0, e) & 0xffff) >>> 12]++;
    const chi = bins.reduce((sum, n) => sum + (n - 4000) ** 2 / 4000, 0);
    expect(chi).toBeLessThan(37.7); // 15 degrees of freedom, p = 0.001
  });
});

describe('the option', () => {
  test('stateFormat values', () => {
    expect(checkStateFormat(undefined, 'x')).toBe('f32');
    for (const good of ['f32', 'bf16', 'f16', 'q8', 'q4'] as const) expect(checkStateFormat(good, 'x')).toBe(good);
    for (const bad of ['fp16', 'q2', '', 2, null, {}]) expect(() => checkStateFormat(bad, 'createOptimizer')).toThrow(/createOptimizer: stateFormat must be one of 'f32', 'bf16', 'f16', 'q8', 'q4', got/);
  });

});

describe('16-bit state dicts (CPU reference)', () => {
  const make = (stateFormat: 'bf16' | 'f16') => {
    const ref = createReferenceOptimizer('adam', [{ name: 'w', data: Float32Array.from({ length: 50 }, (_, i) => Math.sin(i)), shape: [5, 10] }], { lr: 0.01, stateFormat });
    for (let t = 1; t <= 3; t++) ref.step([Float32Array.from({ length: 50 }, (_, i) => Math.cos(i * t) * 10 ** (-(i % 5)))]);
    return ref;
  };

  test.each(['bf16', 'f16'] as const)('%s: JSON keeps the bits; a PyTorch checkpoint holds the dequantized f32 and loads back to the same bits', (stateFormat) => {
    const ref = make(stateFormat);
    const sd = ref.stateDict();
    const json = stateDictFromJSON(stateDictToJSON(sd));
    expect(json.stateFormat).toBe(stateFormat);
    expect(json.state[0]!.exp_avg_sq).toEqual(sd.state[0]!.exp_avg_sq);
    expect(json.state[0]!.exp_avg_sq).toBeInstanceOf(Uint16Array);
    const file = toTorchCheckpoint(sd);
    const plain = dequantizeStateDict(sd);
    expect(Array.from(decodeSafetensors(file).tensors['state.0.exp_avg_sq']!.data)).toEqual(Array.from(plain.state[0]!.exp_avg_sq as Float32Array));
    const back = fromTorchCheckpoint(file, sd);
    expect(back.stateFormat).toBeUndefined();
    const twin = make(stateFormat);
    twin.loadStateDict(back);
    expect(twin.stateDict().state).toEqual(sd.state);
  });

  test('a bf16 dict loads into an f16 optimizer (and back into f32) as its values rounded to the target', () => {
    const sd = make('bf16').stateDict();
    const plain = dequantizeStateDict(sd).state[0]!;
    const f16 = make('f16');
    f16.loadStateDict(sd);
    for (const slot of ['exp_avg', 'exp_avg_sq']) {
      const codec = slotCodec({ squared: slot === 'exp_avg_sq' }, 'f16')!;
      expect(f16.state[0]![slot], slot).toEqual((plain[slot] as Float32Array).map((x) => codec.decode(codec.encode(x))));
    }
    const f32 = createReferenceOptimizer('adam', [{ name: 'w', data: new Float32Array(50), shape: [5, 10] }], { lr: 0.01 });
    f32.loadStateDict(sd);
    expect(f32.stateDict().state).toEqual(dequantizeStateDict(sd).state);
  });

  test('f16 slots of squares hold the root\'s bits; dequantized, the square', () => {
    const sd = make('f16').stateDict();
    const bits = sd.state[0]!.exp_avg_sq as Uint16Array;
    const plain = dequantizeStateDict(sd).state[0]!.exp_avg_sq as Float32Array;
    bits.forEach((b, i) => expect(plain[i]).toBe(Math.fround(fromF16Bits(b) ** 2)));
    const m = sd.state[0]!.exp_avg as Uint16Array;
    (dequantizeStateDict(sd).state[0]!.exp_avg as Float32Array).forEach((x, i) => expect(x).toBe(fromF16Bits(m[i]!)));
  });
});
