/**
 * PyTorch's step rule on the CPU twin and in state dicts: `null` for a tensor without gradient,
 * each tensor's own step count in `state[i].step`, and the refusals (an optimizer or options that
 * cannot skip a tensor; malformed per-tensor steps), each before anything changes.
 */
import { describe, expect, test } from 'vitest';
import { createReferenceOptimizer, stateDictFromJSON, stateDictToJSON } from '../../src/index.js';
import { registry } from '../../src/optimizers/registry.js';
import { gradientSkipRefusal } from '../../src/front/gradient-presence.js';
import { resolveOptions } from '../../src/front/resolve.js';

const tensors = () => [
  { name: 'a', data: Float32Array.from([1, -2, 3]) },
  { name: 'b', data: Float32Array.from([0.5, 0.25]) },
];
const g = (n: number, x: number) => new Float32Array(n).fill(x);

describe('the twin', () => {
  test('never given null: its state dict carries no per-tensor step (nothing changes for such users)', () => {
    const ref = createReferenceOptimizer('adam', tensors(), { lr: 0.1 });
    ref.step([g(3, 1), g(2, 1)]);
    expect(ref.stateDict().state.every((s) => !('step' in s))).toBe(true);
  });

  test('null leaves the tensor untouched and its own step behind; the dict says so', () => {
    const ref = createReferenceOptimizer('nadam', tensors(), { lr: 0.1, weightDecay: 0.1 });
    const b0 = ref.params[1]!.slice();
    ref.step([g(3, 1), null]);
    expect(ref.params[1]).toEqual(b0);
    expect(ref.state[1]!.exp_avg).toEqual(new Float32Array(2));
    const sd = ref.stateDict();
    expect(sd.step).toBe(1);
    expect(sd.state.map((s) => s.step)).toEqual([1, 0]);
    // NAdam's mu_product follows each tensor's own step.
    expect(sd.state[1]!.mu_product).toBe(1);
    expect(sd.state[0]!.mu_product).not.toBe(1);
  });

  test('gradient control: the norm covers only the tensors with a gradient; a skipped non-finite step advances no count', () => {
    const ref = createReferenceOptimizer('rmsprop', tensors(), { lr: 0.1, gradClipping: { maxNorm: 1 }, lossScaling: { initScale: 2 } });
    ref.step([g(3, 2), null]);
    // (2/2)² × 3 = 3: b's (absent) gradient adds nothing.
    expect(ref.control!.totalNorm).toBe(Math.fround(Math.sqrt(3)));
    const b0 = ref.params[1]!.slice();
    const a1 = ref.params[0]!.slice();
    ref.step([g(3, Infinity), g(2, 1)]);
    expect(ref.control!.skipped).toBe(true);
    expect([ref.params[0], ref.params[1]]).toEqual([a1, b0]);
    // An Inf where no gradient is (null) is not looked at: the step is taken.
    ref.step([g(3, 1), null]);
    expect(ref.control!.skipped).toBe(false);
    const sd = ref.stateDict();
    expect([sd.step, ...sd.state.map((t) => t.step)]).toEqual([2, 2, 0]);
  });

  test.each([
    ['adam', { lr: 0.1, lossScaling: true }, /cannot skip a tensor: with skipNonFinite \(on by default with lossScaling\) the device decides whether a step is taken/],
    ['adam', { lr: 0.1, gradClipping: { maxNorm: 1 }, skipNonFinite: true }, /cannot skip a tensor: with skipNonFinite .* its step scalars \(negStepSize, bc2Sqrt\) depend on the step count/],
    ['adamw_schedule_free', { lr: 0.1, lossScaling: true }, /cannot skip a tensor: with skipNonFinite .* its step scalars \(.*ckp1.*\) depend on the step count/],
    ['adafactor', { gradClipping: { maxNorm: 1 } }, /cannot skip a tensor: with gradient control the per-tensor variants of its passes \(factoredState\) do not yet read the controlled gradient/],
    ['adam', { lr: 0.1, accumulation: { steps: 2, average: true } }, /cannot skip a tensor: gradient accumulation with gradient control \(accumulation\.average/],
  ])('%s %j refuses a tensor without gradient, naming why, before anything changes', (name, options, message) => {
    const ref = createReferenceOptimizer(name as 'adam', tensors(), options as never);
    const before = ref.params.map((p) => p.slice());
    expect(() => ref.step([g(3, 1), null])).toThrow(message);
    expect(ref.stepCount).toBe(0);
    expect(ref.microStepCount).toBe(0);
    expect(ref.params).toEqual(before);
  });

  test.each([
    ['adam', 'q8'],
    ['rmsprop', 'q8'],
    ['adamw', 'q4'],
    // LAMB's moments are stored by its partials pass (storeTensor), its trust ratio per tensor.
    ['lamb', 'q8'],
    ['lamb', 'q4'],
  ])("%s, %s state: a tensor without gradient keeps its codes and absmax bit for bit (the store re-quantizes only the others); a step with it equals a fresh twin's first", (name, format) => {
    const options = { lr: 0.01, stateFormat: format, quantization: { blockSize: 64, minQuantizedElements: 0 } };
    const big = () => [
      { name: 'a', data: Float32Array.from({ length: 150 }, (_, k) => Math.sin(k) * 2) },
      { name: 'b', data: Float32Array.from({ length: 70 }, (_, k) => Math.cos(k)) },
    ];
    const grad = (n: number, k: number) => Float32Array.from({ length: n }, (_, j) => Math.sin(j * 0.7 + k) * 10 ** ((j % 7) - 3));
    const ref = createReferenceOptimizer(name as 'adam', big(), options as never);
    ref.step([grad(150, 1), grad(70, 1)]);
    // Tensor i's stored slots, as bytes (its step count aside).
    const stored = (sd: ReturnType<typeof ref.stateDict>, i: number) => JSON.stringify({ ...sd.state[i], step: undefined }, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) : v));
    const before = ref.stateDict();
    const b = ref.params[1]!.slice();
    ref.step([grad(150, 2), null]);
    ref.step([grad(150, 3), null]);
    const after = ref.stateDict();
    expect(stored(after, 1)).toBe(stored(before, 1));
    expect(ref.params[1]).toEqual(b);
    expect(after.state.map((s) => s.step)).toEqual([3, 1]);
    expect(stored(after, 0)).not.toBe(stored(before, 0));
    // Its first step as a tensor of a fresh twin takes (same gradients): tensor a with step 1 stepped alone.
    const alone = createReferenceOptimizer(name as 'adam', big(), options as never);
    alone.step([grad(150, 1), null]);
    const single = createReferenceOptimizer(name as 'adam', big(), options as never);
    single.step([grad(150, 1), grad(70, 1)]);
    expect(alone.params[0]).toEqual(single.params[0]);
    expect(stored(alone.stateDict(), 0)).toBe(stored(single.stateDict(), 0));
  });

  test.each(['adam', 'nadam', 'radam', 'adagrad', 'sgd'])('%s: a step before any gradient, then steps with every gradient, equal a fresh optimizer bit for bit (each tensor at its own step)', (name) => {
    const options = { lr: 0.01, weightDecay: 0.1, ...(name === 'sgd' ? { momentum: 0.9 } : {}) };
    const late = createReferenceOptimizer(name as 'adam', tensors(), options as never);
    const fresh = createReferenceOptimizer(name as 'adam', tensors(), options as never);
    late.step([null, null]);
    for (let k = 1; k <= 3; k++) {
      late.step([g(3, k), g(2, -k)]);
      fresh.step([g(3, k), g(2, -k)]);
    }
    expect(late.params).toEqual(fresh.params);
    expect(late.state).toEqual(fresh.state);
    const sd = late.stateDict();
    expect([sd.step, ...sd.state.map((s) => s.step)]).toEqual([4, 3, 3]);
  });

  test.each(['adamw_schedule_free', 'adamw_schedule_free_paper'])("%s: null leaves the tensor untouched (through eval() and train() too); steps stay the group's (no per-tensor step in the dict, one with them refused naming why)", (name) => {
    const ref = createReferenceOptimizer(name as 'adamw_schedule_free', tensors(), { lr: 0.1 });
    const b0 = ref.params[1]!.slice();
    ref.step([g(3, 1), null]);
    ref.eval();
    ref.train();
    expect(ref.params[1]).toEqual(b0);
    expect(ref.state[1]!.exp_avg_sq).toEqual(new Float32Array(2));
    const sd = ref.stateDict();
    expect(sd.step).toBe(1);
    expect(sd.state.every((s) => !('step' in s))).toBe(true);
    const other = createReferenceOptimizer(name as 'adamw_schedule_free', tensors(), { lr: 0.1 });
    const stranger = { ...sd, state: sd.state.map((s, i) => ({ ...s, step: 1 - i })) };
    expect(() => other.loadStateDict(stranger as never)).toThrow(/state\[1\]\.step: its tensors have taken different numbers of steps .*keeps no step count per tensor: its bias correction/);
    expect(other.stepCount).toBe(0);
  });

  test('adafactor: null leaves a matrix\'s row_var and col_var (and a vector\'s variance) untouched and its own step behind; its next step is at its own count', () => {
    const shaped = () => [
      { name: 'w', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, k) => Math.sin(k)) },
      { name: 'b', shape: [4], data: Float32Array.from([0.5, -0.25, 1, 2]) },
    ];
    const grad = (n: number, k: number) => Float32Array.from({ length: n }, (_, j) => Math.cos(j * 0.9 + k));
    const ref = createReferenceOptimizer('adafactor', shaped(), {});
    ref.step([grad(12, 1), grad(4, 1)]);
    const w = ref.params[0]!.slice();
    const factors = { row: ref.state[0]!.row_var!.slice(), col: ref.state[0]!.col_var!.slice() };
    ref.step([null, grad(4, 2)]);
    expect(ref.params[0]).toEqual(w);
    expect(ref.state[0]!.row_var).toEqual(factors.row);
    expect(ref.state[0]!.col_var).toEqual(factors.col);
    const variance = ref.state[1]!.variance!.slice();
    ref.step([grad(12, 3), null]);
    expect(ref.state[1]!.variance).toEqual(variance);
    expect(ref.stateDict().state.map((s) => s.step)).toEqual([2, 2]);
    // The matrix's second step equals a twin's second step with the same gradients (t = 2: β̂₂ and ρ at its own count).
    const own = createReferenceOptimizer('adafactor', shaped(), {});
    own.step([grad(12, 1), grad(4, 1)]);
    own.step([grad(12, 3), grad(4, 2)]);
    expect(ref.params[0]).toEqual(own.params[0]);
    expect(ref.state[0]!.row_var).toEqual(own.state[0]!.row_var);
  });

  test('a null where a tensor of another length is expected is still a count error; a wrong array is still refused', () => {
    const ref = createReferenceOptimizer('adam', tensors(), { lr: 0.1 });
    expect(() => ref.step([null])).toThrow(/expected 2 gradients/);
    expect(() => ref.step([g(2, 1), null])).toThrow(/gradient/);
    expect(ref.stepCount).toBe(0);
  });
});

describe('optimizers whose partials pass stores state (partialsStore)', () => {
  // LAMB's moments in 8-/4-bit tiles skip a tensor (q8-layerwise.wgsl through the per-tensor
  // vectorPartials); Prodigy refuses such state at creation (noQ8State), so its pass never meets them.
  const withState = Object.entries(registry).filter(([, d]) => d.partialsStore !== undefined);
  test.each(withState.flatMap(([name]) => ['q8', 'q4'].map((format) => [name, format] as const)))('%s, %s state: takes a step with a tensor without gradient, or refuses the format at creation', (name, format) => {
    const definition = registry[name as keyof typeof registry] as Parameters<typeof gradientSkipRefusal>[0];
    const options = { lr: 0.01, stateFormat: format, quantization: { blockSize: 64, minQuantizedElements: 0 } };
    const shapes = [{ name: 'a', shape: [150] }, { name: 'b', shape: [70] }];
    const resolve = () => resolveOptions(definition, shapes, options, 'test');
    if (definition.noQ8State) {
      expect(resolve).toThrow(`test: stateFormat "${format}": `);
      expect(gradientSkipRefusal(definition, resolveOptions(definition, shapes, { lr: 0.01 }, 'test'))).toBeUndefined();
    } else {
      expect(gradientSkipRefusal(definition, resolve())).toBeUndefined();
    }
  });

  test('both kinds are in the registry: LAMB takes 8-/4-bit state, Prodigy refuses it', () => {
    expect(withState.map(([name]) => name).sort()).toEqual(expect.arrayContaining(['lamb', 'prodigy']));
    expect(registry.lamb.noQ8State).toBeUndefined();
    expect(registry.prodigy.noQ8State).toBeDefined();
  });
});

describe('per-tensor steps in state dicts', () => {
  const skipped = () => {
    const ref = createReferenceOptimizer('adam', tensors(), { lr: 0.1 });
    ref.step([g(3, 1), null]);
    ref.step([g(3, 1), g(2, 1)]);
    return ref;
  };

  test('round trip through JSON: the same steps, and the next step equals the original', () => {
    const a = skipped();
    const b = createReferenceOptimizer('adam', tensors(), { lr: 0.1 });
    b.params.forEach((p, i) => p.set(a.params[i]!));
    b.loadStateDict(stateDictFromJSON(stateDictToJSON(a.stateDict())) as never);
    expect(b.stateDict().state.map((s) => s.step)).toEqual([2, 1]);
    a.step([g(3, 0.5), g(2, -1)]);
    b.step([g(3, 0.5), g(2, -1)]);
    expect(b.params).toEqual(a.params);
    expect(b.stateDict()).toEqual(a.stateDict());
  });

  test.each([
    [(sd: any) => (sd.state[1].step = 3), /state\[1\]\.step 3 must be an integer 0 … step \(2\)/],
    [(sd: any) => (sd.state[1].step = 0.5), /state\[1\]\.step 0\.5 must be an integer/],
    [(sd: any) => (sd.state[1].step = '1'), /state\[1\]\.step 1 must be an integer/],
    [(sd: any) => delete sd.state[0].step, /state\[0\]\.step is missing: a dict with per-tensor step counts has one in every entry/],
  ])('a malformed per-tensor step is refused, naming it, before anything changes (%#)', (spoil, message) => {
    const sd = skipped().stateDict() as any;
    spoil(sd);
    const target = createReferenceOptimizer('adam', tensors(), { lr: 0.1 });
    expect(() => target.loadStateDict(sd)).toThrow(message);
    expect(target.stepCount).toBe(0);
    expect(target.stateDict().state.every((s) => !('step' in s))).toBe(true);
  });

  test("NAdam's mu_product is checked at the tensor's own step", () => {
    const ref = createReferenceOptimizer('nadam', tensors(), { lr: 0.1 });
    ref.step([g(3, 1), null]);
    const sd = ref.stateDict() as any;
    sd.state[1].step = 1;
    expect(() => createReferenceOptimizer('nadam', tensors(), { lr: 0.1 }).loadStateDict(sd)).toThrow(/state\[1\]\.mu_product is 1; at step 1 with these options it is/);
  });

  test('steps all equal to the dict step load as one count (the dict written back has none per tensor)', () => {
    const ref = createReferenceOptimizer('adam', tensors(), { lr: 0.1 });
    ref.step([g(3, 1), g(2, 1)]);
    const sd = ref.stateDict() as any;
    sd.state.forEach((s: any) => (s.step = 1));
    const target = createReferenceOptimizer('adam', tensors(), { lr: 0.1 });
    target.loadStateDict(sd);
    expect(target.stateDict().state.every((s) => !('step' in s))).toBe(true);
  });

  test('per-tensor steps loaded into an optimizer that cannot skip: the load is refused, naming the field and why, and changes nothing', () => {
    const sd = skipped().stateDict();
    const target = createReferenceOptimizer('adam', tensors(), { lr: 0.1, gradClipping: { maxNorm: 1 }, skipNonFinite: true });
    const before = JSON.stringify(stateDictToJSON(target.stateDict()));
    // Loaded, every later step would be refused: the optimizer could never step again.
    expect(() => target.loadStateDict(sd as never)).toThrow(/cannot load this state dict: state\[\d\]\.step: its tensors have taken different numbers of steps .*cannot skip a tensor: with skipNonFinite/);
    expect(JSON.stringify(stateDictToJSON(target.stateDict()))).toBe(before);
    target.step([g(3, 1), g(2, 1)]);
    expect(target.stepCount).toBe(1);
  });
});

describe('gradient accumulation: a micro-batch adds the tensors it has a gradient for', () => {
  const sum = (a: Float32Array, b: Float32Array) => a.map((x, j) => Math.fround(x + b[j]!));
  const ga = [Float32Array.from([0.5, -1, 2]), Float32Array.from([1.5, 0.25, -3]), Float32Array.from([-0.75, 4, 1])];
  const gb = Float32Array.from([0.3, -0.6]);

  test("the update sees each tensor's sum over the micro-batches that wrote it; one no micro-batch wrote is untouched, its own step behind", () => {
    const acc = createReferenceOptimizer('nadam', tensors(), { lr: 0.1, weightDecay: 0.1, accumulation: { steps: 3 } });
    const once = createReferenceOptimizer('nadam', tensors(), { lr: 0.1, weightDecay: 0.1 });
    // Window 1: b written by the second micro-batch only. Window 2: b by none.
    acc.step([ga[0]!, null]);
    acc.step([ga[1]!, gb]);
    acc.step([ga[2]!, null]);
    once.step([sum(sum(ga[0]!, ga[1]!), ga[2]!), gb]);
    expect(acc.params).toEqual(once.params);
    const b = acc.params[1]!.slice();
    for (const x of ga) acc.step([x, null]);
    once.step([sum(sum(ga[0]!, ga[1]!), ga[2]!), null]);
    expect(acc.params).toEqual(once.params);
    expect(acc.params[1]).toEqual(b);
    expect(acc.stateDict().state.map((s) => s.step)).toEqual([2, 1]);
    expect(acc.stateDict()).toEqual({ ...once.stateDict(), stepCalls: 2 });
  });

  test('a window no micro-batch wrote counts as a step (the schedule moves) and changes nothing', () => {
    const acc = createReferenceOptimizer('adam', tensors(), { lr: 0.1, weightDecay: 0.1, accumulation: { steps: 2 } });
    const before = acc.params.map((p) => p.slice());
    acc.step([null, null]);
    acc.step([null, null]);
    expect(acc.stepCount).toBe(1);
    expect(acc.params).toEqual(before);
    expect(acc.stateDict().state.map((s) => s.step)).toEqual([0, 0]);
  });

  test('a dict saved within a window says which tensors no micro-batch wrote yet (null), through JSON; the next steps equal the original', () => {
    const options = { lr: 0.1, accumulation: { steps: 3 } };
    const a = createReferenceOptimizer('radam', tensors(), options);
    a.step([ga[0]!, null]);
    const sd = a.stateDict();
    expect(sd.accumulation?.grads.map((x) => x === null)).toEqual([false, true]);
    const b = createReferenceOptimizer('radam', tensors(), options);
    b.loadStateDict(stateDictFromJSON(stateDictToJSON(sd)) as never);
    for (const r of [a, b]) {
      r.step([ga[1]!, null]);
      r.step([ga[2]!, null]);
    }
    expect(b.params).toEqual(a.params);
    expect(b.stateDict()).toEqual(a.stateDict());
    expect(a.stateDict().state.map((s) => s.step)).toEqual([1, 0]);
    // Every tensor written in the window: no null (the dict of a user who never skips is as before).
    const c = createReferenceOptimizer('radam', tensors(), options);
    c.step([ga[0]!, gb]);
    expect(c.stateDict().accumulation?.grads.every((x) => x instanceof Float32Array)).toBe(true);
  });

  test('a dict whose window left a tensor unwritten, into an optimizer that cannot skip: refused, naming the field and why, before anything changes', () => {
    const a = createReferenceOptimizer('adam', tensors(), { lr: 0.1, accumulation: { steps: 2 } });
    a.step([ga[0]!, null]);
    const target = createReferenceOptimizer('adam', tensors(), { lr: 0.1, accumulation: { steps: 2, average: true } });
    const before = stateDictToJSON(target.stateDict());
    expect(() => target.loadStateDict(a.stateDict() as never)).toThrow(/cannot load this state dict: accumulation\.grads\[1\] is null .*cannot skip a tensor: gradient accumulation with gradient control/);
    expect(stateDictToJSON(target.stateDict())).toBe(before);
  });

  test('a micro-batch leaving a tensor without gradient, where the optimizer cannot skip one: refused before anything changes, naming why', () => {
    const ref = createReferenceOptimizer('adam', tensors(), { lr: 0.1, accumulation: { steps: 2, average: true } });
    ref.step([g(3, 1), g(2, 1)]);
    expect(() => ref.step([g(3, 1), null])).toThrow(/tensor 1 has no gradient this step .*gradient accumulation with gradient control/);
    expect(ref.microStepCount).toBe(1);
    expect(ref.stateDict().accumulation?.grads[1]).toEqual(g(2, 1));
  });
});
