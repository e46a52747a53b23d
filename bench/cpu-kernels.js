/**
 * CPU baselines. `createFastCpuStep` is the fastest plain-JS loop we could write for each
 * optimizer: one pass over Float32Arrays, scalars hoisted, float64 arithmetic (no Math.fround),
 * no allocation. The float32-exact reference (`createReferenceOptimizer`) is measured separately.
 */

/**
 * @typedef {{ param: Float32Array, grad: Float32Array, s1: Float32Array, s2: Float32Array }} CpuState
 * @typedef {(st: CpuState, t: number, begin: number, end: number) => void} CpuKernel
 */

/**
 * The plain-JS loop of an optimizer, or why there is none: an optimizer without a loop here gets
 * a skipped CPU cell in its row (the row says so) instead of a failed run.
 * @param {{ name: string }} opt
 * @returns {{ kernel: CpuKernel } | { skipped: string }}
 */
export function cpuLoopFor(opt) {
  const kernel = fastCpuKernel(opt);
  return kernel ? { kernel } : { skipped: `no plain-JS loop for ${opt.name} in bench/cpu-kernels.js` };
}

/**
 * Adam's loop; AdamW's is the same with the parameters decayed by `decay` (1 - lr × weight_decay) first.
 * @param {number} decay @returns {CpuKernel}
 */
function adamLoop(decay) {
  return ({ param, grad, s1, s2 }, t, begin, end) => {
    const lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const stepSize = lr / (1 - b1 ** t), bc2 = Math.sqrt(1 - b2 ** t);
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const m = b1 * s1[i] + (1 - b1) * g; const v = b2 * s2[i] + (1 - b2) * g * g;
      s1[i] = m; s2[i] = v; param[i] = param[i] * decay - (stepSize * m) / (Math.sqrt(v) / bc2 + eps);
    }
  };
}

/**
 * The loops by the optimizer's name.
 * @type {Record<string, CpuKernel>}
 */
const CPU_LOOPS = {
  sgd: ({ param, grad, s1 }, t, begin, end) => {
    const lr = 0.01, mu = 0.9;
    if (t === 1) {
      for (let i = begin; i < end; i++) { const g = grad[i]; s1[i] = g; param[i] = param[i] - lr * g; }
    } else {
      for (let i = begin; i < end; i++) { const b = mu * s1[i] + grad[i]; s1[i] = b; param[i] = param[i] - lr * b; }
    }
  },
  adagrad: ({ param, grad, s1 }, _t, begin, end) => {
    const lr = 0.01, eps = 1e-10;
    for (let i = begin; i < end; i++) { const g = grad[i]; const s = s1[i] + g * g; s1[i] = s; param[i] = param[i] - (lr * g) / (Math.sqrt(s) + eps); }
  },
  rmsprop: ({ param, grad, s1 }, _t, begin, end) => {
    const lr = 0.01, a = 0.99, oma = 1 - a, eps = 1e-8;
    for (let i = begin; i < end; i++) { const g = grad[i]; const s = a * s1[i] + oma * g * g; s1[i] = s; param[i] = param[i] - (lr * g) / (Math.sqrt(s) + eps); }
  },
  adadelta: ({ param, grad, s1, s2 }, _t, begin, end) => {
    const rho = 0.9, omr = 0.1, eps = 1e-6;
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const sq = rho * s1[i] + omr * g * g; s1[i] = sq;
      const acc = s2[i]; const d = (Math.sqrt(acc + eps) / Math.sqrt(sq + eps)) * g;
      s2[i] = rho * acc + omr * d * d; param[i] = param[i] - d;
    }
  },
  adam: adamLoop(1),
  adamw: adamLoop(1 - 1e-3 * 1e-2),
  adamax: ({ param, grad, s1, s2 }, t, begin, end) => {
    const b1 = 0.9, b2 = 0.999, eps = 1e-8, clr = 2e-3 / (1 - b1 ** t);
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const m = b1 * s1[i] + (1 - b1) * g; const u = Math.max(b2 * s2[i], Math.abs(g) + eps);
      s1[i] = m; s2[i] = u; param[i] = param[i] - (clr * m) / u;
    }
  },
  nadam: ({ param, grad, s1, s2 }, t, begin, end) => {
    const lr = 2e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, psi = 4e-3;
    const mu = (k) => b1 * (1 - 0.5 * 0.96 ** (k * psi));
    let mp = 1;
    for (let k = 1; k <= t; k++) mp *= mu(k);
    const c1 = (lr * (1 - mu(t))) / (1 - mp), c2 = (lr * mu(t + 1)) / (1 - mp * mu(t + 1)), bc2 = 1 - b2 ** t;
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const m = b1 * s1[i] + (1 - b1) * g; const v = b2 * s2[i] + (1 - b2) * g * g;
      s1[i] = m; s2[i] = v; param[i] = param[i] - (c1 * g + c2 * m) / (Math.sqrt(v / bc2) + eps);
    }
  },
  radam: ({ param, grad, s1, s2 }, t, begin, end) => {
    const lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    const rhoInf = 2 / (1 - b2) - 1, rhoT = rhoInf - (2 * t * b2 ** t) / bc2;
    const rect = rhoT > 5 ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
    const scale = (lr / bc1) * rect * Math.sqrt(bc2);
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const m = b1 * s1[i] + (1 - b1) * g; const v = b2 * s2[i] + (1 - b2) * g * g;
      s1[i] = m; s2[i] = v; param[i] = param[i] - (rect > 0 ? (scale * m) / (Math.sqrt(v) + eps) : (lr / bc1) * m);
    }
  },
  rprop: ({ param, grad, s1, s2 }, t, begin, end) => {
    if (t === 1) s2.fill(1e-2, begin, end);
    for (let i = begin; i < end; i++) {
      let g = grad[i]; const product = g * s1[i];
      const step = Math.min(Math.max(s2[i] * (product > 0 ? 1.2 : product < 0 ? 0.5 : 1), 1e-6), 50);
      s2[i] = step; if (product < 0) g = 0; s1[i] = g; param[i] = param[i] - Math.sign(g) * step;
    }
  },
  adamw_schedule_free: ({ param, grad, s1, s2 }, t, begin, end) => {
    const lr = 0.0025, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    if (t === 1) s1.set(param.subarray(begin, end), begin); // z starts at the parameters
    // Release 1.3: plain lr, so every weight is lr² and c = 1/t; v bias-corrected inside the root.
    const c = 1 / t, yc = lr * (b1 * (1 - c) - 1), bc2 = 1 - b2 ** t;
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const v = b2 * s2[i] + (1 - b2) * g * g; s2[i] = v;
      const gn = g / (Math.sqrt(v / bc2) + eps); const z = s1[i]; const y = param[i];
      param[i] = y + c * (z - y) + yc * gn; s1[i] = z - lr * gn;
    }
  },
  adamw_schedule_free_paper: ({ param, grad, s1, s2 }, t, begin, end) => {
    const lr = 0.0025, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    if (t === 1) s1.set(param.subarray(begin, end), begin); // z starts at the parameters
    let weightSum = 0, weight = 0;
    for (let k = 1; k <= t; k++) { weight = (lr * Math.sqrt(1 - b2 ** k)) ** 2; weightSum += weight; }
    const lrT = lr * Math.sqrt(1 - b2 ** t), c = weight / weightSum, yc = lrT * (b1 * (1 - c) - 1);
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const v = b2 * s2[i] + (1 - b2) * g * g; s2[i] = v;
      const gn = g / (Math.sqrt(v) + eps); const z = s1[i]; const y = param[i];
      param[i] = y + c * (z - y) + yc * gn; s1[i] = z - lrT * gn;
    }
  },
  lion: ({ param, grad, s1 }, _t, begin, end) => {
    const lr = 1e-4, b1 = 0.9, b2 = 0.99;
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const m = s1[i];
      param[i] = param[i] - lr * Math.sign(b1 * m + (1 - b1) * g); s1[i] = b2 * m + (1 - b2) * g;
    }
  },
  // Layer-wise: [begin, end) is taken as one tensor. Two passes, as the GPU's: the norms (and
  // the state), then the step. A workload of many tensors does the same work per element.
  lamb: ({ param, grad, s1, s2 }, t, begin, end) => {
    const lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-6, bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    let pp = 0, uu = 0;
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const m = (1 - b1) * g + b1 * s1[i]; const v = (1 - b2) * g * g + b2 * s2[i]; s1[i] = m; s2[i] = v;
      const u = m / bc1 / (Math.sqrt(v / bc2) + eps); pp += param[i] * param[i]; uu += u * u;
    }
    const step = pp > 0 && uu > 0 ? lr * Math.sqrt(pp / uu) : lr;
    for (let i = begin; i < end; i++) param[i] = param[i] - step * (s1[i] / bc1 / (Math.sqrt(s2[i] / bc2) + eps));
  },
  lars: ({ param, grad, s1 }, _t, begin, end) => {
    const lr = 0.1, eta = 0.001, mu = 0.9;
    let pp = 0, gg = 0;
    for (let i = begin; i < end; i++) { pp += param[i] * param[i]; gg += grad[i] * grad[i]; }
    const step = pp > 0 && gg > 0 ? lr * eta * Math.sqrt(pp / gg) : lr;
    for (let i = begin; i < end; i++) { const tr = -step * grad[i] + mu * s1[i]; s1[i] = tr; param[i] = param[i] + tr; }
  },
  // A vector (the benchmark's tensors have no shape): the full variance.
  adafactor: ({ param, grad, s1 }, t, begin, end) => {
    const w = t ** -0.8, rho = Math.min(1e-2, 1 / Math.sqrt(t)), eps1Sq = 2 ** -46, n = end - begin;
    let pp = 0, uu = 0;
    for (let i = begin; i < end; i++) {
      const g = grad[i]; const v = s1[i] + w * (g * g - s1[i]); s1[i] = v;
      const u = g / Math.sqrt(Math.max(v, eps1Sq)); pp += param[i] * param[i]; uu += u * u;
    }
    const step = (Math.max(1e-3, Math.sqrt(pp / n)) * rho) / Math.max(1, Math.sqrt(uu / n));
    for (let i = begin; i < end; i++) param[i] = param[i] - step * (grad[i] / Math.sqrt(Math.max(s1[i], eps1Sq)));
  },
};

/** @param {{ name: string }} opt @returns {CpuKernel | undefined} undefined for an optimizer it has no loop for */
export function fastCpuKernel(opt) {
  return Object.hasOwn(CPU_LOOPS, opt.name) ? CPU_LOOPS[opt.name] : undefined;
}

/** @param {number} elements @param {(bytes: number) => ArrayBufferLike} [backing] @returns {CpuState} */
export function makeCpuState(elements, backing = (b) => new ArrayBuffer(b)) {
  const make = () => new Float32Array(backing(elements * 4));
  const st = { param: make(), grad: make(), s1: make(), s2: make() };
  for (let i = 0; i < elements; i++) {
    st.param[i] = Math.sin(i) * 0.5;
    st.grad[i] = Math.cos(i * 0.7) * 0.1;
  }
  return st;
}
