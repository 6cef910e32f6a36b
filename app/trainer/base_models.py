"""Find and load a base model: a local diffusers folder, a single .safetensors checkpoint, or
the tiny demo SDXL (app/trainer/tiny.py). Nothing is ever fetched from a model hub: a single
file is read with the configs and tokenizers shipped in app/trainer/configs."""

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from app.trainer.configs import shipped_configs
from app.trainer.errors import BaseModelError
from app.trainer.tiny import TINY_RESOLUTION, tiny_sdxl_path

FAMILIES = ("sdxl", "sd15")
_HEADER_LIMIT = 100_000_000  # a safetensors header is JSON; anything larger is not one


@dataclass(frozen=True)
class BaseModel:
    path: Path  # a diffusers folder or a single checkpoint file
    family: str  # "sdxl" or "sd15"
    single_file: bool  # True: an original-format .safetensors read with the shipped configs
    is_demo: bool = False  # the tiny demo SDXL (random weights)
    variant: str | None = None  # "fp16" when a folder only holds fp16 weight files

    @property
    def default_sample_steps(self) -> int:
        """Denoising steps for samples: the demo's images are noise-like, so few steps will do."""
        return 8 if self.is_demo else 25

    @property
    def default_resolution(self) -> int:
        """The size this base was trained at (the demo is small so a CPU can train it)."""
        if self.is_demo:
            return TINY_RESOLUTION
        return 1024 if self.family == "sdxl" else 512


def resolve(base: str | Path | None, cache_dir: Path) -> BaseModel:
    """The base model at `base`, or the tiny demo SDXL (built once under cache_dir) when unset."""
    if not base:
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
    return BaseModel(path=path, family=family_of_checkpoint(path), single_file=True)


def family_of_folder(folder: Path) -> str:
    """ "sdxl" or "sd15" from a diffusers folder's model_index.json."""
    index = folder / "model_index.json"
    try:
        info = json.loads(index.read_text())
    except (OSError, ValueError):
        raise BaseModelError(
            f"{folder} is not a diffusers model folder (no readable model_index.json)"
        ) from None
    name = str(info.get("_class_name", ""))
    if not name.startswith("StableDiffusion") or "text_encoder" not in info or "unet" not in info:
        raise BaseModelError(
            f"{folder} holds a {name or 'unknown'} model; LoRAFace trains SDXL and SD 1.5 bases"
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


def safetensors_keys(path: Path) -> list[str]:
    """Tensor names from a .safetensors header (no weights are read)."""
    try:
        with open(path, "rb") as fh:
            length = int.from_bytes(fh.read(8), "little")
            if not 0 < length < _HEADER_LIMIT:
                raise ValueError("bad header length")
            header = json.loads(fh.read(length))
        if not isinstance(header, dict):
            raise ValueError("header is not a table")
    except (OSError, ValueError, UnicodeDecodeError):
        raise BaseModelError(f"{path} is not a model: it is not a readable .safetensors file") from None
    return [k for k in header if k != "__metadata__"]


def family_of_checkpoint(path: Path) -> str:
    """ "sdxl" or "sd15" from the tensor names of an original-format checkpoint."""
    keys = safetensors_keys(path)
    if any(k.startswith("conditioner.embedders.1.") for k in keys):
        return "sdxl"
    if any(k.startswith("cond_stage_model.") for k in keys):
        return "sd15"
    if any(k.startswith(("lora_unet_", "lora_te", "unet.", "text_encoder.")) for k in keys):
        raise BaseModelError(f"{path} is a LoRA, not a base model")
    if any(k.startswith("model.diffusion_model.") for k in keys):
        raise BaseModelError(
            f"{path} is a diffusion model of a family LoRAFace does not train (SDXL and SD 1.5 only)"
        )
    raise BaseModelError(f"{path} is not a Stable Diffusion checkpoint")


def load_pipeline(model: BaseModel, *, dtype=None):
    """The diffusers pipeline for a base model, on the CPU, in `dtype` (float32 by default)."""
    import torch
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    cls = StableDiffusionXLPipeline if model.family == "sdxl" else StableDiffusionPipeline
    dtype = dtype or torch.float32
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
