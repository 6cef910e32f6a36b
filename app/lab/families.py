"""Which base family a lab job trains, and the settings each family refuses.

Without a configured base (the demo) the request picks a tiny demo base: SDXL unless it asks for
FLUX.1. With a base configured, the job trains that base: a request may name its family or none."""

from app.config import Settings
from app.lab import exceptions as exc
from app.lab.schemas import JobCreate

DEMO_FAMILIES = ("sdxl", "flux")  # the tiny demo bases (app/trainer/tiny.py, app/trainer/flux/tiny.py)
LABELS = {"sdxl": "SDXL", "sd15": "SD 1.5", "flux": "FLUX.1"}
# Why a FLUX.1 model has no kohya file: the trainer writes one only where diffusers can read it back.
NO_KOHYA_FLUX = (
    "the trainer writes a kohya FLUX.1 file only for the full-size transformer with a plain LoRA (the "
    "kohya FLUX.1 reader in diffusers, which checks the file by loading it back, reads no other size), "
    "so this model has the diffusers file only."
)
# Recipe settings the FLUX.1 trainer does not use today, with the value that means "off".
FLUX_OFF = {
    "prior_images": (0, "prior preservation (prior_images) is not available for FLUX.1 yet: use 0"),
    "mask": ("off", "the face/head loss mask is not available for FLUX.1 yet: use mask off"),
    "ema_decay": (0.0, "EMA weights are not available for FLUX.1 yet: use ema_decay 0"),
    "buckets": (False, "aspect-ratio buckets are not available for FLUX.1 yet: turn buckets off"),
    "network": ("lora", "FLUX.1 trains plain LoRA adapters only: use network lora"),
}


def configured_family(settings: Settings) -> str | None:
    """The configured base's family (sdxl, sd15, flux), None for the demo; a misconfigured base
    counts as SDXL here and fails the job with its own message."""
    from app.trainer import base_models

    if not settings.base_model:
        return None
    try:  # reads a header or model_index.json only
        return base_models.resolve(settings.base_model, settings.data_dir / "cache").family
    except Exception:
        return "sdxl"


def choices(settings: Settings) -> list[str]:
    """The families the lab form offers on this server."""
    family = configured_family(settings)
    return [family] if family else list(DEMO_FAMILIES)


def job_family(settings: Settings, requested: str | None) -> str:
    """The family the job trains; FamilyNotForBase (422) for one this server cannot train."""
    base = configured_family(settings)
    if base is None:
        if requested not in (None, *DEMO_FAMILIES):
            raise exc.FamilyNotForBase(
                f"There is no {LABELS[requested]} demo base: choose family sdxl or flux "
                "(an operator can set LORAFACE_BASE_MODEL to a real SD 1.5 base)."
            )
        return requested or "sdxl"
    if requested not in (None, base):
        raise exc.FamilyNotForBase(
            f"This server trains a {LABELS[base]} base model (family {base!r}): "
            f"family {requested!r} cannot train here; leave family out or use {base!r}."
        )
    return base


def check_settings(data: JobCreate, family: str) -> None:
    """Refuse, before the job is queued, settings the family does not train with."""
    if data.flux_mlp and family != "flux":
        raise exc.NotForFamily(f"flux_mlp is for FLUX.1 jobs only; this job trains {LABELS[family]}.")
    if family != "flux":
        if data.base_precision != "bf16":
            raise exc.NotForFamily(
                f"base_precision {data.base_precision} is for FLUX.1 jobs for now; this job trains {LABELS[family]}."
            )
        return
    if data.resolution and data.resolution % 16:
        raise exc.NotForFamily(f"FLUX.1 needs a resolution that is a multiple of 16 (got {data.resolution}).")
    for field, (off, message) in FLUX_OFF.items():
        if getattr(data, field) != off:
            raise exc.NotForFamily(message[:1].upper() + message[1:] + ".")


def limits_family(settings: Settings, family: str) -> str:
    """The family the memory estimate uses: "demo" for a tiny demo base."""
    return family if settings.base_model else "demo"


def target_modules(data: JobCreate, family: str) -> tuple[str, ...]:
    """The adapter's modules: the attention projections, plus the MLPs of a FLUX.1 job that asks."""
    from app.trainer.config import UNET_TARGETS
    from app.trainer.flux.lora import FLUX_ATTENTION, FLUX_MLP

    return FLUX_ATTENTION + FLUX_MLP if family == "flux" and data.flux_mlp else UNET_TARGETS
