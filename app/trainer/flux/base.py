"""Recognise and load a FLUX.1 base: a diffusers folder (model_index.json names FluxPipeline),
or a single transformer .safetensors (the original Black Forest Labs layout or diffusers') with
the text encoders, tokenizers and VAE in the diffusers layout in the same folder as the file,
the way a FLUX.1 folder is kept when its transformer is swapped for a single-file fine-tune.

Nothing is downloaded: a transformer file without its own config is read with the shipped
FLUX.1 config (app/trainer/configs/flux-dev or flux-schnell)."""

import warnings
from pathlib import Path

from app.trainer.configs import shipped_configs
from app.trainer.errors import BaseModelError
from app.trainer.safetensors_header import safetensors_keys

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
# (folder, what it is): the parts a FLUX.1 pipeline needs beside its transformer
PARTS = (
    ("text_encoder", "the CLIP-L text encoder"),
    ("text_encoder_2", "the T5-XXL text encoder"),
    ("tokenizer_2", "the T5 tokenizer"),
    ("vae", "the 16-channel VAE"),
)
# tensor names that mark a FLUX.1 transformer, in the original layout and in diffusers'
_BFL_MARKS = ("double_blocks.0.img_attn.qkv.weight", "single_blocks.0.linear1.weight")
_DIFFUSERS_MARKS = (
    "transformer_blocks.0.attn.add_q_proj.weight",
    "single_transformer_blocks.0.proj_mlp.weight",
)
_BFL_GUIDANCE = "guidance_in.in_layer.weight"
_DIFFUSERS_GUIDANCE = "time_text_embed.guidance_embedder.linear_1.weight"


def _strip(keys: list[str]) -> set[str]:
    """Tensor names without ComfyUI's `model.diffusion_model.` prefix."""
    return {k.removeprefix("model.diffusion_model.") for k in keys}


def is_flux_transformer(keys: list[str]) -> bool:
    """True for the tensor names of a FLUX.1 transformer (FLUX.2 has other blocks and is not one)."""
    names = _strip(keys)
    if any("single_stream_modulation" in k for k in names):
        return False
    return all(m in names for m in _BFL_MARKS) or all(m in names for m in _DIFFUSERS_MARKS)


def variant_of_transformer(keys: list[str]) -> str:
    """ "flux-dev" (guidance-distilled: it has a guidance input) or "flux-schnell"."""
    names = _strip(keys)
    return "flux-dev" if _BFL_GUIDANCE in names or _DIFFUSERS_GUIDANCE in names else "flux-schnell"


def missing_parts(folder: Path, *, need_transformer: bool) -> list[str]:
    """One line per part a FLUX.1 pipeline needs that the folder lacks."""
    parts = (("transformer", "the transformer"),) + PARTS if need_transformer else PARTS
    return [
        f"no {name}/ folder ({what})"
        for name, what in parts
        if not (folder / name).is_dir() or not any((folder / name).iterdir())
    ]


def check_folder(folder: Path) -> None:
    """Raise BaseModelError naming the first part a FLUX.1 diffusers folder lacks."""
    missing = missing_parts(folder, need_transformer=True)
    if missing:
        raise BaseModelError(f"{folder} is an incomplete FLUX.1 folder: {missing[0]}")


def check_single_file(path: Path) -> None:
    """Raise BaseModelError when the folder of a transformer file lacks a part the pipeline needs."""
    missing = missing_parts(path.parent, need_transformer=False)
    if missing:
        raise BaseModelError(
            f"{path.name} is a FLUX.1 transformer without its text encoders and VAE: "
            f"{missing[0]} in {path.parent} (put the FLUX.1 text_encoder, text_encoder_2, tokenizer_2 "
            "and vae folders beside it)"
        )


def load_pipeline(path: Path, *, single_file: bool, dtype):
    """The FluxPipeline of a diffusers folder, or of a transformer file and the folder around it."""
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextModel, CLIPTokenizer, T5EncoderModel, T5TokenizerFast

    dtype = dtype or torch.float32
    with warnings.catch_warnings():
        # newer diffusers renamed torch_dtype to dtype; the old name works in every version
        warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
        if not single_file:
            return FluxPipeline.from_pretrained(str(path), torch_dtype=dtype, local_files_only=True)
        folder, variant = path.parent, variant_of_transformer(safetensors_keys(path))
        # the folder's own transformer config when it has one (a fine-tune of another size), else the shipped one
        config = folder if (folder / "transformer" / "config.json").exists() else CONFIGS / variant
        transformer = FluxTransformer2DModel.from_single_file(
            str(path), config=str(config), subfolder="transformer", torch_dtype=dtype, local_files_only=True
        )
        # CLIP-L's tokenizer is the shipped CLIP vocabulary when the folder has none; same for the scheduler
        tokenizer = (
            folder / "tokenizer"
            if (folder / "tokenizer").is_dir()
            else shipped_configs() / "sd15" / "tokenizer"
        )
        scheduler = (
            folder / "scheduler" if (folder / "scheduler").is_dir() else CONFIGS / variant / "scheduler"
        )
        return FluxPipeline(
            transformer=transformer,
            scheduler=FlowMatchEulerDiscreteScheduler.from_pretrained(scheduler),
            vae=AutoencoderKL.from_pretrained(folder / "vae", torch_dtype=dtype),
            text_encoder=CLIPTextModel.from_pretrained(folder / "text_encoder", torch_dtype=dtype),
            tokenizer=CLIPTokenizer.from_pretrained(tokenizer),
            text_encoder_2=T5EncoderModel.from_pretrained(folder / "text_encoder_2", torch_dtype=dtype),
            tokenizer_2=T5TokenizerFast.from_pretrained(folder / "tokenizer_2"),
        )
