"""Find and load a base model: a local diffusers folder, a single .safetensors checkpoint, or
the tiny demo SDXL or FLUX.1 (app/trainer/tiny.py, app/trainer/flux/tiny.py). Nothing is ever fetched from a model hub: a single
file is read with the configs and tokenizers shipped in app/trainer/configs."""

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from app.trainer.configs import shipped_configs
from app.trainer.errors import BaseModelError
from app.trainer.flux import base as flux_base
from app.trainer.flux.tiny import TINY_FLUX_RESOLUTION, tiny_flux_path
from app.trainer.safetensors_header import safetensors_keys
from app.trainer.tiny import TINY_RESOLUTION, tiny_sdxl_path

FAMILIES = ("sdxl", "sd15", "flux")


@dataclass(frozen=True)
class BaseModel:
    path: Path  # a diffusers folder or a single checkpoint file
    family: str  # "sdxl", "sd15" or "flux"
    single_file: bool  # True: one .safetensors read with the shipped configs (FLUX: its transformer)
    is_demo: bool = False  # a tiny demo base (random weights)
    variant: str | None = None  # "fp16" when a folder only holds fp16 weight files

    @property
    def default_sample_steps(self) -> int:
        """Denoising steps for samples: the demo's images are noise-like, so few steps will do."""
        return 8 if self.is_demo else 25

    @property
    def default_resolution(self) -> int:
        """The size this base was trained at (the demo is small so a CPU can train it)."""
        if self.is_demo:
            return TINY_FLUX_RESOLUTION if self.family == "flux" else TINY_RESOLUTION
        return 512 if self.family == "sd15" else 1024


def resolve(base: str | Path | None, cache_dir: Path, family: str | None = None) -> BaseModel:
    """The base model at `base`, or the tiny demo of `family` (SDXL unless "flux"; built once
    under cache_dir) when unset."""
    if not base:
        if family == "flux":
            return BaseModel(path=tiny_flux_path(cache_dir), family="flux", single_file=False, is_demo=True)
        return BaseModel(path=tiny_sdxl_path(cache_dir), family="sdxl", single_file=False, is_demo=True)
    path = Path(base).expanduser()
    if not path.exists():
        raise BaseModelError(f"base model not found: {path}")
    if path.is_dir():
        return BaseModel(
            path=path, family=family_of_folder(path), single_file=False, variant=_variant_of(path)
        )
    if path.suffix.lower() != ".safetensors":
        # .ckpt/.pt files are pickles that can run code when opened; we only read safetensors.
        raise BaseModelError(f"{path} is not a model: use a .safetensors checkpoint or a diffusers folder")
    found = family_of_checkpoint(path)
    if found == "flux":
        flux_base.check_single_file(path)
    return BaseModel(path=path, family=found, single_file=True)


def family_of_folder(folder: Path) -> str:
    """ "sdxl", "sd15" or "flux" from a diffusers folder's model_index.json."""
    index = folder / "model_index.json"
    try:
        info = json.loads(index.read_text())
    except (OSError, ValueError):
        raise BaseModelError(
            f"{folder} is not a diffusers model folder (no readable model_index.json)"
        ) from None
    name = str(info.get("_class_name", ""))
    if name == "FluxPipeline":
        flux_base.check_folder(folder)
        return "flux"
    if not name.startswith("StableDiffusion") or "text_encoder" not in info or "unet" not in info:
        raise BaseModelError(
            f"{folder} holds a {name or 'unknown'} model; LoRAFace trains SDXL, SD 1.5 and FLUX.1 bases"
        )
    return "sdxl" if "XL" in name else "sd15"


def _variant_of(folder: Path) -> str | None:
    """ "fp16" when the UNet exists only as an fp16 variant (a common way SDXL folders ship)."""
    unet = folder / "unet"
    if any(unet.glob("diffusion_pytorch_model.safetensors")) or any(
        unet.glob("diffusion_pytorch_model-*.safetensors")
    ):
        return None
    return "fp16" if any(unet.glob("*.fp16*.safetensors")) else None


def family_of_checkpoint(path: Path) -> str:
    """ "sdxl" or "sd15" from the tensor names of an original-format checkpoint; "flux" for a
    FLUX.1 transformer file."""
    keys = safetensors_keys(path)
    if flux_base.is_flux_transformer(keys):
        return "flux"
    if any(k.startswith("conditioner.embedders.1.") for k in keys):
        return "sdxl"
    if any(k.startswith("cond_stage_model.") for k in keys):
        return "sd15"
    if any(k.startswith(("lora_unet_", "lora_te", "unet.", "text_encoder.", "transformer.")) for k in keys):
        raise BaseModelError(f"{path} is a LoRA, not a base model")
    if any(k.startswith("model.diffusion_model.") for k in keys):
        raise BaseModelError(
            f"{path} is a diffusion model of a family LoRAFace does not train (SDXL, SD 1.5 and FLUX.1 only)"
        )
    raise BaseModelError(f"{path} is not a Stable Diffusion checkpoint")


def load_pipeline(model: BaseModel, *, dtype=None):
    """The diffusers pipeline for a base model, on the CPU, in `dtype` (float32 by default)."""
    import torch
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    cls = StableDiffusionXLPipeline if model.family == "sdxl" else StableDiffusionPipeline
    dtype = dtype or torch.float32
    if model.family == "flux":
        try:
            pipe = flux_base.load_pipeline(model.path, single_file=model.single_file, dtype=dtype)
        except Exception as exc:  # diffusers raises many kinds; the learner needs one line
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise BaseModelError(f"could not load the base model {model.path}: {first_line}") from exc
        pipe.set_progress_bar_config(disable=True)
        return pipe
    # SD 1.5's safety checker is not part of training and would need weights from a hub.
    extra = {"safety_checker": None, "requires_safety_checker": False} if model.family == "sd15" else {}
    try:
        with warnings.catch_warnings():
            # newer diffusers renamed torch_dtype to dtype; the old name works in every version
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            if model.single_file:
                config = str(shipped_configs() / model.family)
                pipe = cls.from_single_file(
                    str(model.path), config=config, torch_dtype=dtype, local_files_only=True, **extra
                )
            else:
                pipe = cls.from_pretrained(
                    str(model.path), torch_dtype=dtype, local_files_only=True, variant=model.variant, **extra
                )
    except Exception as exc:  # diffusers raises many kinds; the learner needs one line
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BaseModelError(f"could not load the base model {model.path}: {first_line}") from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe
