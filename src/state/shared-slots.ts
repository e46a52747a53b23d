/**
 * Slots that share a GPU buffer (`SlotSpec.storedIn`): a tensor holds one or the other, never both,
 * so one buffer packs them (Muon's momentum_buffer and AdamW's exp_avg beside it). The kernel and
 * the state dict keep seeing each slot by its own name; only the buffers and bindings are shared.
 */
import type { ResolvedConfig } from '../core/config.js';
import type { SlotSpec } from '../core/definition.js';
import { compactLayout, type CompactLayout } from '../core/compact-layout.js';
import type { PackedLayout } from '../core/layout.js';

/** The slots that have a buffer (and a binding) of their own, in order. */
export function bufferSlots(slots: readonly SlotSpec[]): SlotSpec[] {
  return slots.filter((slot) => slot.storedIn === undefined);
}

/** The slot whose buffer holds `slot` (itself unless it is stored in another); refuses a `storedIn` naming no earlier buffer slot. */
export function bufferSlotOf(slots: readonly SlotSpec[], slot: SlotSpec): SlotSpec {
  if (slot.storedIn === undefined) return slot;
  const index = slots.indexOf(slot);
  const host = slots.find((s, k) => s.name === slot.storedIn && s.storedIn === undefined && (index < 0 || k < index));
  if (!host) throw new Error(`webgpu-optim: slot "${slot.name}" is stored in "${slot.storedIn}", which is not an earlier slot with a buffer of its own`);
  if (Boolean(host.squared) !== Boolean(slot.squared) || Boolean(host.alwaysF32) !== Boolean(slot.alwaysF32)) {
    throw new Error(`webgpu-optim: slot "${slot.name}" is stored in "${slot.storedIn}" but is stored differently (squared, alwaysF32 must match)`);
  }
  return host;
}

/** The names of the slots each buffer slot holds: itself first, then those stored in it. */
export function sharedNames(slots: readonly SlotSpec[]): Map<string, string[]> {
  const names = new Map(bufferSlots(slots).map((slot) => [slot.name, [slot.name]]));
  for (const slot of slots) if (slot.storedIn !== undefined) names.get(bufferSlotOf(slots, slot).name)!.push(slot.name);
  return names;
}

/**
 * The packing of the kernel's compact slots (`SlotSpec.compact`) over the tensors whose groups hold
 * them; undefined when it has none. Refuses compact slots held by different tensors.
 */
export function compactLayoutOf(config: ResolvedConfig<any>, layout: PackedLayout): CompactLayout | undefined {
  const compact = config.definition.slots(config.defines).filter((slot) => slot.compact);
  if (compact.length === 0) return undefined;
  const holds = (name: string) => (i: number) => config.definition.groupSlots(config.groups[config.tensorGroup[i]!], config.defines).includes(name);
  const key = (name: string) => layout.tensors.map((_, i) => holds(name)(i)).join();
  const other = compact.find((slot) => key(slot.name) !== key(compact[0]!.name));
  if (other) throw new Error(`webgpu-optim: compact slots "${compact[0]!.name}" and "${other.name}" are held by different tensors; one packing serves them all`);
  return compactLayout(layout, holds(compact[0]!.name));
}
