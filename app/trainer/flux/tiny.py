"""The tiny demo FLUX.1: the real FLUX.1-dev architecture (double- and single-stream blocks,
a guidance input, a 16-channel VAE, CLIP for the pooled vector and T5 for the sequence) at toy
widths with seeded random weights, a few MB, built once and cached like the tiny SDXL.

Training takes seconds on a CPU and the images are noise-like, but every code path (packing,
flow matching, LoRA, export, reload, sampling) is the one a full-size FLUX.1 runs."""

import os
import shutil
import threading
from pathlib import Path

from app.trainer.configs import shipped_configs
from app.trainer.flux.tokenizer import build_t5_tokenizer

TINY_FLUX_VERSION = "tiny-flux-v1"  # bump when the architecture below changes, so caches rebuild
TINY_FLUX_RESOLUTION = 128  # training size for the demo: 16x16 latents, 64 packed image tokens
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
_build_lock = threading.Lock()


def tiny_flux_path(cache_dir: Path, seed: int = 0) -> Path:
    """The cached tiny FLUX folder, building it the first time (the same seed gives the same weights)."""
    target = Path(cache_dir) / f"{TINY_FLUX_VERSION}-seed{seed}"
    if (target / "model_index.json").exists():
        return target
    with _build_lock:
        if not (target / "model_index.json").exists():
            _build(target, seed)
    return target


def _build(target: Path, seed: int) -> None:
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTokenizer,
        T5Config,
        T5EncoderModel,
        T5TokenizerFast,
    )

    staging = target.with_name(f"{target.name}.building-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(staging, ignore_errors=True)
    t5_tokenizer = T5TokenizerFast.from_pretrained(build_t5_tokenizer(staging / "t5-tokenizer-source"))
    torch.manual_seed(seed)
    clip = CLIPTextModel(
        CLIPTextConfig(
            hidden_size=32,  # FLUX's pooled vector is CLIP's pooler output: pooled_projection_dim below
            intermediate_size=64,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=49408,
            max_position_embeddings=77,
            bos_token_id=49406,
            eos_token_id=49407,
            pad_token_id=49407,
            hidden_act="quick_gelu",
        )
    )
    t5 = T5EncoderModel(
        T5Config(
            d_model=32,
            d_ff=64,
            d_kv=8,
            num_heads=4,
            num_layers=2,
            vocab_size=len(t5_tokenizer),
            feed_forward_proj="gated-gelu",
            pad_token_id=0,
            eos_token_id=1,
        )
    )
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=64,  # 16 latent channels packed 2x2, as in FLUX.1
        num_layers=2,  # double-stream blocks (FLUX.1: 19)
        num_single_layers=2,  # single-stream blocks (FLUX.1: 38)
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,  # the tiny T5's width
        pooled_projection_dim=32,  # the tiny CLIP's width
        guidance_embeds=True,  # a dev-style, guidance-distilled model
        axes_dims_rope=(4, 6, 6),  # (text, height, width) rotary axes; they sum to the head size
    )
    vae = AutoencoderKL(  # four levels like FLUX's VAE: 8x smaller latents, 16 channels
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 32, 32, 32),
        latent_channels=16,
        norm_num_groups=16,
        sample_size=TINY_FLUX_RESOLUTION,
        scaling_factor=0.3611,
        shift_factor=0.1159,
        use_quant_conv=False,
        use_post_quant_conv=False,
    )
    pipe = FluxPipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler.from_pretrained(CONFIGS / "flux-dev" / "scheduler"),
        vae=vae,
        text_encoder=clip,
        tokenizer=CLIPTokenizer.from_pretrained(shipped_configs() / "sd15" / "tokenizer"),
        text_encoder_2=t5,
        tokenizer_2=t5_tokenizer,
    )
    # Build beside the target and rename: a half-built model is never visible to another process.
    pipe.save_pretrained(staging)
    shutil.rmtree(staging / "t5-tokenizer-source", ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:  # another process finished first; its copy is identical
        shutil.rmtree(staging, ignore_errors=True)
