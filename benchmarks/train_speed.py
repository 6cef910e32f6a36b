"""Training speed: LoRAFace's LoRA loop against a plain reference loop, same model, same run.

ours       app.trainer.lora.train: latents and text embeddings computed once before the loop
           (the VAE and text encoders then leave the GPU), UNet weights in bf16 under bf16
           autocast on CUDA, fused AdamW, the loss read one step late (no per-step GPU stall).
reference  the plain diffusers-example loop without its caching options: every step encodes the
           images with the VAE and the prompts with the text encoders, UNet weights in fp32
           under bf16 autocast (fp32 on CPU), torch AdamW, loss.item() every step.

Both train a rank-16 LoRA on the UNet's attention projections from the same images. Printed per
batch size: it/s, images/s, peak memory of the loop, MFU (CUDA; a step is 14.8 TFLOP per image at
1024x1024, scaled by the pixel count) and the speed ratio ours/reference.

    python benchmarks/train_speed.py --model tiny --device cpu
    python benchmarks/train_speed.py --model full-sdxl --device cuda --batch-sizes 1,4 --steps 10

Needs torch, diffusers, transformers, peft, safetensors (and Pillow, numpy). full-sdxl builds the
full-size SDXL UNet, VAE and both text encoders from the configs shipped in app/trainer/configs
with random weights (no download): speed does not depend on the weights' values.
"""

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TFLOP_PER_IMAGE_1024 = 14.8e12  # forward + backward of the SDXL UNet at 1024x1024, one image
CAPTION = "photo of sks woman"


# ---- model and data ----


def build_pipe(model: str, device: str, cache_dir: Path):
    """(pipeline, resolution): the tiny demo SDXL, or a full-size SDXL with random weights."""
    from app.trainer import base_models

    if model == "tiny":
        return base_models.load_pipeline(base_models.resolve(None, cache_dir)), 128
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    folder = base_models.CONFIGS / "sdxl"
    torch.manual_seed(0)
    # Random init of 3.5 B parameters takes minutes on a CPU and seconds on a GPU.
    with torch.device(device):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder / "unet"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder / "vae"))
        text_encoder = CLIPTextModel(CLIPTextConfig.from_pretrained(folder / "text_encoder"))
        text_encoder_2 = CLIPTextModelWithProjection(
            CLIPTextConfig.from_pretrained(folder / "text_encoder_2")
        )
    pipe = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=CLIPTokenizer.from_pretrained(folder / "tokenizer"),
        tokenizer_2=CLIPTokenizer.from_pretrained(folder / "tokenizer_2"),
        unet=unet,
        scheduler=EulerDiscreteScheduler.from_pretrained(folder / "scheduler"),
    )
    return pipe, 1024


def photos() -> tuple[list, str]:
    """Real face photos when scikit-image/matplotlib are installed, else seeded noise images
    (the speed of a training step does not depend on what the pixels show)."""
    from PIL import Image

    try:
        import matplotlib.cbook as cbook
        from skimage import data

        with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
            hopper = im.convert("RGB")
        return [Image.fromarray(data.astronaut()), hopper], "astronaut + grace_hopper photos"
    except ImportError:
        import numpy as np

        rng = np.random.default_rng(0)
        return [
            Image.fromarray(rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)) for _ in range(2)
        ], "noise images"


def make_images(folder: Path, resolution: int, count: int) -> tuple[list, str]:
    """`count` centre crops at the training size, as TrainImages."""
    from PIL import Image

    from app.trainer.pipeline import TrainImage

    sources, kind = photos()
    folder.mkdir(parents=True, exist_ok=True)
    images = []
    for i in range(count):
        im = sources[i % len(sources)]
        if i >= len(sources):
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        side = min(im.size)
        left, top = (im.width - side) // 2, (im.height - side) // 2
        path = folder / f"img_{i}.png"
        im.crop((left, top, left + side, top + side)).resize((resolution, resolution), Image.LANCZOS).save(
            path
        )
        images.append(TrainImage(path=path, caption=CAPTION, original_size=(side, side)))
    return images, kind


# ---- memory ----


class PeakMemory:
    """Peak memory while a block runs: allocated CUDA memory, or the process's resident set
    sampled every 5 ms on the CPU (ru_maxrss cannot be reset between the two loops)."""

    def __init__(self, device: str):
        self.device, self.peak, self._stop = device, 0, threading.Event()

    def __enter__(self):
        import torch

        gc.collect()
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        else:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            with open("/proc/self/statm") as fh:
                self.peak = max(self.peak, int(fh.read().split()[1]) * page)
            time.sleep(0.005)

    def __exit__(self, *exc):
        import torch

        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        else:
            self._stop.set()
            self._thread.join()

    @property
    def gib(self) -> float:
        return self.peak / 2**30


# ---- the two loops ----


def time_ours(
    pipe,
    images,
    *,
    batch,
    steps,
    warmup,
    resolution,
    device,
    out_dir,
    compile_unet,
    channels_last,
    checkpointing,
):
    """Our loop: encode once, then app.trainer.lora.train; the clock starts after warm-up."""
    import torch

    from app.trainer import lora

    total = warmup + steps
    cfg = lora.TrainConfig(
        trigger="sks",
        class_word="woman",
        resolution=resolution,
        rank=16,
        alpha=16.0,
        max_steps=total,
        batch_size=batch,
        repeats=total * batch // len(images) + 1,  # one epoch covers the run: no checkpoint mid-timing
        compile_unet=compile_unet,
        channels_last=channels_last,
        gradient_checkpointing=checkpointing,
    )
    started = time.perf_counter()
    examples = lora.encode_examples(pipe, images, device)
    lora.free_encoders(pipe)
    if device.startswith("cuda"):
        # The product loads the UNet on the CPU and moves it over in bf16; the benchmark built it on
        # the GPU in fp32, so cast it now, before the memory peak is measured.
        pipe.unet.to(dtype=torch.bfloat16)
        torch.cuda.synchronize()
    encode_seconds = time.perf_counter() - started
    stamps = []

    def on_progress(p):
        stamps.append(time.perf_counter())

    with PeakMemory(device) as memory:
        lora.train(cfg, pipe, examples, out_dir=out_dir, device=device, on_progress=on_progress, resume=False)
    seconds = (stamps[-1] - stamps[warmup - 1]) / steps
    return seconds, memory.gib, encode_seconds


def time_reference(pipe, images, *, batch, steps, warmup, resolution, device):
    """The reference loop: VAE + both text encoders every step, fp32 UNet weights under autocast."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler
    from PIL import Image

    from app.trainer import lora

    on_cuda = device.startswith("cuda")
    unet, vae = pipe.unet.to(device, dtype=torch.float32), pipe.vae.to(device, dtype=torch.float32)
    for encoder in lora.text_encoders(pipe):
        encoder.to(device, dtype=torch.float32)
    unet.requires_grad_(False)
    unet.add_adapter(
        lora.lora_config(
            lora.TrainConfig(trigger="sks", class_word="woman", rank=16, alpha=16.0), lora.UNET_TARGETS
        )
    )
    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-4)
    scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    pixels = []
    for item in images:
        with Image.open(item.path) as im:
            pixels.append(
                torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)
            )
    unet.train()
    stamps = []
    with PeakMemory(device) as memory:
        for step in range(warmup + steps):
            idx = [(step * batch + k) % len(pixels) for k in range(batch)]
            x = torch.stack([pixels[i] for i in idx]).to(device)
            with torch.no_grad():
                latents = vae.encode(x).latent_dist.sample() * vae.config.scaling_factor
                ids = lora.tokenize(pipe, CAPTION)
                ids = tuple(t.repeat(batch, 1) for t in ids)
                embeds, pooled = lora.encode_ids(pipe, ids, device)
            time_ids = torch.tensor(
                [[resolution, resolution, 0, 0, resolution, resolution]] * batch,
                device=device,
                dtype=torch.float32,
            )
            noise = torch.randn_like(latents)
            t = torch.randint(0, scheduler.config.num_train_timesteps, (batch,), device=device)
            noisy = scheduler.add_noise(latents, noise, t)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda):
                pred = unet(
                    noisy, t, embeds, added_cond_kwargs={"text_embeds": pooled, "time_ids": time_ids}
                ).sample
            loss = F.mse_loss(pred.float(), noise.float())
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss.item()  # the example logs the loss every step
            stamps.append(time.perf_counter())
    seconds = (stamps[-1] - stamps[warmup - 1]) / steps
    return seconds, memory.gib


# ---- report ----


def describe(device: str, args) -> str:
    import diffusers
    import torch

    if device.startswith("cuda"):
        where = f"{torch.cuda.get_device_name()}, peak bf16 dense {args.peak_tflops:g} TFLOP/s"
    else:
        where = f"CPU, {torch.get_num_threads()} threads"
    return f"device {device} ({where}); torch {torch.__version__}, diffusers {diffusers.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=["tiny", "full-sdxl"], default="tiny")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when present")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per loop (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (use ~10 with --compile)")
    parser.add_argument(
        "--batch-sizes", default=None, help="comma list [default: 1 for tiny, 1,4 for full-sdxl]"
    )
    parser.add_argument("--resolution", type=int, default=None, help="default: 128 tiny, 1024 full-sdxl")
    parser.add_argument(
        "--peak-tflops", type=float, default=989.0, help="GPU peak bf16 dense TFLOP/s for MFU (H100 SXM: 989)"
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile our UNet")
    parser.add_argument("--channels-last", action="store_true", help="NHWC layout for our UNet")
    parser.add_argument(
        "--gradient-checkpointing", action="store_true", help="for our loop (less memory, slower)"
    )
    parser.add_argument("--skip-reference", action="store_true", help="time only our loop")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch [default: torch's choice]")
    parser.add_argument(
        "--cache-dir", default=None, help="where the tiny model is built [default: a temp folder]"
    )
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA GPU is visible to torch")
    batches = [int(b) for b in (args.batch_sizes or ("1" if args.model == "tiny" else "1,4")).split(",")]
    cache_dir = Path(args.cache_dir or tempfile.mkdtemp(prefix="loraface-bench-cache-"))
    work = Path(tempfile.mkdtemp(prefix="loraface-bench-"))
    print(describe(device, args), flush=True)
    print(
        f"model {args.model}; rank 16 on to_q/to_k/to_v/to_out.0; {args.warmup} warm-up + {args.steps} timed steps per loop;"
        f" ours: compile={args.compile} channels_last={args.channels_last} checkpointing={args.gradient_checkpointing}",
        flush=True,
    )

    rows = []
    for batch in batches:
        pipe, default_res = build_pipe(args.model, device, cache_dir)
        resolution = args.resolution or default_res
        images, kind = make_images(work / f"images_{resolution}", resolution, max(4, batch))
        if batch == batches[0]:
            print(
                f"images: {len(images)} {kind} at {resolution}x{resolution}; attention: "
                f"{type(next(iter(pipe.unet.attn_processors.values()))).__name__}",
                flush=True,
            )
        row = {"batch": batch, "res": resolution}
        try:
            row["ours"], row["ours_mem"], encode_s = time_ours(
                pipe,
                images,
                batch=batch,
                steps=args.steps,
                warmup=args.warmup,
                resolution=resolution,
                device=device,
                out_dir=work / f"ours_{batch}",
                compile_unet=args.compile,
                channels_last=args.channels_last,
                checkpointing=args.gradient_checkpointing,
            )
            print(
                f"  batch {batch}: ours {row['ours']:.3f} s/step, peak {row['ours_mem']:.1f} GiB "
                f"(+ {encode_s:.1f} s once to encode {len(images)} images)",
                flush=True,
            )
        except Exception as exc:  # an OOM at batch 4 must not lose the batch-1 figures
            row["ours_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
            print(f"  batch {batch}: ours failed: {row['ours_error']}", flush=True)
        del pipe
        if args.compile:
            torch._dynamo.reset()  # drop compiled graphs that hold on to the old UNet
        if not args.skip_reference:
            pipe, _ = build_pipe(args.model, device, cache_dir)
            try:
                row["ref"], row["ref_mem"] = time_reference(
                    pipe,
                    images,
                    batch=batch,
                    steps=args.steps,
                    warmup=args.warmup,
                    resolution=resolution,
                    device=device,
                )
                print(
                    f"  batch {batch}: reference {row['ref']:.3f} s/step, peak {row['ref_mem']:.1f} GiB",
                    flush=True,
                )
            except Exception as exc:
                row["ref_error"] = (
                    f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
                )
                print(f"  batch {batch}: reference failed: {row['ref_error']}", flush=True)
            del pipe
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
        rows.append(row)
    print_table(rows, device, args.peak_tflops)


def print_table(rows: list[dict], device: str, peak_tflops: float) -> None:
    """One line per batch size: ours | reference | ratio."""

    def cells(row, key, res, batch):
        sec = row.get(key)
        if sec is None:
            return f"{'failed':>33}"
        flop = TFLOP_PER_IMAGE_1024 * batch * (res / 1024) ** 2
        mfu = f"{flop / sec / (peak_tflops * 1e12):6.1%}" if device.startswith("cuda") else f"{'-':>6}"
        return f"{1 / sec:6.2f} {batch / sec:7.2f} {row[key + '_mem']:7.1f} {mfu}"

    print()
    print(f"{'':>11} | {'ours':^33} | {'reference':^33} |")
    print(
        f"{'batch  res':>11} | {'it/s':>6} {'img/s':>7} {'peakGiB':>7} {'MFU':>6}    | {'it/s':>6} {'img/s':>7} {'peakGiB':>7} {'MFU':>6}    | speed-up"
    )
    for row in rows:
        b, res = row["batch"], row["res"]
        ratio = f"{row['ref'] / row['ours']:.2f}x" if row.get("ours") and row.get("ref") else "-"
        print(f"{b:>5} {res:>5} | {cells(row, 'ours', res, b)}    | {cells(row, 'ref', res, b)}    | {ratio}")
    print(
        "\nspeed-up = reference seconds per step / ours (same model, images, batch and device in this run);"
        " MFU = 14.8 TFLOP x batch x (res/1024)^2 per step / step time / peak."
    )


if __name__ == "__main__":
    main()
