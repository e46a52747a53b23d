/**
 * Setup of the gpu-node project: the GPU tests run unchanged in Node, with `navigator.gpu` from the
 * `webgpu` package (Dawn). Dawn needs a Vulkan driver: scripts/test.sh points it at SwiftShader's
 * (shipped with Debian's Chromium) when the host has no Vulkan loader of its own.
 */
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
