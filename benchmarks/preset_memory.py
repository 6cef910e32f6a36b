"""Peak memory of each SDXL preset: encode + a few training steps of app.trainer.loop with the
preset's settings, on the full-size SDXL built from the shipped configs with random weights (the
memory of a step does not depend on the weights' values). Writes benchmarks/results/<date>-<gpu>-
<commit>.json under benchmarks/results/presets/ (apart from the speed files) with {"presets": {name: {"peak_memory_gib": ...}}}, which app.trainer.presets
shows beside each preset; a CPU run (--model tiny, a smoke test at 128 px) is never shown there.

    python benchmarks/preset_memory.py --device cuda --steps 4
    python benchmarks/preset_memory.py --model tiny --device cpu --no-save
"""

import argparse
import dataclasses
import datetime
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from train_speed import PeakMemory, build_pipe, make_images  # noqa: E402

from app.trainer import config, encoding, loop, presets  # noqa: E402

SDXL_PRESETS = [p.name for p in presets.PRESETS.values() if p.family == "sdxl"]


def measure(name: str, args, device: str, work: Path) -> dict:
    """Peak memory of encode + `args.steps` steps with the preset's settings on a fresh pipeline."""
    import torch

    pipe, resolution = build_pipe(args.model, device, work / "cache")
    cfg = presets.apply(config.TrainConfig(trigger="sks", class_word="woman", preset=name), given=())
    cfg = dataclasses.replace(cfg, max_steps=args.steps, epochs=None, sample_steps=1, resolution=resolution)
    if device == "cpu" and cfg.optimizer == "adamw8bit":
        cfg = dataclasses.replace(cfg, optimizer="adamw")  # CPU smoke run only: 8-bit AdamW needs CUDA
    if device.startswith("cuda"):
        pipe.unet.to(dtype=torch.bfloat16)  # the product moves the UNet over in bf16 (see train_speed)
    if cfg.vae_tiling:
        pipe.vae.enable_tiling()
    images, _ = make_images(
        work / name.replace(" ", "_").replace(",", ""), resolution, max(2, cfg.batch_size)
    )
    try:
        with PeakMemory(device) as memory:
            examples = encoding.encode_examples(pipe, images, device, resolution=resolution)
            encoding.free_encoders(pipe)
            loop.train(cfg, pipe, examples, out_dir=work / "out" / name, device=device, resume=False)
        return {
            "peak_memory_gib": round(memory.gib, 2),
            "resolution": resolution,
            "steps": args.steps,
            "error": None,
        }
    except Exception as exc:  # e.g. bitsandbytes missing: recorded, never a figure
        return {
            "peak_memory_gib": None,
            "resolution": resolution,
            "steps": args.steps,
            "error": str(exc)[:200],
        }
    finally:
        del pipe


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=["tiny", "full-sdxl"], default="full-sdxl")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--results-dir", default=str(ROOT / "benchmarks" / "results" / "presets"))
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    work = Path(tempfile.mkdtemp(prefix="loraface-presets-"))
    figures = {}
    for name in SDXL_PRESETS:
        figures[name] = measure(name, args, device, work)
        print(f"{name}: {figures[name]}", flush=True)
    print("SD 1.5 face, 8 GB: not measured (this script builds full-size SDXL only)")
    if args.no_save:
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    data = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "device": device,
        "device_name": name,
        "commit": commit.stdout.strip() or "nocommit",
        "model": args.model,
        "presets": figures,
    }
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    path = Path(args.results_dir) / f"{datetime.date.today():%Y-%m-%d}-{slug}-{data['commit']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
