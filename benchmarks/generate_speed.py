"""Generation speed: seconds per image for the base model alone and with a LoRA at 0.8, the LoRA
kept as a peft adapter (what the app does) and fused into the weights; plus the time to score
one sweep cell (face detection, embeddings, hashes). The base alone is the reference.

    python benchmarks/generate_speed.py --model tiny --device cpu
    python benchmarks/generate_speed.py --model full-sdxl --device cuda --steps 25 --resolution 1024

The LoRA is a rank-16 adapter on the UNet attention projections with random (non-zero) weights,
saved and loaded exactly as a trained one is: its values do not change the cost."""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

PROMPT = "photo of sks woman, on a beach at sunset"


def write_lora(pipe, folder: Path, rank: int) -> Path:
    """A rank-`rank` diffusers LoRA file for this pipeline's UNet, the adapter then removed again."""
    import torch

    from app.trainer import export
    from app.trainer.config import TrainConfig
    from app.trainer.lora import add_lora

    cfg = TrainConfig(trigger="sks", class_word="woman", rank=rank, alpha=float(rank))
    add_lora(pipe.unet, cfg)
    g = torch.Generator().manual_seed(0)
    for name, p in pipe.unet.named_parameters():
        if "lora_B" in name:  # peft starts B at zero (a no-op); give it weights like a trained one
            p.data = (torch.randn(p.shape, generator=g) * 0.01).to(p.device, p.dtype)
    path = export.save_diffusers({"unet": pipe.unet}, folder, "sdxl")
    pipe.unet.delete_adapters(["default"])
    return path


def seconds_per_image(pipe, *, steps: int, resolution: int, repeats: int, device: str) -> float:
    """Median wall time of `repeats` images after one warm-up."""
    import torch

    from app.trainer import sampling

    times = []
    for i in range(repeats + 1):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        sampling.run_pipe(pipe, prompts=[PROMPT], seed=123456, steps=steps, resolution=resolution)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i:  # the first run warms caches and kernels
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def score_cell_seconds(resolution: int) -> float:
    """Time to score one cell of three real photos against a four-photo training set."""
    from PIL import Image

    from app.trainer import sweep_scores
    from tests.photos import astronaut, grace_hopper, square

    photos = [square(astronaut(), resolution), square(grace_hopper(), resolution)]
    training = sweep_scores.TrainingSet.from_images(
        photos + [p.transpose(Image.FLIP_LEFT_RIGHT) for p in photos]
    )
    cell = [photos[0], photos[1], photos[0].rotate(5)]
    started = time.perf_counter()
    sweep_scores.score_cell(cell, cell[::-1], training)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "full-sdxl"], default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--resolution", type=int, default=None, help="default: 128 tiny, 1024 full")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of base and LoRA runs")
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads for torch (1 is steadiest on a busy box)"
    )
    args = parser.parse_args()

    import torch
    from train_speed import build_pipe

    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.model == "tiny":
            from app.trainer import base_models
            from app.trainer.tiny import TINY_RESOLUTION

            pipe, native = (
                base_models.load_pipeline(base_models.resolve(None, tmp / "cache")),
                TINY_RESOLUTION,
            )
        else:
            pipe, native = build_pipe(args.model, args.device, tmp / "cache")
        resolution = args.resolution or native
        if args.device.startswith("cuda"):
            pipe.to(args.device, torch.bfloat16)
            pipe.vae.to(dtype=torch.float32)  # as sampling.cached_pipeline does
        else:
            pipe.to(args.device)
        pipe.set_progress_bar_config(disable=True)
        lora = write_lora(pipe, tmp / "lora", args.rank)
        run = dict(steps=args.steps, resolution=resolution, repeats=args.repeats, device=args.device)

        started = time.perf_counter()
        pipe.load_lora_weights(str(lora.parent), weight_name=lora.name, adapter_name="face")
        load = time.perf_counter() - started
        pipe.set_adapters(["face"], adapter_weights=[0.8])
        # Interleaved, so a machine whose load drifts during the run slows both sides alike.
        base_times, adapter_times = [], []
        for _ in range(args.rounds):
            pipe.disable_lora()
            base_times.append(seconds_per_image(pipe, **run))
            pipe.enable_lora()
            adapter_times.append(seconds_per_image(pipe, **run))
        base, adapter = statistics.median(base_times), statistics.median(adapter_times)
        pipe.fuse_lora(lora_scale=0.8, adapter_names=["face"])
        pipe.unload_lora_weights()  # the fused weights stay; the adapter layers go
        fused = seconds_per_image(pipe, **run)
        scoring = score_cell_seconds(min(resolution, 512))

    print(
        f"{args.model} on {args.device}: {args.steps} steps at {resolution}x{resolution}, LoRA rank {args.rank} at 0.8, "
        f"median of {args.rounds} rounds x {args.repeats}, base and LoRA interleaved"
    )
    print(f"  base model alone (reference)   {base:8.3f} s/image")
    print(f"  with LoRA, peft adapter        {adapter:8.3f} s/image  ({100 * (adapter / base - 1):+.1f}%)")
    print(f"  with LoRA, fused into weights  {fused:8.3f} s/image  ({100 * (fused / base - 1):+.1f}%)")
    print(f"  loading the LoRA file          {load:8.3f} s")
    print(f"  scoring one sweep cell (3 images, dlib + hashes)  {scoring:.3f} s")


if __name__ == "__main__":
    main()
