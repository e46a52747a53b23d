"""PyTorch's own Adam on a CUDA GPU, for scale: the step time of torch.optim.Adam (fused=True and
foreach=True) on the benchmark's Adam workloads, timed with CUDA events (median of repetitions);
and torch.optim.Muon (torch 2.9+: its Newton–Schulz in bfloat16 on the tensor cores) on the Muon
matrix sets of bench/muon.ts, beside torch.optim.AdamW on the same sets ("muon" rows; skipped with
a line saying so where this torch has no optim.Muon).

    python3 bench/torch-cuda.py > bench/results/torch-cuda.json

Not part of `npm run bench`: it needs PyTorch with CUDA, and it measures native CUDA kernels,
not WebGPU. It answers "how far is a WebGPU kernel from the native one on the same card".
"""
import datetime
import json
import statistics

import torch


def transformer_mix():
    d = 256
    sizes = [8192 * d, 256 * d]
    for _ in range(4):
        sizes += [d, d, d * 3 * d, 3 * d, d * d, d, d, d, d * 4 * d, 4 * d, 4 * d * d, d]
    return sizes + [d, d]


WORKLOADS = [(f"1 × {n >> 20}M", [n]) for n in (1 << 20, 1 << 22, 1 << 24, 1 << 26)] + [
    ("2000 × 2048", [2048] * 2000),
    ("transformer d256 L4", transformer_mix()),
] + [(f"sweep {n} × 2048", [2048] * n) for n in (1, 10, 100, 500)]


def time_steps(opt, steps, reps):
    opt.step()  # warm-up: state allocation, kernels
    torch.cuda.synchronize()
    samples = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(steps):
            opt.step()
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / steps)
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "steps": steps, "samples": samples}


def gpt2_small_like():
    d = 768
    return [(d, d)] * 4 * 12 + [(d, 4 * d), (4 * d, d)] * 12


MUON_SETS = [
    ("GPT-2 small: 12 × (4 × 768², 768 × 3072, 3072 × 768)", gpt2_small_like()),
    ("2000 × 64²", [(64, 64)] * 2000),
    ("4096 × 4096", [(4096, 4096)]),
]


def muon_rows(device):
    """torch.optim.Muon against torch.optim.AdamW on each set (same lr as bench/muon.ts); FLOPs as there."""
    if not hasattr(torch.optim, "Muon"):
        return {"skipped": f"torch {torch.__version__} has no torch.optim.Muon (2.9+)"}
    rows = []
    for label, shapes in MUON_SETS:
        params = [torch.full(shape, 0.5, device=device, requires_grad=True) for shape in shapes]
        for p in params:
            p.grad = torch.full_like(p, 0.01)
        flops = sum(5 * (4 * min(s) ** 2 * max(s) + 2 * min(s) ** 3) for s in shapes)
        row = {"set": label, "matrices": len(shapes), "nsFlops": flops, "results": {}}
        for mode, make in (("muon", lambda: torch.optim.Muon(params, lr=0.02)), ("adamw", lambda: torch.optim.AdamW(params, lr=0.02))):
            opt = make()
            row["results"][mode] = time_steps(opt, steps=5, reps=5)
            del opt
        rows.append(row)
        del params
        torch.cuda.empty_cache()
    return rows


def main():
    device = torch.device("cuda")
    rows = []
    for label, sizes in WORKLOADS:
        params = [torch.full((n,), 0.5, device=device, requires_grad=True) for n in sizes]
        for p in params:
            p.grad = torch.full_like(p, 0.01)
        row = {"workload": label, "elements": sum(sizes), "tensors": len(sizes), "results": {}}
        for mode, kwargs in (("fused", {"fused": True}), ("foreach", {"foreach": True})):
            opt = torch.optim.Adam(params, lr=1e-3, **kwargs)
            row["results"][mode] = time_steps(opt, steps=20, reps=7)
            del opt
        rows.append(row)
        del params
        torch.cuda.empty_cache()
    print(json.dumps({
        "meta": {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "device": torch.cuda.get_device_name(0),
            "torch": torch.__version__,
            "clock": "CUDA events around 20 steps, ms per step, median of 7",
        },
        "rows": rows,
        "muon": muon_rows(device),
    }, indent=2))


if __name__ == "__main__":
    main()
