import { describe, expect, test } from 'vitest';
import { isBlockwise, takesBlockwise } from '../../demo/train/state-choices.js';

describe("the train page's 8- and 4-bit state choices", () => {
  test('q8 and q4 are the block-wise choices', () => {
    expect(['f32', 'bf16', 'f16', 'q8', 'q4', undefined].map(isBlockwise)).toEqual([false, false, false, true, true, false]);
  });

  test('left out for the optimizers whose definition refuses them (cautious updates, Prodigy, Muon), offered to the others', () => {
    expect(takesBlockwise({ name: 'adamw', options: { cautious: true } })).toBe(false);
    expect(takesBlockwise({ name: 'lion', options: { cautious: true } })).toBe(false);
    expect(takesBlockwise({ name: 'prodigy', options: {} })).toBe(false);
    expect(takesBlockwise({ name: 'muon', options: { adamw: { lr: 0.003 } } })).toBe(false);
    for (const [name, options] of [['adam', {}], ['adamw', {}], ['lion', {}], ['lamb', {}], ['lars', { trustCoefficient: 0.2 }], ['adamw_schedule_free', {}]] as const) {
      expect(takesBlockwise({ name, options }), name).toBe(true);
    }
  });
});
