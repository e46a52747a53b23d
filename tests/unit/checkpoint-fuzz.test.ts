/**
 * Property-based tests of the file readers (fast-check): valid files, mutated at random — bytes,
 * header length, header fields, offsets, shapes, dtypes, names (`__proto__`, `constructor`, …),
 * metadata JSON, param_groups, scalars — must either be refused with a plain `webgpu-optim:` Error
 * or load exactly what the file holds. Never a raw TypeError, RangeError or SyntaxError, never a
 * value the file does not hold, never a changed Object.prototype, and no hang (each property has a
 * time limit). Seeded: a failure prints the seed and the shrunk counterexample.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeSafetensors, encodeSafetensors, fromTorchCheckpoint, stateDictFromJSON, stateDictToJSON, toTorchCheckpoint, type OptimizerStateDict } from '../../src/index.js';
import { rawFile, splitFile, trained } from '../helpers/checkpoint-files.js';

const SEED = 20261207;
const RUNS = 300;
/** Each property's time limit: a hang fails the test (the inputs are a few KiB each), a slow machine does not. */
const PROPERTY_TIMEOUT_MS = 60_000;
const settings = { seed: SEED, numRuns: RUNS };

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join();
const NASTY_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', '__metadata__', '', 'state.0.exp_avg', 'state.1.exp_avg', 'state.2.exp_avg', 'state.01.exp_avg', 'state.1.momentum_buffer', 'state.1.exp_avg.x'];
const nastyName = fc.oneof(fc.constantFrom(...NASTY_NAMES), fc.string({ maxLength: 8 }));
/** Values a careless or hostile writer puts in a numeric field. */
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, -6, -1, 0, 1, 2, 3, 4, 6, 2.5, 0.5, 1e15, 2 ** 53, 1e300, '6', '3', null, true, [], {}, [0.5], [-1], [1e15], [3, 2], [2, 3], [6], [0, 24], [0, 0.5], [8, 24]),
  fc.jsonValue({ maxDepth: 2 }),
  fc.array(fc.oneof(fc.integer({ min: -2, max: 48 }), fc.double(), fc.constant(null)), { maxLength: 3 }),
);

/** Sets `key` as a plain own property, even `__proto__`. */
function put(object: Record<string, unknown>, key: string, value: unknown): void {
  if (object === null || typeof object !== 'object' || (Array.isArray(object) && key === 'length')) return;
  Object.defineProperty(object, key, { value, enumerable: true, configurable: true, writable: true });
}

/** How many reads each property saw accepted and refused: a property that only ever saw one of them would prove little. */
const seen = { accepted: 0, refused: 0 };
function expectBothOutcomes(run: () => void): void {
  seen.accepted = seen.refused = 0;
  run();
  expect(seen.accepted, 'files accepted').toBeGreaterThan(0);
  expect(seen.refused, 'files refused').toBeGreaterThan(0);
}

/** Runs `read`; a refusal must be a plain Error of the library, and nothing may reach Object.prototype. */
function outcome<T>(read: () => T): { ok: true; value: T } | { ok: false } {
  try {
    const value = read();
    seen.accepted++;
    return { ok: true, value };
  } catch (error) {
    seen.refused++;
    expect((error as Error).constructor, String(error)).toBe(Error);
    expect((error as Error).message).toMatch(/^webgpu-optim: /);
    return { ok: false };
  } finally {
    expect(Object.getOwnPropertyNames(Object.prototype).sort().join()).toBe(PROTOTYPE_KEYS);
  }
}

/** What a reader that accepted `file` must have returned: every header tensor, its shape, and exactly its bytes. */
function expectExactRead(file: Uint8Array, content: ReturnType<typeof decodeSafetensors>): void {
  expect(Object.getPrototypeOf(content.tensors)).toBeNull();
  expect(Object.getPrototypeOf(content.metadata)).toBeNull();
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) as Record<string, any>;
  const names = Object.keys(header).filter((n) => n !== '__metadata__');
  expect(Object.keys(content.tensors).sort()).toEqual(names.sort());
  let bytes = 0;
  for (const name of names) {
    const entry = header[name];
    const tensor = content.tensors[name]!;
    expect(tensor.shape).toEqual(entry.shape);
    expect(tensor.shape.reduce((a: number, b: number) => a * b, 1)).toBe(tensor.data.length);
    const [begin, end] = entry.data_offsets;
    expect(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)).toEqual(file.subarray(8 + length + begin, 8 + length + end));
    bytes += end - begin;
  }
  expect(8 + length + bytes).toBe(file.length);
  expect({ ...content.metadata }).toEqual({ ...(header.__metadata__ ?? {}) });
}

/** A valid file: up to 4 tensors (names include __proto__ and constructor), small shapes, any float32 values, string metadata. */
const validFile = fc
  .record({
    tensors: fc.uniqueArray(fc.record({ name: nastyName.filter((n) => n !== '' && n !== '__metadata__'), shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }) }), { selector: (t) => t.name, maxLength: 4 }),
    metadata: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
    values: fc.array(fc.float(), { minLength: 27, maxLength: 27 }),
  })
  .map(({ tensors, metadata, values }) => {
    const record: Record<string, { shape: number[]; data: Float32Array }> = Object.create(null);
    for (const { name, shape } of tensors) put(record, name, { shape, data: Float32Array.from(values.slice(0, shape.reduce((a, b) => a * b, 1))) });
    return encodeSafetensors({ tensors: record, metadata });
  });

/** One change to a file's bytes: overwrite bytes, cut, extend, or claim another header length. */
const byteMutation = fc.oneof(
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((edits) => (f: Uint8Array) => {
    const out = f.slice();
    for (const [at, value] of edits) out[at % out.length] = value;
    return out;
  }),
  fc.nat().map((n) => (f: Uint8Array) => f.slice(0, n % (f.length + 1))),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((extra) => (f: Uint8Array) => Uint8Array.from([...f, ...extra])),
  fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: -16, max: 16 }).map((d) => BigInt(d))).map((claim) => (f: Uint8Array) => {
    const out = f.slice();
    const view = new DataView(out.buffer);
    const length = view.getBigUint64(0, true);
    view.setBigUint64(0, claim >= 0n && claim <= 16n ? BigInt.asUintN(64, length + claim - 8n) : claim, true);
    return out;
  }),
);

/** One change to a parsed header: a field of an entry, an entry's name, the metadata, or the whole entry. */
const headerMutation = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra'), nastyValue).map(([k, field, value]) => (h: Record<string, any>) => {
    const names = Object.keys(h).filter((n) => n !== '__metadata__');
    if (names.length) put(h[names[k % names.length]!], field, field === 'dtype' && typeof value === 'boolean' ? 'F16' : value);
  }),
  fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets')).map(([k, field]) => (h: Record<string, any>) => {
    const names = Object.keys(h).filter((n) => n !== '__metadata__');
    const entry = names.length ? h[names[k % names.length]!] : undefined;
    if (entry !== null && typeof entry === 'object') delete entry[field];
  }),
  fc.tuple(fc.nat(), nastyName).map(([k, name]) => (h: Record<string, any>) => {
    const names = Object.keys(h);
    if (!names.length) return;
    const from = names[k % names.length]!;
    const entry = h[from];
    delete h[from];
    put(h, name, entry);
  }),
  fc.tuple(fc.nat(), nastyValue).map(([k, value]) => (h: Record<string, any>) => {
    const names = Object.keys(h);
    put(h, names.length ? names[k % names.length]! : '__metadata__', value);
  }),
);

/** A mutated file is refused clearly (outcome) or read as exactly what its bytes hold. */
function refusedOrReadExactly(file: Uint8Array): void {
  const read = outcome(() => decodeSafetensors(file));
  if (read.ok) expectExactRead(file, read.value);
}

describe('safetensors reader, fuzzed', { timeout: PROPERTY_TIMEOUT_MS }, () => {
  test('valid files read back exactly', () => {
    fc.assert(
      fc.property(validFile, (file) => {
        const read = outcome(() => decodeSafetensors(file));
        expect(read.ok).toBe(true);
        if (read.ok) expectExactRead(file, read.value);
      }),
      settings,
    );
  });

  test('mutated bytes and header lengths: a clear refusal or an exact read', () => {
    expectBothOutcomes(() =>
      fc.assert(
        fc.property(validFile, byteMutation, (file, mutate) => {
          const changed = mutate(file);
          refusedOrReadExactly(changed);
        }),
        settings,
      ),
    );
  });

  test('mutated header fields, names, offsets, shapes, dtypes and metadata: a clear refusal or an exact read', () => {
    expectBothOutcomes(() =>
      fc.assert(
        fc.property(validFile, fc.array(headerMutation, { minLength: 1, maxLength: 3 }), (file, mutations) => {
          const { header, data } = splitFile(file);
          for (const mutate of mutations) mutate(header);
          const changed = rawFile(header, data);
          refusedOrReadExactly(changed);
        }),
        settings,
      ),
    );
  });

  test('mutated header text (NaN, cuts, stray characters): a clear refusal or an exact read', () => {
    expectBothOutcomes(() =>
      fc.assert(
        fc.property(validFile, fc.nat(), fc.constantFrom('NaN', 'Infinity', '-Infinity', ',', '{', '}', '"', '\\', '\u0000', ' ', '"a":1,', '\uFEFF'), (file, at, insert) => {
          const length = Number(new DataView(file.buffer).getBigUint64(0, true));
          const text = new TextDecoder().decode(file.subarray(8, 8 + length));
          const i = at % (text.length + 1);
          const changed = rawFile(text.slice(0, i) + insert + text.slice(i), file.slice(8 + length));
          refusedOrReadExactly(changed);
        }),
        settings,
      ),
    );
  });
});

/** The base files: Adam (3 steps) and SGD with momentum (2 steps), over a [5] and a [2, 3] tensor in two groups. */
const BASES = (['adam', 'sgd'] as const).map((name) => ({ name, file: toTorchCheckpoint(trained(name, name === 'adam' ? 3 : 2).stateDict()), like: trained(name, 0).stateDict() }));

/** One change to a JSON metadata value: a key of an element set to a nasty value or removed, or the whole value replaced. */
function jsonMutation(keys: readonly string[], innerKeys: readonly string[]) {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...innerKeys), fc.option(nastyValue, { nil: undefined })).map(([key, inner, value]) => (json: any) => {
      const target = json?.[key];
      if (target === null || typeof target !== 'object') return json;
      if (value === undefined) delete target[inner];
      else put(target, inner, value);
      return json;
    }),
    fc.tuple(fc.constantFrom(...keys), nastyValue).map(([key, value]) => (json: any) => {
      if (json !== null && typeof json === 'object') put(json, key, value);
      return json;
    }),
    nastyValue.map((value) => () => value),
  );
}
const GROUP_KEYS = ['params', 'param_names', 'lr', 'betas', 'eps', 'weight_decay', 'amsgrad', 'momentum', 'nesterov', 'dampening', 'maximize', 'foreach', '__proto__', 'constructor'];
const paramGroupsMutation = jsonMutation(['0', '1', '2'], GROUP_KEYS);
const scalarsMutation = jsonMutation(['0', '1', '2', '00', '-1', '__proto__'], ['step', 'mu_product', 'x', '__proto__']);

/** `text`'s JSON changed by `m` (text another mutation already broke stays as it is). */
function jsonEdit(text: string, m: (json: unknown) => unknown): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text;
  }
  return JSON.stringify(m(json)) ?? text;
}

/** One change to an optimizer checkpoint: its param_groups, its scalars, a tensor's shape or name, or its metadata's text. */
const checkpointMutation = fc.oneof(
  paramGroupsMutation.map((m) => ({ key: 'param_groups', edit: (text: string) => jsonEdit(text, m) })),
  scalarsMutation.map((m) => ({ key: 'scalars', edit: (text: string) => jsonEdit(text, m) })),
  fc.tuple(fc.constantFrom('param_groups', 'scalars', 'format', 'version', 'optimizer'), fc.nat(), fc.constantFrom('NaN', '-Infinity', ',', ']', '}', '"', '1', '{"', '')).map(([key, at, insert]) => ({
    key,
    edit: (text: string) => text.slice(0, at % (text.length + 1)) + insert + text.slice((at % (text.length + 1)) + (insert === '' ? 1 : 0)),
  })),
  fc.tuple(fc.nat(), fc.constantFrom<number[]>([3, 2], [2, 3], [6], [5], [1, 6], [6, 1], [1, 5], [5, 1], [2, 1, 3])).map(([k, shape]) => ({
    header: (h: Record<string, any>) => {
      const names = Object.keys(h).filter((n) => n !== '__metadata__');
      if (names.length && h[names[k % names.length]!].shape.reduce((a: number, b: number) => a * b, 1) === shape.reduce((a, b) => a * b, 1)) h[names[k % names.length]!].shape = shape;
    },
  })),
  fc.tuple(fc.nat(), nastyName).map(([k, name]) => ({
    header: (h: Record<string, any>) => {
      const names = Object.keys(h).filter((n) => n !== '__metadata__');
      if (!names.length || name === '' || name === '__metadata__') return;
      const entry = h[names[k % names.length]!];
      delete h[names[k % names.length]!];
      put(h, name, entry);
    },
  })),
);

/** What a reader that accepted an optimizer checkpoint must have returned: the file's state, its one step, its hyperparameters. */
function expectExactLoad(file: Uint8Array, like: OptimizerStateDict<any>, sd: OptimizerStateDict<any>): void {
  const { tensors, metadata } = decodeSafetensors(file);
  const groups = JSON.parse(metadata.param_groups!);
  const scalars = JSON.parse(metadata.scalars!);
  const ours = like.options.groups.filter((g) => g.tensors.length > 0);
  const order = ours.flatMap((g) => g.tensors.map((name: string) => like.tensors.findIndex((t) => t.name === name)));
  const steps = Object.values(scalars).map((s: any) => s.step).filter((s) => s !== undefined);
  expect(steps.every((s) => s === sd.step)).toBe(true);
  if (like.optimizer !== 'sgd') expect(steps.length).toBe(order.length);
  order.forEach((i, t) => {
    for (const [slot, value] of Object.entries(sd.state[i]!)) {
      if (typeof value === 'number') expect(value).toBe(scalars[t][slot]);
      else {
        const stored = tensors[`state.${t}.${slot}`]!;
        expect(new Uint32Array((value as Float32Array).slice().buffer)).toEqual(new Uint32Array(stored.data.slice().buffer));
        // The parameter's shape, or the flat form: never another arrangement of its elements.
        expect([JSON.stringify(like.tensors[i]!.shape), JSON.stringify([like.tensors[i]!.length])]).toContain(JSON.stringify(stored.shape));
      }
    }
  });
  expect(Object.keys(tensors).length).toBe(sd.state.reduce((n, slots) => n + Object.values(slots).filter((v) => typeof v !== 'number').length, 0));
  ours.forEach((g, k) => {
    const loaded = sd.options.groups.find((h) => h.tensors.join() === g.tensors.join())!;
    for (const [key, value] of Object.entries(groups[k])) {
      const option = key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
      if (Object.hasOwn(g, option)) expect(loaded[option]).toEqual(value);
    }
  });
}

describe('optimizer checkpoint reader, fuzzed', { timeout: PROPERTY_TIMEOUT_MS }, () => {
  test.each(BASES)('$name: mutated metadata, param_groups, scalars, shapes and names: a clear refusal or an exact load that the optimizer accepts', ({ name, file, like }) => {
    const target = trained(name, 0);
    expectBothOutcomes(() =>
      fc.assert(
        fc.property(fc.array(checkpointMutation, { minLength: 1, maxLength: 2 }), (mutations) => {
          let changed = file;
          for (const m of mutations) {
            changed = 'header' in m ? rawFile((({ header: h }) => (m.header(h), h))(splitFile(changed)), splitFile(changed).data) : withMetadataText(changed, m.key, m.edit);
          }
          const read = outcome(() => fromTorchCheckpoint(changed, like));
          if (!read.ok) return;
          expectExactLoad(changed, like, read.value);
          const loaded = outcome(() => target.loadStateDict(read.value));
          expect(loaded.ok).toBe(true);
        }),
        settings,
      ),
    );
  });
});

/** `file` with metadata `key`'s text changed by `edit`. */
function withMetadataText(file: Uint8Array, key: string, edit: (text: string) => string): Uint8Array {
  const { header, data } = splitFile(file);
  header.__metadata__[key] = edit(header.__metadata__[key] ?? '');
  return rawFile(header, data);
}

describe('stateDictFromJSON, fuzzed', { timeout: PROPERTY_TIMEOUT_MS }, () => {
  const text = stateDictToJSON(trained('adam', 2).stateDict());
  const BASE64_FIELD = /"(float32|uint16|uint8)":"([^"]*)"/g;
  const fields = [...text.matchAll(BASE64_FIELD)].length;
  test('mutated text, values and base64: a clear refusal or exactly the JSON given', () => {
    const mutation = fc.oneof(
      fc.tuple(fc.nat(), fc.constantFrom('NaN', '%', '=', 'A', '"', '}', ',', '"__proto__":{"x":1},', '')).map(([at, insert]) => (t: string) => {
        const i = at % (t.length + 1);
        return t.slice(0, i) + insert + t.slice(i + (insert === '' ? 1 : 0));
      }),
      fc.tuple(fc.nat(), fc.string({ maxLength: 12 })).map(([k, b64]) => (t: string) => {
        let n = 0;
        return t.replace(BASE64_FIELD, (whole, kind) => (n++ === k % fields ? `"${kind}":${JSON.stringify(b64)}` : whole));
      }),
      fc.tuple(fc.constantFrom('format', 'version', 'step', 'stepCalls', 'optimizer'), nastyValue).map(([key, value]) => (t: string) => {
        const json = JSON.parse(t);
        if (value === undefined) delete json[key];
        else json[key] = value;
        return JSON.stringify(json);
      }),
    );
    expectBothOutcomes(() =>
      fc.assert(
        fc.property(mutation, (mutate) => {
          const changed = mutate(text);
          const read = outcome(() => stateDictFromJSON(changed));
          // Accepted: the dict writes back as exactly the JSON given (canonical base64, same keys and values).
          if (read.ok) expect(stateDictToJSON(read.value)).toBe(JSON.stringify(JSON.parse(changed)));
        }),
        settings,
      ),
    );
  });
});
