"""The tiny demo SDXL: the real SDXL architecture (two CLIP text encoders, text_time
conditioning, a KL VAE) at toy widths with seeded random weights, about 20 MB.

It lets the whole product run on a laptop CPU: training takes seconds and the images are
noise-like, but every code path (caching, LoRA, export, reload, sampling) is the real one."""

import os
import shutil
import threading
from pathlib import Path

from app.trainer.configs import shipped_configs

TINY_VERSION = "tiny-sdxl-v2"  # bump when the architecture below changes, so caches rebuild
TINY_RESOLUTION = 128  # training size for the demo: 16x16 latents
_build_lock = threading.Lock()


def tiny_sdxl_path(cache_dir: Path, seed: int = 0) -> Path:
    """The cached tiny SDXL folder, building it the first time (the same seed gives the same weights)."""
    target = Path(cache_dir) / f"{TINY_VERSION}-seed{seed}"
    if (target / "model_index.json").exists():
        return target
    with _build_lock:
        if not (target / "model_index.json").exists():
            _build(target, seed)
    return target


def _build(target: Path, seed: int) -> None:
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    torch.manual_seed(seed)
    text_config = CLIPTextConfig(
        hidden_size=32,
        intermediate_size=64,
        num_attention_heads=4,
        num_hidden_layers=2,
        projection_dim=32,
        vocab_size=49408,
        max_position_embeddings=77,
        bos_token_id=49406,
        eos_token_id=49407,
        pad_token_id=49407,
        hidden_act="gelu",
    )
    unet = UNet2DConditionModel(
        sample_size=TINY_RESOLUTION // 8,  # latent size
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        transformer_layers_per_block=(1, 1),
        cross_attention_dim=64,  # 32 + 32: both encoders' hidden states side by side, as in SDXL
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=32 + 6 * 8,  # pooled text + 6 embedded time ids
        norm_num_groups=16,
    )
    vae = AutoencoderKL(  # four levels, like SDXL's VAE: 8x smaller latents (16x16 at 128 px)
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 32, 64, 64),
        latent_channels=4,
        norm_num_groups=16,
        sample_size=TINY_RESOLUTION,
    )
    pipe = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(text_config),
        text_encoder_2=CLIPTextModelWithProjection(text_config),
        tokenizer=CLIPTokenizer.from_pretrained(shipped_configs() / "sdxl" / "tokenizer"),
        tokenizer_2=CLIPTokenizer.from_pretrained(shipped_configs() / "sdxl" / "tokenizer_2"),
        unet=unet,
        scheduler=EulerDiscreteScheduler.from_pretrained(shipped_configs() / "sdxl" / "scheduler"),
    )
    # Build beside the target and rename: a half-built model is never visible to another process.
    staging = target.with_name(f"{target.name}.building-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(staging, ignore_errors=True)
    pipe.save_pretrained(staging)
    try:
        staging.rename(target)
    except OSError:  # another process finished first; its copy is identical
        shutil.rmtree(staging, ignore_errors=True)
