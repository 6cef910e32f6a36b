"""Images from a base model with a LoRA at a chosen strength and seed.

The LoRA is loaded from its exported file with `pipe.load_lora_weights`, exactly as users load
it, and its strength is the peft adapter scale. Strength 0 runs the base model alone."""

import threading
from pathlib import Path

from app.trainer import base_models, interrupt
from app.trainer.flux.encoding import sampling_kwargs

ADAPTER = "face"
_pipes: dict[tuple[str, str], object] = {}
_pipes_lock = threading.Lock()
# One pipeline is shared by every caller in the process, and diffusers pipelines are not
# re-entrant: loading an adapter while another request samples would mix them.
generation_lock = threading.RLock()


def pick_device(device: str | None = None) -> str:
    """The device asked for, else CUDA when present, else the CPU."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cached_pipeline(
    base_model: str | None, cache_dir: Path, device: str | None = None, family: str | None = None
):
    """The base pipeline on `device`, loaded once per process (loading takes seconds to minutes);
    `family` picks the tiny demo when no base is set."""
    import torch

    device = pick_device(device)
    model = base_models.resolve(base_model, cache_dir, family)
    key = (str(model.path), device)
    with _pipes_lock:
        if key not in _pipes:
            dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
            # bf16 keeps fp32's exponent range, so the SDXL VAE (which overflows in fp16) is safe in it
            pipe = base_models.load_pipeline(model, dtype=dtype)
            _pipes.clear()  # one base at a time: full-size bases are 7 GB
            _pipes[key] = pipe.to(device)
        return _pipes[key]


def run_pipe(
    pipe, *, prompts: list[str], seed: int, steps: int, resolution: int, negative_prompt: str | None = None
) -> list:
    """One image per prompt; each draws its noise from its own generator seeded with `seed`, so a
    prompt gives the same image whatever else is asked for."""
    import torch

    images = []
    for prompt in prompts:
        generator = torch.Generator(device="cpu").manual_seed(seed)
        out = pipe(
            prompt,
            negative_prompt=negative_prompt,
            num_inference_steps=steps,
            height=resolution,
            width=resolution,
            generator=generator,
            output_type="pil",
            callback_on_step_end=interrupt.on_denoising_step,  # a cancel stops between steps
            **sampling_kwargs(pipe),
        )
        images.append(out.images[0])
    return images


def generate_with(
    pipe,
    *,
    lora_path: Path | None,
    prompts: list[str],
    strength: float,
    seed: int,
    steps: int,
    resolution: int,
) -> list:
    """Images from an already loaded pipeline with the LoRA file at `strength` (0: the base alone)."""
    return sweep_with(
        pipe,
        lora_path=lora_path,
        prompts=prompts,
        strengths=[strength],
        seed=seed,
        steps=steps,
        resolution=resolution,
    )[0]


def sweep_with(
    pipe,
    *,
    lora_path: Path | None,
    prompts: list[str],
    strengths: list[float],
    seed: int,
    steps: int,
    resolution: int,
) -> list[list]:
    """For each strength, one image per prompt; the LoRA file is loaded once for the whole sweep."""
    with generation_lock:
        if lora_path is None or all(s == 0 for s in strengths):
            base = run_pipe(pipe, prompts=prompts, seed=seed, steps=steps, resolution=resolution)
            return [base for _ in strengths]
        lora_path = Path(lora_path)
        pipe.load_lora_weights(str(lora_path.parent), weight_name=lora_path.name, adapter_name=ADAPTER)
        try:
            results = []
            for strength in strengths:
                if strength == 0:
                    pipe.disable_lora()  # the base model exactly, not a LoRA scaled to ~0
                else:
                    pipe.enable_lora()
                    pipe.set_adapters([ADAPTER], adapter_weights=[strength])
                results.append(run_pipe(pipe, prompts=prompts, seed=seed, steps=steps, resolution=resolution))
            return results
        finally:
            pipe.enable_lora()
            pipe.delete_adapters([ADAPTER])


def generate(
    *,
    base_model: str | None,
    cache_dir: Path,
    lora_path: Path | None,
    prompts: list[str],
    strength: float,
    seed: int = 123456,
    steps: int = 25,
    resolution: int | None = None,
    device: str | None = None,
    family: str | None = None,
) -> list:
    """Images (PIL) for each prompt with the LoRA at `strength`; resolution defaults to the base's."""
    pipe = cached_pipeline(base_model, cache_dir, device, family)
    resolution = resolution or base_models.resolve(base_model, cache_dir, family).default_resolution
    return generate_with(
        pipe,
        lora_path=lora_path,
        prompts=prompts,
        strength=strength,
        seed=seed,
        steps=steps,
        resolution=resolution,
    )


def strength_sweep(
    *,
    base_model: str | None,
    cache_dir: Path,
    lora_path: Path,
    prompt: str,
    strengths: list[float],
    seed: int = 123456,
    steps: int = 25,
    resolution: int | None = None,
    device: str | None = None,
    family: str | None = None,
) -> list[tuple[float, object]]:
    """[(strength, image)] for one prompt on one seed: the fair comparison lesson 8 asks for."""
    pipe = cached_pipeline(base_model, cache_dir, device, family)
    resolution = resolution or base_models.resolve(base_model, cache_dir, family).default_resolution
    images = sweep_with(
        pipe,
        lora_path=lora_path,
        prompts=[prompt],
        strengths=strengths,
        seed=seed,
        steps=steps,
        resolution=resolution,
    )
    return [(s, imgs[0]) for s, imgs in zip(strengths, images, strict=True)]
