"""Start to "exported and scored": the whole `loraface train` pipeline on N photos, timed by stage.

Stages: prepare (checks and face crops), load (base model), encode (latents and prompt
embeddings, once), train (the loop, without the epoch hand-overs), epochs (per-epoch export
and samples), verify (the final files reloaded and compared), sweep (the strength row and the
scored epochs x strengths sweep, with the LoRA loaded as users load it).

    python benchmarks/end_to_end.py --photos 20 --steps 60                  # tiny base on the CPU
    python benchmarks/end_to_end.py --base /path/to/sdxl --device cuda --photos 20 --steps 1500

Each stage is timed by wrapping the pipeline's own functions (they still do all the work); the
run itself is app.trainer.cli's, the code `loraface train` runs.
"""

import argparse
import functools
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from train_speed import photos as source_photos  # noqa: E402  (the benchmarks folder is on the path)

STAGES = ("prepare", "load", "encode", "train", "epochs", "verify", "sweep")


def write_photos(folder: Path, count: int) -> list[Path]:
    """`count` distinct photos: the two real faces, flipped and cropped a little differently."""
    from PIL import Image

    sources, _ = source_photos()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        im = sources[i % len(sources)]
        if (i // len(sources)) % 2:
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        cut = (i // (2 * len(sources))) * 4  # a few pixels off each side per round: no exact duplicates
        im = im.crop((cut, cut, im.width - cut, im.height - cut))
        paths.append(folder / f"photo_{i:02d}.jpg")
        im.save(paths[-1], quality=95)
    return paths


_running: list[list] = []  # [stage, seconds spent in timed calls nested inside it]


def timed(seconds: dict, stage: str, module, name: str) -> None:
    """Wrap module.name so its wall time adds up under `stage`, exclusive of timed calls nested in
    it (the epoch hand-overs run inside the loop); the original still does all the work."""
    original = getattr(module, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        _running.append([stage, 0.0])
        try:
            return original(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            seconds[stage] += elapsed - _running.pop()[1]
            if _running:
                _running[-1][1] += elapsed

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps [default: 10 epochs]")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--base", default=None, help="base model folder or file [default: the tiny demo]")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None)
    parser.add_argument("--resolution", type=int, default=None)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    import torch

    from app.trainer import base_models, cli, encoding, loop, pipeline, sampling, sweep

    work = Path(tempfile.mkdtemp(prefix="loraface-e2e-"))
    photo_files = write_photos(work / "photos", args.photos)
    seconds = defaultdict(float)
    timed(seconds, "prepare", cli, "prepare_images")
    timed(seconds, "load", base_models, "load_pipeline")
    timed(seconds, "encode", encoding, "encode_examples")
    timed(seconds, "train", loop, "train")
    timed(seconds, "epochs", pipeline, "_export_epoch")
    timed(seconds, "verify", pipeline, "verify_exports")
    timed(seconds, "sweep", sampling, "sweep_with")
    timed(seconds, "sweep", sweep, "run_sweep")
    timed(seconds, "load", sampling, "cached_pipeline")

    cache_dir = work / "cache"
    model = base_models.resolve(args.base, cache_dir)
    if model.is_demo and (args.device or "cpu") == "cpu":
        torch.set_num_threads(
            1
        )  # as `loraface train` runs the demo model (small ops gain nothing from threads)
    started = time.perf_counter()
    report = cli._run(
        photo_files, work / "out", model, args.base, cache_dir, args.device,
        trigger="sks", class_word="woman", steps=args.steps, epochs=args.epochs, repeats=1,
        batch_size=args.batch, rank=16, alpha=16, learning_rate=1e-4, resolution=args.resolution,
        seed=123456, train_text_encoder=False, text_encoder_lr=None, name=None,
    )  # fmt: skip
    total = time.perf_counter() - started
    figures = {
        "base": "tiny demo" if model.is_demo else model.family,
        "device": sampling.pick_device(args.device),
        "photos": args.photos,
        "images_trained": report["images"],
        "steps": report["steps"],
        "epochs": report["epochs"],
        "resolution": report["settings"]["resolution"],
        "batch": args.batch,
        "total_seconds": total,
        "stages": {stage: seconds[stage] for stage in STAGES},
        "other_seconds": total - sum(seconds.values()),
        "recommended": {"epoch": report["recommended_epoch"], "strength": report["recommended_strength"]},
    }
    print(
        f"{figures['base']} on {figures['device']}: {args.photos} photos, {figures['steps']} steps at batch {args.batch}"
    )
    print(f"{'stage':<10} {'seconds':>9} {'share':>7}")
    for stage, value in [*figures["stages"].items(), ("other", figures["other_seconds"])]:
        print(f"{stage:<10} {value:>9.1f} {value / total:>7.1%}")
    print(f"{'total':<10} {total:>9.1f}   (start -> exported and scored)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
