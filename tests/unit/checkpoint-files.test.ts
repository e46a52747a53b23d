/**
 * Checkpoint files are untrusted input (docs/checkpoint-format.md): each malformed file of the
 * format's rules is refused with a plain Error naming the field and the value, and nothing is
 * loaded; a valid file loads exactly. One test per rule, the files made by hand.
 */
import { describe, expect, test } from 'vitest';
import {
  decodeSafetensors,
  decodeWeights,
  encodeSafetensors,
  encodeWeights,
  fromTorchCheckpoint,
  stateDictFromJSON,
  stateDictToJSON,
  toTorchCheckpoint,
} from '../../src/index.js';
import { adamCheckpoint, f32Bytes, rawFile, splitFile, TENSORS, trained, withHeader, withMetadata } from '../helpers/checkpoint-files.js';

/** The refusal `f` throws: a plain Error (never a TypeError, RangeError or SyntaxError) with the library's prefix. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect((error as Error).constructor).toBe(Error);
    expect((error as Error).message).toMatch(/^webgpu-optim: /);
    return (error as Error).message;
  }
  throw new Error('expected a refusal, the call returned');
}

const six = f32Bytes([1, 2, 3, 4, 5, 6]);
const tensorFile = (entry: Record<string, unknown>, data = six) => rawFile({ t: { dtype: 'F32', shape: [6], data_offsets: [0, data.length], ...entry } }, data);

describe('safetensors layer', () => {
  test('a valid file reads back exactly, 16-byte data and all', () => {
    const { tensors } = decodeSafetensors(tensorFile({ shape: [2, 3] }));
    expect(tensors.t!.shape).toEqual([2, 3]);
    expect(Array.from(tensors.t!.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test.each([
    [[5], /shape \[5\] does not hold the 24 bytes/],
    [[1e15], /shape \[1000000000000000\] does not hold/],
    [[-6], /shape must be an array of integers >= 0, got \[-6\]/],
    [['6'], /shape must be an array of integers >= 0, got \["6"\]/],
    ['6', /shape must be an array of integers >= 0, got "6"/],
    [null, /shape must be an array of integers >= 0, got null/],
    [[2.5, 2.4], /shape must be an array of integers >= 0, got \[2.5,2.4\]/],
  ])('shape %j is refused', (shape, message) => {
    expect(refusal(() => decodeSafetensors(tensorFile({ shape })))).toMatch(message);
  });

  test.each([
    [[0.5, 24.5], /data_offsets must be \[begin, end\], integers >= 0, got \[0.5,24.5\]/],
    [[-4, 20], /data_offsets must be \[begin, end\], integers >= 0, got \[-4,20\]/],
    [[0, 28], /data_offsets \[0,28\] must satisfy begin <= end <= 24/],
    [['0', 24], /got \["0",24\]/],
    [null, /data_offsets .* got null/],
  ])('data_offsets %j are refused', (offsets, message) => {
    expect(refusal(() => decodeSafetensors(tensorFile({ data_offsets: offsets })))).toMatch(message);
  });

  test('overlapping offsets: two tensors may not share bytes', () => {
    const file = rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, six);
    expect(refusal(() => decodeSafetensors(file))).toMatch(/data_offsets \[8, 24\] overlap another tensor's bytes/);
  });

  test('a hole in the data area, or bytes after the last tensor, are refused', () => {
    expect(refusal(() => decodeSafetensors(tensorFile({ shape: [5], data_offsets: [4, 24] })))).toMatch(/leave bytes 0 … 4 of the data area unread/);
    expect(refusal(() => decodeSafetensors(tensorFile({ shape: [5], data_offsets: [0, 20] })))).toMatch(/the tensors end at byte 20 of a 24-byte data area/);
  });

  test.each([
    ['null', /the header must be a JSON object, got null/],
    ['[]', /the header must be a JSON object, got \[\]/],
    ['6', /the header must be a JSON object, got 6/],
    ['{"t": null}', /tensor "t" must be \{ dtype, shape, data_offsets \}, got null/],
    ['{"t": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0], "extra": 1}}', /must have exactly the keys dtype, shape, data_offsets/],
    ['{"t": {"dtype": "F16", "shape": [0], "data_offsets": [0, 0]}}', /dtype is "F16", not "F32"/],
    ['{"": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}', /a tensor has an empty name/],
    ['{"__metadata__": null}', /__metadata__ must be an object of strings, got null/],
    ['{"__metadata__": {"a": 1}}', /__metadata__\["a"\] must be a string, got 1/],
    ['{"t": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 0]}}', /not strict JSON: it holds NaN/],
    ['{"t": ', /the header is not JSON/],
    ['{"a": {}, "a": {}}', /the key "a" twice in one object/],
  ])('header %s is refused', (header, message) => {
    expect(refusal(() => decodeSafetensors(rawFile(header)))).toMatch(message);
  });

  test('the header length is bounded before anything is decoded or allocated', () => {
    expect(refusal(() => decodeSafetensors(rawFile('{}', undefined, 2 ** 62)))).toMatch(/header length 4611686018427387904 is over the 104857600-byte limit/);
    expect(refusal(() => decodeSafetensors(rawFile('{}', undefined, 1000)))).toMatch(/header length 1000 runs past the end of the 10-byte file/);
    expect(refusal(() => decodeSafetensors(new Uint8Array(7)))).toMatch(/7 bytes, shorter than its 8-byte header length/);
    expect(refusal(() => decodeSafetensors('file' as never))).toMatch(/must be a Uint8Array/);
  });

  test('values nested 100 000 deep are refused with a plain Error, not a stack overflow', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(refusal(() => decodeSafetensors(rawFile(deep)))).toMatch(/the header must be a JSON object, got \[\.\.\.\] \(nested too deep to show\)/);
    expect(refusal(() => decodeSafetensors(rawFile(`{"t": {"dtype": "F32", "shape": ${deep}, "data_offsets": [0, 0]}}`)))).toMatch(/tensor "t": shape must be an array of integers >= 0/);
    expect(refusal(() => decodeSafetensors(rawFile(`{"__metadata__": ${deep}}`)))).toMatch(/__metadata__ must be an object of strings/);
    expect(refusal(() => stateDictFromJSON(deep))).toMatch(/the JSON must be an object/);
    expect(refusal(() => stateDictFromJSON(`{"format":"webgpu-optim/state-dict","version":1,"x":${deep}}`))).toMatch(/is nested deeper than 32 levels/);
  });

  test('a header that is not UTF-8 is refused (not decoded with replacement characters)', () => {
    const file = rawFile('{"t"  : {}}');
    file[10] = 0xff;
    expect(refusal(() => decodeSafetensors(file))).toMatch(/the header is not UTF-8/);
  });

  test('a tensor named __proto__ or constructor is a plain name: the result has no prototype to replace', () => {
    const header = '{"__proto__": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "constructor": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}, "__metadata__": {"__proto__": "x"}}';
    const { tensors, metadata } = decodeSafetensors(rawFile(header, six));
    expect(Object.getPrototypeOf(tensors)).toBeNull();
    expect(Object.keys(tensors).sort()).toEqual(['__proto__', 'constructor']);
    expect(Array.from(tensors['__proto__']!.data)).toEqual([1, 2]);
    expect(Array.from(tensors['constructor']!.data)).toEqual([3, 4, 5, 6]);
    expect(metadata['__proto__']).toBe('x');
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
    // And back: the writer keeps such names too.
    expect(Object.keys(decodeSafetensors(encodeSafetensors({ tensors, metadata })).tensors).sort()).toEqual(['__proto__', 'constructor']);
  });

  test('the writer refuses what the reader would refuse', () => {
    expect(refusal(() => encodeSafetensors({ tensors: { a: { shape: [-1], data: new Float32Array(0) } }, metadata: {} }))).toMatch(/shape must be an array of integers >= 0/);
    expect(refusal(() => encodeSafetensors({ tensors: { __metadata__: { shape: [0], data: new Float32Array(0) } }, metadata: {} }))).toMatch(/reserved/);
    expect(refusal(() => encodeSafetensors({ tensors: {}, metadata: { a: 1 as never } }))).toMatch(/metadata\["a"\] must be a string/);
  });
});

describe('optimizer checkpoint layer (fromTorchCheckpoint)', () => {
  test("options torch.optim's class lacks: left out at their defaults, a group with another value refused, naming it", () => {
    const plain = trained('adam', 2);
    const file = toTorchCheckpoint(plain.stateDict());
    expect(JSON.parse(decodeSafetensors(file).metadata!.param_groups!)[0]).not.toHaveProperty('cautious');
    const cautious = trained('adam', 2, { cautious: true });
    expect(refusal(() => toTorchCheckpoint(cautious.stateDict()))).toMatch(/toTorchCheckpoint: torch.optim.Adam has no "cautious"; a checkpoint of a group with cautious true would continue without it/);
  });
  test('a valid file loads exactly: every slot, the step, the hyperparameters', () => {
    const source = trained('adam', 3);
    const sd = source.stateDict();
    const { target } = adamCheckpoint();
    const back = fromTorchCheckpoint(toTorchCheckpoint(sd), target.stateDict());
    target.loadStateDict(back);
    expect(target.stateDict()).toEqual(sd);
  });

  test.each([
    ['NaN', /metadata.param_groups is not strict JSON: it holds NaN/],
    ['[{"params": [0], "lr": NaN}]', /metadata.param_groups is not strict JSON: it holds NaN/],
    ['[{"params": [0', /metadata.param_groups is not JSON/],
    ['{}', /metadata.param_groups must be a JSON array of groups, got \{\}/],
    ['[{"params": [0]}]', /metadata.param_groups has 1 groups, this optimizer 2/],
    ['[{"params": [0]}, null]', /param_groups\[1\] must be an object, got null/],
    ['[{"params": [0]}, {"params": [1, 2]}]', /param_groups\[1\].params has 2 parameters, this optimizer's group has 1/],
    ['[{"params": [1]}, {"params": [0]}]', /param_groups\[0\].params\[0\] is 1; the groups must hold parameters 0 … n−1 in order/],
    ['[{"params": ["0"]}, {"params": [1]}]', /param_groups\[0\].params must be an array of parameter indices, got \["0"\]/],
    ['[{"params": [0]}, {"params": [1], "lr": -1}]', /param_groups\[1\].lr .*-1/],
    ['[{"params": [0], "betas": [2, 0.5]}, {"params": [1]}]', /param_groups\[0\].betas\[0\] .*2/],
    ['[{"params": [0], "eps": "1e-8"}, {"params": [1]}]', /param_groups\[0\].eps .*1e-8/],
    ['[{"params": [0], "amsgrad": true}, {"params": [1]}]', /param_groups\[0\].amsgrad is true, this optimizer's is false: it chooses the kernel/],
    ['[{"params": [0], "param_names": ["a", "a"]}, {"params": [1]}]', /param_groups\[0\].param_names must be an array of 1 strings/],
  ])('param_groups %s is refused', (text, message) => {
    const { file, target } = adamCheckpoint();
    expect(refusal(() => fromTorchCheckpoint(withMetadata(file, 'param_groups', text), target.stateDict()))).toMatch(message);
  });

  test('a bad hyperparameter is refused as the message names it', () => {
    const { file, target } = adamCheckpoint();
    const groups = JSON.parse(splitFile(file).header.__metadata__.param_groups);
    groups[1].lr = -1;
    expect(refusal(() => fromTorchCheckpoint(withMetadata(file, 'param_groups', JSON.stringify(groups)), target.stateDict()))).toMatch(/^webgpu-optim: fromTorchCheckpoint: param_groups\[1\]\.lr .*-1$/);
  });

  test.each([
    ['{"0": {"step": NaN}, "1": {"step": 3}}', /metadata.scalars is not strict JSON: it holds NaN/],
    ['{"0": {"step": 3}', /metadata.scalars is not JSON/],
    ['[]', /metadata.scalars must be a JSON object keyed by parameter index/],
    ['{"0": {"step": 3}, "1": {"step": 3}, "2": {"step": 3}}', /metadata.scalars has the key "2"/],
    ['{"00": {"step": 3}, "1": {"step": 3}}', /metadata.scalars has the key "00"/],
    ['{"0": {"step": 3}, "1": null}', /scalars\["1"\] must be an object of numbers, got null/],
    ['{"0": {"step": 3}, "1": {"step": "3"}}', /scalars\["1"\].step must be a finite number, got "3"/],
    ['{"0": {"step": -1}, "1": {"step": -1}}', /scalars\["0"\].step must be an integer 0 … 2\^53 − 1, got -1/],
    ['{"0": {"step": 1e300}, "1": {"step": 1e300}}', /scalars\["0"\].step must be an integer 0 … 2\^53 − 1, got 1e\+300/],
    ['{"0": {"step": 2.5}, "1": {"step": 2.5}}', /got 2.5/],
    ['{"0": {"step": 3}, "1": {}}', /scalars\["1"\].step is missing/],
    ['{"0": {"step": 3}, "1": {"step": 3, "mu_product": 0.5}}', /scalars\["1"\].mu_product: torch.optim.Adam keeps no scalar "mu_product"/],
  ])('scalars %s is refused', (text, message) => {
    const { file, target } = adamCheckpoint();
    expect(refusal(() => fromTorchCheckpoint(withMetadata(file, 'scalars', text), target.stateDict()))).toMatch(message);
  });

  test("per-parameter steps that differ (a grad None on some steps) load as each tensor's own step, and are written back", () => {
    const { file, target } = adamCheckpoint();
    const sd = fromTorchCheckpoint(withMetadata(file, 'scalars', '{"0": {"step": 2}, "1": {"step": 3}}'), target.stateDict());
    expect(sd.step).toBe(3);
    expect(sd.state.map((s) => s.step).sort()).toEqual([2, 3]);
    target.loadStateDict(sd);
    expect(target.stateDict().state.map((s) => s.step)).toEqual(sd.state.map((s) => s.step));
    const again = JSON.parse(splitFile(toTorchCheckpoint(target.stateDict())).header.__metadata__.scalars);
    expect([again['0'].step, again['1'].step]).toEqual([2, 3]);
  });

  test('an Adam file without step is refused, not loaded as step 1 (bias corrections would restart)', () => {
    const { file, target } = adamCheckpoint();
    expect(refusal(() => fromTorchCheckpoint(withMetadata(file, 'scalars', '{"0": {}, "1": {"step": 3}}'), target.stateDict()))).toMatch(
      /scalars\["0"\].step is missing: torch.optim.Adam keeps a step count with its state/,
    );
    expect(refusal(() => fromTorchCheckpoint(withMetadata(file, 'scalars', '{}'), target.stateDict()))).toMatch(/scalars\["0"\].step is missing/);
  });

  test('an SGD file keeps no step: with momentum buffers it loads as step 1', () => {
    const file = withMetadata(toTorchCheckpoint(trained('sgd', 3).stateDict()), 'scalars', '{}');
    const back = fromTorchCheckpoint(file, trained('sgd', 0).stateDict());
    expect(back.step).toBe(1);
    expect(Array.from(back.state[0]!.momentum_buffer as Float32Array)).toEqual(Array.from(trained('sgd', 3).stateDict().state[0]!.momentum_buffer as Float32Array));
  });

  test("NAdam's mu_product must be what the step count gives", () => {
    const file = toTorchCheckpoint(trained('nadam', 2).stateDict());
    const scalars = JSON.parse(splitFile(file).header.__metadata__.scalars);
    scalars['1'].mu_product = 0.5;
    expect(refusal(() => fromTorchCheckpoint(withMetadata(file, 'scalars', JSON.stringify(scalars)), trained('nadam', 0).stateDict()))).toMatch(/scalars\["1"\].mu_product is 0.5; at step 2/);
    delete scalars['1'].mu_product;
    expect(refusal(() => fromTorchCheckpoint(withMetadata(file, 'scalars', JSON.stringify(scalars)), trained('nadam', 0).stateDict()))).toMatch(/scalars\["1"\].mu_product is missing/);
  });

  test('a [3,2] state into a [2,3] parameter is refused; the flat [6] is accepted', () => {
    const { file, target } = adamCheckpoint();
    const reshaped = (shape: number[]) => withHeader(file, (h) => (h['state.1.exp_avg'].shape = shape));
    expect(refusal(() => fromTorchCheckpoint(reshaped([3, 2]), target.stateDict()))).toMatch(/tensor "state.1.exp_avg" has shape \[3,2\]; parameter 1 \("m"\) has shape \[2,3\] \(or the flat \[6\]\)/);
    const flat = fromTorchCheckpoint(reshaped([6]), target.stateDict());
    expect(Array.from(flat.state[1]!.exp_avg as Float32Array)).toEqual(Array.from(trained('adam', 3).stateDict().state[1]!.exp_avg as Float32Array));
  });

  test('a tensor the optimizer has no place for is refused; a missing slot is refused', () => {
    const { file, target } = adamCheckpoint();
    const renamed = (from: string, to: string) =>
      withHeader(file, (h) => {
        Object.defineProperty(h, to, { value: h[from], enumerable: true, configurable: true, writable: true }); // a plain key, even "__proto__"
        delete h[from];
      });
    expect(refusal(() => fromTorchCheckpoint(renamed('state.1.exp_avg', 'state.1.momentum_buffer'), target.stateDict()))).toMatch(/parameter 1 has no slot "momentum_buffer"/);
    expect(refusal(() => fromTorchCheckpoint(renamed('state.1.exp_avg', 'state.2.exp_avg'), target.stateDict()))).toMatch(/tensor "state.2.exp_avg" has no place in this optimizer/);
    expect(refusal(() => fromTorchCheckpoint(renamed('state.1.exp_avg', 'state.01.exp_avg'), target.stateDict()))).toMatch(/tensor "state.01.exp_avg" has no place/);
    expect(refusal(() => fromTorchCheckpoint(renamed('state.1.exp_avg', '__proto__'), target.stateDict()))).toMatch(/tensor "__proto__" has no place/);
    const dropped = rawFile({ ...splitFile(file).header, 'state.1.exp_avg': undefined }, splitFile(file).data);
    expect(refusal(() => fromTorchCheckpoint(dropped, target.stateDict()))).toMatch(/data area|is missing/);
  });

  test.each([
    ['format', undefined, /metadata.format is missing/],
    ['format', 'webgpu-optim/weights', /metadata.format is "webgpu-optim\/weights"/],
    ['version', '2', /metadata.version is "2"; this library reads version "1"/],
    ['version', '1.0', /metadata.version is "1.0"/],
    ['optimizer', 'Foo', /metadata.optimizer is "Foo", not a torch.optim class/],
    ['optimizer', 'SGD', /the file is for torch.optim.SGD, the optimizer is adam/],
    ['scalars', undefined, /metadata.scalars is missing/],
    ['param_groups', undefined, /metadata.param_groups is missing/],
  ])('metadata %s = %j is refused', (key, value, message) => {
    const { file, target } = adamCheckpoint();
    expect(refusal(() => fromTorchCheckpoint(withMetadata(file, key, value), target.stateDict()))).toMatch(message);
  });

  test('a refused file changes nothing: the target keeps its state', () => {
    const { file, target } = adamCheckpoint();
    const before = target.stateDict();
    refusal(() => target.loadStateDict(fromTorchCheckpoint(withMetadata(file, 'scalars', '{}'), target.stateDict())));
    expect(target.stateDict()).toEqual(before);
  });
});

describe('stateDictFromJSON', () => {
  const json = () => stateDictToJSON(trained('adam', 2).stateDict());

  test('round trip is exact', () => {
    expect(stateDictFromJSON(json())).toEqual(trained('adam', 2).stateDict());
  });

  test('without the versioned header it is refused, naming what is missing', () => {
    expect(refusal(() => stateDictFromJSON('{"step":3}'))).toMatch(/the JSON has no format: a state dict's JSON carries format "webgpu-optim\/state-dict" and version 1/);
    expect(refusal(() => stateDictFromJSON('{"format":"webgpu-optim/state-dict","step":3}'))).toMatch(/the JSON has no version/);
    expect(refusal(() => stateDictFromJSON(json().replace('"version":1', '"version":2')))).toMatch(/version is 2; this library reads version 1/);
    expect(refusal(() => stateDictFromJSON('[]'))).toMatch(/must be an object/);
    expect(refusal(() => stateDictFromJSON(3 as never))).toMatch(/takes the JSON text/);
  });

  test('invalid base64 is refused naming the field, not a bare InvalidCharacterError', () => {
    const text = json().replace(/"exp_avg":\{"float32":"[^"]*"\}/, '"exp_avg":{"float32":"%%%%"}');
    expect(refusal(() => stateDictFromJSON(text))).toMatch(/state\[0\].exp_avg.float32 is not base64 \("%%%%"\)/);
    const unpadded = json().replace(/"exp_avg":\{"float32":"[^"]*"\}/, '"exp_avg":{"float32":"AAAAAA"}');
    expect(refusal(() => stateDictFromJSON(unpadded))).toMatch(/state\[0\].exp_avg.float32 is not base64 \("AAAAAA"\)/);
    const five = json().replace(/"exp_avg":\{"float32":"[^"]*"\}/, '"exp_avg":{"float32":"AAAAAAA="}');
    expect(refusal(() => stateDictFromJSON(five))).toMatch(/state\[0\].exp_avg.float32 holds 5 bytes, not a whole number of 4-byte float32 values/);
    // Padding with bits set: atob would drop them and read another value than the text spells.
    const loose = json().replace(/"exp_avg":\{"float32":"[^"]*"\}/, '"exp_avg":{"float32":"AAAAAR=="}');
    expect(refusal(() => stateDictFromJSON(loose))).toMatch(/state\[0\].exp_avg.float32 is not canonical base64 \("AAAAAR=="\)/);
  });

  test('no prototype pollution: a __proto__ key is refused, Object.prototype untouched', () => {
    const text = json().replace('"optimizer":', '"__proto__":{"polluted":true},"optimizer":');
    expect(refusal(() => stateDictFromJSON(text))).toMatch(/has a key "__proto__"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('NaN literals and broken JSON are refused clearly', () => {
    expect(refusal(() => stateDictFromJSON(json().replace('"step":2', '"step":NaN')))).toMatch(/not strict JSON: it holds NaN/);
    expect(refusal(() => stateDictFromJSON(json().slice(0, 50)))).toMatch(/the text is not JSON/);
  });
});

describe('model weights', () => {
  const tensors = TENSORS();
  const file = () => encodeWeights(tensors.map((t) => t.data), tensors);

  test('written with real shapes and the format metadata; read back by name', () => {
    const { tensors: stored, metadata } = decodeSafetensors(file());
    expect({ ...metadata }).toEqual({ format: 'webgpu-optim/weights', version: '1' });
    expect(stored.m!.shape).toEqual([2, 3]);
    const reversed = [...tensors].reverse();
    expect(decodeWeights(file(), reversed).map((a) => Array.from(a))).toEqual(reversed.map((t) => Array.from(t.data)));
  });

  test('missing, extra or mis-shaped tensors are refused', () => {
    expect(refusal(() => decodeWeights(file(), [...tensors, { name: 'x', shape: [1] }]))).toMatch(/the file has no tensor "x"/);
    expect(refusal(() => decodeWeights(file(), [tensors[0]!]))).toMatch(/the file holds tensor "m", which is not a parameter here/);
    expect(refusal(() => decodeWeights(file(), [tensors[0]!, { name: 'm', shape: [3, 2] }]))).toMatch(/tensor "m" has shape \[2,3\] in the file, \[3,2\] here/);
    expect(refusal(() => decodeWeights(withMetadata(file(), 'version', '2'), tensors))).toMatch(/metadata.version is "2"/);
    expect(refusal(() => decodeWeights(toTorchCheckpoint(trained('adam', 1).stateDict()), tensors))).toMatch(/metadata.format is "webgpu-optim\/torch-optimizer": an optimizer checkpoint, not model weights/);
  });

  test('a standard safetensors file of the same names reads as weights (torch writes no format, or "pt")', () => {
    const plain = (metadata: Record<string, string>) => encodeSafetensors({ tensors: Object.fromEntries(tensors.map((t) => [t.name, { shape: [...t.shape], data: t.data }])), metadata });
    for (const metadata of [{}, { format: 'pt' }] as Record<string, string>[]) {
      expect(decodeWeights(plain(metadata), tensors).map((a) => Array.from(a)), JSON.stringify(metadata)).toEqual(tensors.map((t) => Array.from(t.data)));
    }
  });

  test('the tensors argument is checked, naming it', () => {
    expect(refusal(() => decodeWeights(file(), 5 as never))).toMatch(/^webgpu-optim: decodeWeights: tensors must be an array of \{ name, shape \}/);
    expect(refusal(() => decodeWeights(file(), [{ name: 'm' }] as never))).toMatch(/^webgpu-optim: decodeWeights: tensors\[0\] must be \{ name, shape \}/);
  });
});
