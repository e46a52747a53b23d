/**
 * Cautious updates' wiring (no GPU): the per-tensor sums are declared only when `cautious` is on
 * (a definition's `passes` as a function of its kernel flags), the variant that would bind more
 * storage buffers than WebGPU's default 8 (Adam with AMSGrad, cautious and gradient control) is
 * refused with the engine's message, and a `passes` function is checked by registerOptimizer.
 */
import { describe, expect, test } from 'vitest';
import { kernelDefines } from '../../src/core/config.js';
import { declaredPasses, type OptimizerDefinition } from '../../src/core/definition.js';
import { checkDefinition } from '../../src/core/check-definition.js';
import { storageBufferCount } from '../../src/engine/bindings.js';
import { checkStorageBuffers, mainVariant, variantFlags } from '../../src/engine/update-kernel.js';
import { registry } from '../../src/optimizers/registry.js';
import { tensorSumsPass } from '../../src/passes/tensor-sums.js';

const LIMITS = { maxStorageBuffersPerShaderStage: 8 } as GPUSupportedLimits;

function variant(name: 'adam' | 'adamw' | 'lion', options: object, control: boolean) {
  const definition = registry[name] as unknown as OptimizerDefinition<object>;
  const flags = variantFlags(kernelDefines(definition, [{ ...definition.defaults, ...options }]), control, 'f32', false);
  return mainVariant({ definition, flags, stateFormat: 'f32', quantization: undefined, workgroupSize: 64, vectorsPerInvocation: 1 });
}

describe('cautious: the per-tensor sums only when on', () => {
  test.each(['adam', 'adamw', 'lion'] as const)('%s', (name) => {
    const plain = variant(name, {}, false);
    const cautious = variant(name, { cautious: true }, false);
    expect(declaredPasses(plain.definition, plain.flags)).toEqual([]);
    expect(declaredPasses(cautious.definition, cautious.flags)).toEqual([tensorSumsPass]);
    expect([plain.flags.LAYERWISE, cautious.flags.LAYERWISE, cautious.flags.CAUTIOUS]).toEqual([false, true, true]);
    // chunkTensor and tensorScratch.
    expect(storageBufferCount(cautious) - storageBufferCount(plain)).toBe(2);
  });
});

describe('storage buffers: WebGPU guarantees 8 per shader stage', () => {
  test('Adam with AMSGrad, cautious and gradient control binds 9: refused, naming the count and the limit', () => {
    const v = variant('adam', { amsgrad: true, cautious: true }, true);
    expect(storageBufferCount(v)).toBe(9);
    expect(() => checkStorageBuffers(v, LIMITS)).toThrow(/^webgpu-optim: adam with these options binds 9 storage buffers, over the device's maxStorageBuffersPerShaderStage \(8\)$/);
  });
  test.each([
    ['adam', { amsgrad: true, cautious: true }, false],
    ['adam', { cautious: true }, true],
    ['adamw', { cautious: true, maximize: true }, true],
    ['lion', { cautious: true }, true],
  ] as const)('%s %j (gradient control %s) fits', (name, options, control) => {
    const v = variant(name, options, control);
    expect(storageBufferCount(v)).toBeLessThanOrEqual(8);
    expect(() => checkStorageBuffers(v, LIMITS)).not.toThrow();
  });
});

describe('a passes function in a registered definition', () => {
  const base = registry.lion as unknown as OptimizerDefinition<object>;
  test('is checked on what it returns for the defaults', () => {
    expect(() => checkDefinition({ ...base, passes: () => [tensorSumsPass] }, 'registerOptimizer')).not.toThrow();
    expect(() => checkDefinition({ ...base, passes: () => 'tensorSums' }, 'registerOptimizer')).toThrow(
      /^webgpu-optim: registerOptimizer: lion: passes\(defines of the defaults\) must be an array of pass declarations \(or a function of the kernel flags returning one\), got "tensorSums" \(a string\)$/,
    );
    expect(() => checkDefinition({ ...base, passes: () => [{ name: 'x' }] }, 'registerOptimizer')).toThrow(/passes\(defines of the defaults\)\[0\]\.flags must be an object of boolean kernel flags/);
  });
});
