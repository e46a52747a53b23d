/**
 * Cautious updates (Liang et al. 2024, "Cautious Optimizers: Improving Training with One Line of
 * Code", https://arxiv.org/abs/2411.16085; the authors' kyleliang919/C-Optim): an element's update is
 * kept only where it agrees in sign with the gradient, and the kept ones are scaled up by how many
 * were dropped, per tensor. On the GPU the count is a per-tensor sum (tensorSumsPass) before the
 * update: the kernel's `partials()` returns (agreeing, elements) per vec4. Here is its CPU twin, in
 * the GPU's order of additions, for the twins of Adam, AdamW and Lion.
 */
import type { KernelDefines } from '../core/definition.js';
import type { PassDeclaration } from '../core/passes.js';
import { tensorSum } from '../passes/tensor-reduction.js';
import { tensorSumsPass } from '../passes/tensor-sums.js';
import { fr } from '../core/twin-math.js';
import { checkWholeTensor } from './whole-tensor.js';


/** The passes of an optimizer with a `cautious` option: the per-tensor sums when it is on. */
export function cautiousPasses(defines: KernelDefines): readonly PassDeclaration[] {
  return defines.CAUTIOUS ? [tensorSumsPass] : [];
}

const MIN_NORMAL = 2 ** -126;

/**
 * Whether a·b > 0 as the kernels decide it (layerwise.wgsl's agreeInSign), the same on every device:
 * a and b normal or infinite (a subnormal one counts as 0: GPUs may flush it), and the f32 product a
 * positive normal number or +Inf. NaN never agrees.
 */
export function agreeInSign(a: number, b: number): boolean {
  return Math.abs(a) >= MIN_NORMAL && Math.abs(b) >= MIN_NORMAL && fr(a * b) >= MIN_NORMAL;
}

/** Why 8- or 4-bit state cannot hold a cautious kernel's state (the definition's `noQ8State`). */
export function cautiousNoQ8(defines: KernelDefines): string | undefined {
  return defines.CAUTIOUS
    ? "cautious updates count the agreeing elements in a pass before the update, which reads the state outside the tiles of 8- and 4-bit state; use stateFormat 'f32', 'bf16' or 'f16'"
    : undefined;
}

/** The GPU's per-tensor sums of a cautious kernel: agreeing elements and elements, f32, in its order. */
export function cautiousCounts(optimizer: string, param: Float32Array, begin: number, end: number, agrees: (i: number) => boolean): { agreeing: number; elements: number } {
  checkWholeTensor(optimizer, param, begin, end);
  return {
    agreeing: tensorSum(param.length, (i) => (agrees(i) ? 1 : 0)),
    elements: tensorSum(param.length, () => 1),
  };
}

/** C-Optim's c_adamw.py: `mask.div_(mask.mean().clamp_(min=1e-3))`, the factor of an agreeing element. */
export function meanClampedScale(counts: { agreeing: number; elements: number }): number {
  return fr(1 / Math.max(fr(counts.agreeing / counts.elements), fr(1e-3)));
}

/**
 * C-Optim's c_lion.py: `mask * (mask.numel() / (mask.sum() + 1))`, the factor of an agreeing element.
 * A number over a tensor is torch's `Tensor.__rtruediv__`: the reciprocal, times the number.
 */
export function numelOverSumPlusOneScale(counts: { agreeing: number; elements: number }): number {
  return fr(fr(1 / fr(counts.agreeing + 1)) * counts.elements);
}
