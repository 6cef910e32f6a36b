"""FLUX.1 face LoRA speed and memory: the real loop (app.trainer.flux) on a full-size FLUX.1
with random weights, and a whole run end to end (encode, train, export, samples, verify).

Printed per FLUX face preset (app/trainer/presets.py: fp8 base for 24 GB cards, bf16 for 80 GB):
seconds per step and it/s of the training loop at the preset's settings, peak memory of the loop
(CUDA: allocated; CPU: resident set), and the end-to-end time of a short run. A GPU run's file
also gives each preset's measured peak, which the lab shows beside the preset. Figures land in benchmarks/results/flux-<date>-<device>-<commit>.json.

    python benchmarks/flux_speed.py --model tiny --device cpu --steps 3
    python benchmarks/flux_speed.py --model full-dev --device cuda --steps 10 --warmup 3

full-dev builds the FLUX.1-dev transformer (12B), CLIP-L, T5-XXL and the VAE from the configs
shipped in app/trainer/configs/flux-dev with random weights (no download): a step's speed does
not depend on the weights' values. T5's tokenizer is the project's own small one (the sequence
is padded to 512 tokens either way, so the compute is the same). Needs about 40 GB of GPU memory
in bf16 before activations.
"""

import argparse
import dataclasses
import datetime
import json
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import results  # noqa: E402  (benchmarks/results.py: where results files go)
from train_speed import PeakMemory, make_images  # noqa: E402  (the SDXL benchmark's photos and memory probe)

RESULTS = ROOT / "benchmarks" / "results"
FLUX_PRESETS = ["FLUX.1 face, 24 GB", "FLUX.1 face, 80 GB"]


def build_pipe(model: str, device: str, cache_dir: Path):
    """(FluxPipeline, resolution): the tiny demo FLUX, or full-size FLUX.1-dev with random weights."""
    import torch

    from app.trainer import base_models

    if model == "tiny":
        base = base_models.resolve(None, cache_dir, "flux")
        return base_models.load_pipeline(base), base.default_resolution
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTokenizer,
        T5Config,
        T5EncoderModel,
        T5TokenizerFast,
    )

    from app.trainer.configs import shipped_configs
    from app.trainer.flux.tiny import tiny_flux_path

    folder = shipped_configs() / "flux-dev"
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # 12B parameters initialised in fp32 would need 48 GB
    try:
        with torch.device(device):
            transformer = FluxTransformer2DModel.from_config(
                FluxTransformer2DModel.load_config(folder / "transformer")
            )
            vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder / "vae"))
            clip = CLIPTextModel(CLIPTextConfig.from_pretrained(folder / "text_encoder"))
            t5 = T5EncoderModel(T5Config.from_pretrained(folder / "text_encoder_2"))
    finally:
        torch.set_default_dtype(previous)
    tokenizer_2 = T5TokenizerFast.from_pretrained(
        tiny_flux_path(cache_dir) / "tokenizer_2", model_max_length=512
    )
    pipe = FluxPipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler.from_pretrained(folder / "scheduler"),
        vae=vae,
        text_encoder=clip,
        tokenizer=CLIPTokenizer.from_pretrained(shipped_configs() / "sd15" / "tokenizer"),
        text_encoder_2=t5,
        tokenizer_2=tokenizer_2,
    )
    return pipe, 1024


def preset_config(name: str, resolution: int, steps: int, images: int, device: str):
    """The FLUX face preset's settings, one epoch long (no export while the clock runs)."""
    from app.trainer import presets
    from app.trainer.config import TrainConfig

    cfg = presets.apply(TrainConfig(trigger="sks", class_word="woman", preset=name), given=())
    cfg = dataclasses.replace(
        cfg, resolution=resolution, max_steps=steps, epochs=None, repeats=steps // images + 1, sample_steps=4
    )
    if device == "cpu" and cfg.optimizer == "adamw8bit":
        cfg = dataclasses.replace(cfg, optimizer="adamw")  # CPU smoke run only: 8-bit AdamW needs CUDA
    return cfg


def time_loop(pipe, images, *, cfg, warmup: int, device: str, out_dir: Path) -> dict:
    """Seconds per step of flux.loop.train after `warmup` steps, and the loop's peak memory."""
    from app.trainer.flux import encoding, loop

    started = time.perf_counter()
    examples = encoding.encode_examples(pipe, images, device, resolution=cfg.resolution)
    encoding.free_encoders(pipe)
    encode_seconds = time.perf_counter() - started
    stamps = []
    with PeakMemory(device) as memory:
        loop.train(
            cfg,
            pipe,
            examples,
            out_dir=out_dir,
            device=device,
            on_progress=lambda p: stamps.append(time.perf_counter()),
            resume=False,
        )
    timed = len(stamps) - warmup
    seconds = (stamps[-1] - stamps[warmup - 1]) / timed
    return {"seconds_per_step": seconds, "it_per_second": 1 / seconds, "peak_memory_gib": memory.gib,
            "encode_seconds": encode_seconds}  # fmt: skip


def end_to_end(pipe, images, *, cfg, device: str, out_dir: Path) -> float:
    """Wall time of a whole run through run_flux_training: encode, train, export with samples,
    final file and its reload check."""
    from app.trainer.flux.pipeline import run_flux_training

    started = time.perf_counter()
    run_flux_training(
        cfg=cfg,
        pipe=pipe,
        images=images,
        out_dir=out_dir,
        device=device,
        on_progress=lambda p: None,
        on_epoch=lambda e: None,
        should_cancel=lambda: False,
        before_write=lambda: None,
        resume=False,
    )
    return time.perf_counter() - started


def save(rows: list[dict], device: str, args) -> Path:
    import diffusers
    import peft
    import torch

    name = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    commit = results.commit_id()
    date = datetime.datetime.now(datetime.UTC)
    data = {
        "date": date.isoformat(timespec="seconds"),
        "device": device,
        "device_name": name if device.startswith("cuda") else f"CPU {platform.machine()}, {torch.get_num_threads()} threads",
        "commit": commit,
        "model": args.model,
        "family": "flux",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "diffusers": diffusers.__version__, "peft": peft.__version__},
        "settings": {"steps": args.steps, "warmup": args.warmup, "e2e_steps": args.e2e_steps,
                     "images": args.images, "rank": 16, "batch": 1},
        "figures": rows,
        # read by app.trainer.presets (GPU runs only): each preset's measured peak beside its name
        "presets": {r["preset"]: {"peak_memory_gib": r.get("peak_memory_gib"),
                                  "seconds_per_step": r.get("seconds_per_step")} for r in rows if "error" not in r},
    }  # fmt: skip
    return results.write(data, Path(args.results_dir), name=name, date=date, commit=commit, prefix="flux-")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=["tiny", "full-dev"], default="tiny")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when present")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--e2e-steps", type=int, default=20, help="steps of the end-to-end run; 0: skip it")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--preset", action="append", dest="presets", metavar="NAME",
                        help="a FLUX preset to measure (repeatable); default: every FLUX preset")  # fmt: skip
    parser.add_argument("--results-dir", default=str(RESULTS))
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()

    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    work = Path(tempfile.mkdtemp(prefix="flux-speed-"))
    rows = []
    for name in args.presets or FLUX_PRESETS:
        pipe, resolution = build_pipe(args.model, device, work / "cache")
        images, kind = make_images(work / f"photos-{resolution}", resolution, args.images)
        cfg = preset_config(name, resolution, args.warmup + args.steps, len(images), device)
        row = {"preset": name, "base_precision": cfg.base_precision, "optimizer": cfg.optimizer,
               "gradient_checkpointing": cfg.gradient_checkpointing, "resolution": resolution, "photos": kind}  # fmt: skip
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
        try:
            row.update(time_loop(pipe, images, cfg=cfg, warmup=args.warmup, device=device,
                                 out_dir=work / f"loop-{slug}"))  # fmt: skip
            if args.e2e_steps:
                pipe, _ = build_pipe(args.model, device, work / "cache")  # a fresh base: no adapter on it
                e2e_cfg = dataclasses.replace(
                    cfg, max_steps=args.e2e_steps, repeats=args.e2e_steps // len(images) + 1
                )
                row["end_to_end_seconds"] = end_to_end(pipe, images, cfg=e2e_cfg, device=device,
                                                       out_dir=work / f"e2e-{slug}")  # fmt: skip
                row["end_to_end_steps"] = args.e2e_steps
        except Exception as error:  # one preset that fails (out of memory) must not lose the others
            row["error"] = f"{type(error).__name__}: {error}"
        rows.append(row)
        pipe = None
        if device == "cuda":
            torch.cuda.empty_cache()
        shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
        print(json.dumps(shown))
    if not args.no_save:
        print(f"saved {save(rows, device, args)}")


if __name__ == "__main__":
    main()
