/**
 * Muon's table in the results (bench/muon.ts measures the rows): Newton–Schulz GFLOP/s of the Muon
 * step and its share of the adapter's f32 FMA peak where the card is known, Muon against AdamW on
 * the same set, and jax-js's jit-compiled Muon.
 */

/** f32 FMA peaks (TFLOP/s, FP32 without tensor cores) of cards the benchmark runs on, by adapter text. */
const F32_PEAKS = [
  [/H100|H200/i, 67],
  [/A100/i, 19.5],
  [/RTX 4090/i, 82.6],
];

const ok = (o) => o && typeof o.median === 'number';
const cell = (o) => (ok(o) ? o.median.toPrecision(3) : o?.skipped ? 'n/a' : o?.error ? 'error' : '–');

/** The f32 peak (TFLOP/s) of the run's adapter, or undefined (unknown cards, software adapters). */
export function f32Peak(meta) {
  const a = meta?.adapter ?? {};
  const text = `${a.vendor ?? ''} ${a.architecture ?? ''} ${a.device ?? ''} ${a.description ?? ''}`;
  return F32_PEAKS.find(([pattern]) => pattern.test(text))?.[1];
}

/** Markdown lines of the Muon table (none when the run has no Muon rows). */
export function muonTable(results, software) {
  const rows = results.muon ?? [];
  if (rows.length === 0) return [];
  const peak = f32Peak(results.meta);
  const lines = [
    `Muon (bench/muon.ts), ms per step${software ? ' — **CPU timings (SwiftShader), not GPU speed**' : ''}. Newton–Schulz GFLOP/s = the FLOPs of 5 full Newton–Schulz steps (4m²n + 2m³ each) ÷ the Muon step; share of the f32 FMA peak ${peak ? `(${peak} TFLOP/s)` : '(unknown for this adapter)'}:`,
    '',
    '| matrix set | matrices | NS GFLOP | Muon | NS GFLOP/s | % f32 peak | AdamW | Muon ÷ AdamW | jax-js Muon (jit) | jax-js ÷ Muon |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const gflops = ok(r.muon) ? r.nsFlops / 1e9 / (r.muon.median / 1e3) : undefined;
    const share = gflops !== undefined && peak ? `${((gflops / (peak * 1e3)) * 100).toPrecision(2)} %` : '–';
    const over = (a, b) => (ok(a) && ok(b) ? `${(a.median / b.median).toPrecision(3)}×` : '–');
    lines.push(
      `| ${r.set} | ${r.matrices} | ${(r.nsFlops / 1e9).toPrecision(3)} | ${cell(r.muon)} | ${gflops === undefined ? '–' : gflops.toPrecision(3)} | ${share} | ${cell(r.adamw)} | ${over(r.muon, r.adamw)} | ${cell(r.jax)} | ${over(r.jax, r.muon)} |`,
    );
  }
  // Which GEMM variant ran (runs before it was recorded have none).
  if (rows[0].gemms) lines.push('', `Newton–Schulz GEMMs: ${rows[0].gemms}.`);
  const notes = rows.flatMap((r) => ['muon', 'adamw', 'jax'].filter((k) => r[k]?.skipped || r[k]?.error).map((k) => `- ${r.set}, ${k}: ${r[k].skipped ?? `error: ${r[k].error}`}`));
  return notes.length ? [...lines, '', ...notes] : lines;
}
