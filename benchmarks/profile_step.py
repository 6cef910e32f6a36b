"""Where a training step's time goes: torch.profiler over a few steps of app.trainer.loop.train.

Prints, per step: time by region (UNet forward, backward, gradient clipping, optimizer, the rest),
the top ops by CPU time (and CUDA time on a GPU), ops dispatched, kernel launches, host-device
syncs with where they come from, memory copies, concatenations and the attention kernel used.

    python benchmarks/profile_step.py --model tiny --device cpu
    python benchmarks/profile_step.py --model sdxl --device cuda --batch 1 --json out.json

On CUDA the syncs are counted with torch.cuda.set_sync_debug_mode("warn") (every synchronizing
call warns, with the line that made it); on the CPU there is no device to wait for, so the
calls that would sync on a GPU are counted instead: aten::_local_scalar_dense (.item()) by call
site. The one loss read per step, one step late, is the loop's only expected one.
"""

import argparse
import json
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from train_speed import build_pipe, make_images  # noqa: E402  (the benchmarks folder is on the path)

REGIONS = {
    "unet.forward": "UNet forward",
    "backward": "backward",
    "clip_grad_norm_": "clip grad norm",
    "Optimizer.step#AdamW.step": "AdamW step",
    "Optimizer.zero_grad#AdamW.zero_grad": "zero_grad",
}
COUNTED = {
    "ops dispatched (aten::*)": lambda name: name.startswith("aten::"),
    "kernel launches": lambda name: name in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC"),
    "host->device / device->host copies": lambda name: name in ("cudaMemcpyAsync", "cudaMemcpy"),
    "stream/device synchronize": lambda name: (
        name in ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize")
    ),
    ".item() reads (aten::_local_scalar_dense)": lambda name: name == "aten::_local_scalar_dense",
    "aten::copy_": lambda name: name == "aten::copy_",
    "aten::cat": lambda name: name == "aten::cat",
    "aten::_to_copy (dtype/device casts)": lambda name: name == "aten::_to_copy",
}
ATTENTION = "scaled_dot_product"  # aten::_scaled_dot_product_{flash,efficient,cudnn}_attention[_for_cpu]


def instrument(unet):
    """Label the UNet forward, backward and clipping as profiler regions (optimizer steps label
    themselves); returns a function that undoes it."""
    import torch
    from torch.profiler import record_function

    open_regions = []

    def pre(module, args, kwargs):
        region = record_function("unet.forward")
        region.__enter__()
        open_regions.append(region)

    def post(module, args, kwargs, output):
        open_regions.pop().__exit__(None, None, None)

    handles = [
        unet.register_forward_pre_hook(pre, with_kwargs=True),
        unet.register_forward_hook(post, with_kwargs=True),
    ]
    backward, clip = torch.Tensor.backward, torch.nn.utils.clip_grad_norm_

    def labelled_backward(self, *args, **kwargs):
        with record_function("backward"):
            return backward(self, *args, **kwargs)

    def labelled_clip(*args, **kwargs):
        with record_function("clip_grad_norm_"):
            return clip(*args, **kwargs)

    torch.Tensor.backward, torch.nn.utils.clip_grad_norm_ = labelled_backward, labelled_clip

    def undo():
        for handle in handles:
            handle.remove()
        torch.Tensor.backward, torch.nn.utils.clip_grad_norm_ = backward, clip

    return undo


def profile(args) -> dict:
    """Run the loop under the profiler; returns the per-step figures."""
    import torch
    from torch.profiler import ProfilerActivity, schedule

    from app.trainer import config, encoding, loop

    on_cuda = args.device == "cuda"
    work = Path(tempfile.mkdtemp(prefix="loraface-profile-"))
    pipe, resolution = build_pipe(
        "tiny" if args.model == "tiny" else "full-sdxl", args.device, work / "cache"
    )
    resolution = args.resolution or resolution
    images, _ = make_images(work / "images", resolution, max(4, args.batch))
    total = args.warmup + args.steps + 2  # the run's last step checkpoints: keep it out of the window
    cfg = config.TrainConfig(
        trigger="sks",
        class_word="woman",
        resolution=resolution,
        max_steps=total,
        batch_size=args.batch,
        repeats=total * args.batch // len(images) + 1,  # one epoch: no checkpoint inside the window
        channels_last=args.channels_last,
        **({"compile_blocks": True} if args.compile_blocks else {}),
    )
    examples = encoding.encode_examples(pipe, images, args.device)
    encoding.free_encoders(pipe)
    if on_cuda:
        pipe.unet.to(dtype=torch.bfloat16)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    window = schedule(wait=args.warmup - 1, warmup=1, active=args.steps, repeat=1)
    undo = instrument(pipe.unet)
    syncs: Counter = Counter()
    try:
        with (
            torch.profiler.profile(activities=activities, schedule=window) as prof,
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            if on_cuda:
                torch.cuda.set_sync_debug_mode("warn")
            # on_progress runs once per step (for the step before), so each profiler step is one loop step
            loop.train(
                cfg, pipe, examples, out_dir=work / "run", device=args.device,
                on_progress=lambda p: prof.step(), resume=False,
            )  # fmt: skip
            if on_cuda:
                torch.cuda.set_sync_debug_mode("default")
        for w in caught:
            if "synchroniz" in str(w.message):
                syncs[f"{Path(w.filename).name}:{w.lineno}"] += 1
    finally:
        undo()
    return summarise(prof, args, syncs, total, resolution)


def region_of(event) -> str:
    """The labelled region an op ran in (its nearest labelled ancestor), else "loop"."""
    while event is not None:
        if event.name in REGIONS:
            return REGIONS[event.name]
        event = event.cpu_parent
    return "loop"


def summarise(prof, args, syncs: Counter, total_steps: int, resolution: int) -> dict:
    """Per-step figures from the profiler's averages."""
    n = args.steps
    averages = prof.key_averages()
    steps = [e for e in prof.events() if e.name.startswith("ProfilerStep")]
    step_ms = sum(e.cpu_time_total for e in steps) / max(1, len(steps)) / 1e3
    by_name = {e.key: e for e in averages}

    def device_ms(event) -> float:
        return getattr(event, "device_time_total", getattr(event, "cuda_time_total", 0.0)) / 1e3 / n

    regions = {
        label: {
            "cpu_ms": by_name[key].cpu_time_total / 1e3 / n if key in by_name else 0.0,
            "device_ms": device_ms(by_name[key]) if key in by_name else 0.0,
        }
        for key, label in REGIONS.items()
    }
    ops = [e for e in averages if e.key.startswith("aten::")]
    top_cpu = sorted(ops, key=lambda e: e.self_cpu_time_total, reverse=True)[: args.top]
    top_device = sorted(ops, key=lambda e: getattr(e, "self_device_time_total", 0.0), reverse=True)
    counts = {label: sum(e.count for e in averages if match(e.key)) / n for label, match in COUNTED.items()}
    item_sites = Counter(region_of(e) for e in prof.events() if e.name == "aten::_local_scalar_dense")
    return {
        "model": args.model,
        "device": args.device,
        "batch": args.batch,
        "resolution": resolution,
        "profiled_steps": n,
        "step_ms": step_ms,
        "regions": regions,
        "counts_per_step": counts,
        "item_call_sites": {site: count / n for site, count in item_sites.items()},
        "cuda_syncs_per_step": {site: count / total_steps for site, count in syncs.items()},
        "attention_ops": sorted({e.key for e in ops if ATTENTION in e.key}),
        "top_cpu_ops": [
            {"op": e.key, "calls": e.count / n, "self_cpu_ms": e.self_cpu_time_total / 1e3 / n}
            for e in top_cpu
        ],
        "top_device_ops": [
            {"op": e.key, "calls": e.count / n, "self_device_ms": e.self_device_time_total / 1e3 / n}
            for e in top_device[: args.top]
            if getattr(e, "self_device_time_total", 0.0) > 0
        ],
    }


def print_report(r: dict) -> None:
    """The figures as plain tables."""
    print(
        f"{r['model']} on {r['device']}, batch {r['batch']}, {r['resolution']} px, {r['profiled_steps']} profiled steps"
    )
    print(f"step (host wall, profiled): {r['step_ms']:.2f} ms\n")
    print(f"{'region':<22} {'CPU ms/step':>12} {'share':>7} {'CUDA ms/step':>13}")
    for label, t in r["regions"].items():
        share = t["cpu_ms"] / r["step_ms"] if r["step_ms"] else 0.0
        print(f"{label:<22} {t['cpu_ms']:>12.2f} {share:>7.1%} {t['device_ms']:>13.2f}")
    rest = r["step_ms"] - sum(t["cpu_ms"] for t in r["regions"].values())
    print(f"{'rest of the step':<22} {rest:>12.2f} {rest / r['step_ms'] if r['step_ms'] else 0:>7.1%}\n")
    print(f"{'per step':<44} {'count':>8}")
    for label, count in r["counts_per_step"].items():
        print(f"{label:<44} {count:>8.1f}")
    print("\n.item() reads per step, by region:", r["item_call_sites"] or "none")
    if r["device"] == "cuda":
        print("synchronizing CUDA calls per step:", r["cuda_syncs_per_step"] or "none")
    print("attention kernels:", ", ".join(r["attention_ops"]) or "none")
    print(f"\n{'top ops by self CPU time':<44} {'calls':>7} {'ms/step':>9}")
    for op in r["top_cpu_ops"]:
        print(f"{op['op']:<44} {op['calls']:>7.1f} {op['self_cpu_ms']:>9.3f}")
    if r["top_device_ops"]:
        print(f"\n{'top ops by self CUDA time':<44} {'calls':>7} {'ms/step':>9}")
        for op in r["top_device_ops"]:
            print(f"{op['op']:<44} {op['calls']:>7.1f} {op['self_device_ms']:>9.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=["tiny", "sdxl"], default="tiny")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--resolution", type=int, default=None, help="default: 128 tiny, 1024 sdxl")
    parser.add_argument("--warmup", type=int, default=3, help="unprofiled steps first (at least 2)")
    parser.add_argument("--steps", type=int, default=5, help="profiled steps")
    parser.add_argument("--top", type=int, default=15, help="rows in the top-ops tables")
    parser.add_argument("--compile-blocks", action="store_true", help="compile the transformer blocks")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    if args.warmup < 2:
        parser.error("--warmup must be at least 2 (the first profiler step holds the loop's set-up)")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA GPU is visible to torch")
    result = profile(args)
    print_report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
