"""What one training job may cost, checked on the derived totals before any work starts.

One function, `check_job`, is called by the web form and the JSON API (through the lab service),
by `loraface train` and by the worker before it trains, so no caller can walk around it: the cap
is on the totals (steps after epochs x repeats, pixels to prepare, memory), not on each field.
"""

import math
from dataclasses import dataclass

from app.trainer.config import plan

GB = 1024**3

# Rough peak-memory figures per base family, upper bounds from public SDXL/SD 1.5 LoRA recipes
# (bf16 weights, AdamW, no gradient checkpointing), not measurements of ours; the demo base is a
# few MB of random weights. A base stored in fp8 (base_precision) keeps one byte per linear
# weight instead of bf16's two: FLUX.1's weights' figure halves (its norms and embedders, kept in
# full precision, are a tiny fraction); a UNet's convolutions stay bf16 (13% of SDXL's weights),
# so its share is rounded up to stay an upper bound.
WEIGHTS_GB = {"sdxl": 7.0, "sd15": 2.2, "flux": 24.0, "demo": 0.1}
ACTIVATIONS_GB_PER_MEGAPIXEL = {"sdxl": 7.0, "sd15": 3.5, "flux": 12.0, "demo": 0.6}
# Adapter parameters per unit of rank (UNet attention projections), times fp32 weight+grad+2 moments.
ADAPTER_PARAMS_PER_RANK = {"sdxl": 1_450_000, "sd15": 400_000, "flux": 4_700_000, "demo": 20_000}
ADAPTER_BYTES_PER_PARAM = 16
CHECKPOINTING_SAVES = 0.35  # gradient checkpointing keeps about a third of the activations
FP8_WEIGHT_SHARE = {"flux": 0.5, "sdxl": 0.6, "sd15": 0.7, "demo": 1.0}  # fp8 weight bytes against bf16's


@dataclass(frozen=True)
class JobLimits:
    """The most one job may ask for; each field is checked on a derived total."""

    max_total_steps: int = 20_000  # optimizer steps after images x repeats x epochs / batch
    max_images_seen: int = 100_000  # total steps x batch size: the UNet passes the job pays for
    max_prepared_megapixels: float = 160.0  # images x resolution²: what preparing and encoding touches
    max_rank: int = 256  # LoRA rank
    memory_budget_gb: float = 24.0  # the estimate below must fit in this


@dataclass(frozen=True)
class JobSize:
    """The derived totals of one job, the numbers the limits are checked on."""

    images: int
    total_steps: int
    batch_size: int
    resolution: int
    rank: int
    family: str  # sdxl, sd15, flux or demo
    gradient_checkpointing: bool = False
    train_text_encoder: bool = False
    base_precision: str = "bf16"  # how the frozen base is stored: bf16 or fp8

    @property
    def images_seen(self) -> int:
        """Total steps x batch size."""
        return self.total_steps * self.batch_size

    @property
    def prepared_megapixels(self) -> float:
        """Pixels the worker resizes, stores and VAE-encodes before the first step."""
        return self.images * self.resolution**2 / 1e6


def job_size(cfg, images: int, family: str) -> JobSize:
    """The derived totals of a TrainConfig over `images` photos on a base of `family`."""
    _, total_steps, _ = plan(cfg, max(images, 1))
    return JobSize(
        images=images,
        total_steps=total_steps,
        batch_size=cfg.batch_size,
        resolution=cfg.resolution,
        rank=cfg.rank,
        family=family,
        gradient_checkpointing=cfg.gradient_checkpointing,
        train_text_encoder=cfg.train_text_encoder,
        base_precision=cfg.base_precision,
    )


def family_of(model) -> str:
    """The family name the estimate uses for a resolved base model (the demo is its own)."""
    return "demo" if model.is_demo else model.family


class JobTooCostly(ValueError):
    """The job is over a limit; the message says which number to lower."""


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak memory of a job in bytes, by part (an estimate, said to be one wherever it is shown)."""

    weights: int
    activations: int
    adapter: int
    latents: int

    @property
    def total(self) -> int:
        """All parts together."""
        return self.weights + self.activations + self.adapter + self.latents


def _family(family: str) -> str:
    return family if family in WEIGHTS_GB else "sdxl"  # unknown: assume the largest common base


def estimate_memory(size: JobSize) -> MemoryEstimate:
    """Peak bytes for training (or encoding, whichever is larger) at these settings."""
    family = _family(size.family)
    megapixels = size.resolution**2 / 1e6
    per_image = ACTIVATIONS_GB_PER_MEGAPIXEL[family] * megapixels
    if size.gradient_checkpointing:
        per_image *= CHECKPOINTING_SAVES
    activations = per_image * size.batch_size * (1.3 if size.train_text_encoder else 1.0)
    adapter = size.rank * ADAPTER_PARAMS_PER_RANK[family] * ADAPTER_BYTES_PER_PARAM
    # Cached latents: mean and std, 4 channels at 1/8 resolution, fp32.
    latents = size.images * 2 * 4 * (size.resolution // 8) ** 2 * 4
    return MemoryEstimate(
        weights=int(
            WEIGHTS_GB[family] * (FP8_WEIGHT_SHARE[family] if size.base_precision == "fp8" else 1) * GB
        ),
        activations=int(activations * GB),
        adapter=int(adapter),
        latents=int(latents),
    )


def _memory_advice(size: JobSize, estimate: MemoryEstimate) -> str:
    if estimate.activations >= max(estimate.adapter, estimate.latents):
        if size.batch_size > 1:
            return "lower the batch size or the resolution"
        return "lower the resolution (or turn on gradient checkpointing)"
    if estimate.adapter >= estimate.latents:
        return "lower the rank"
    return "use fewer photos or a lower resolution"


def check_job(size: JobSize, limits: JobLimits = JobLimits()) -> MemoryEstimate:
    """Raise JobTooCostly with a sentence naming what to lower; return the memory estimate."""
    if size.total_steps > limits.max_total_steps:
        raise JobTooCostly(
            f"This job would run {size.total_steps:,} steps ({size.images} photos x repeats x epochs "
            f"/ batch size); the limit is {limits.max_total_steps:,}: lower the epochs, the repeats or the steps."
        )
    if size.images_seen > limits.max_images_seen:
        raise JobTooCostly(
            f"This job would pass {size.images_seen:,} images through the model (steps x batch size "
            f"{size.batch_size}); the limit is {limits.max_images_seen:,}: lower the batch size or the steps."
        )
    if size.rank > limits.max_rank:
        raise JobTooCostly(f"Rank {size.rank} is over the limit of {limits.max_rank}: lower the rank.")
    if size.prepared_megapixels > limits.max_prepared_megapixels:
        most = math.floor(limits.max_prepared_megapixels * 1e6 / size.resolution**2)
        raise JobTooCostly(
            f"{size.images} photos at {size.resolution} px are {size.prepared_megapixels:.0f} megapixels to "
            f"prepare; the limit is {limits.max_prepared_megapixels:.0f}: lower the resolution or use at "
            f"most {most} photos at this size."
        )
    estimate = estimate_memory(size)
    budget = limits.memory_budget_gb * GB
    if estimate.total > budget:
        raise JobTooCostly(
            f"This job would need about {estimate.total / GB:.0f} GB of memory (an estimate: batch "
            f"{size.batch_size} at {size.resolution} px, rank {size.rank}); the limit is "
            f"{limits.memory_budget_gb:g} GB: {_memory_advice(size, estimate)}."
        )
    return estimate
