"""Write the diffusers config folders for full-size FLUX.1-dev and FLUX.1-schnell (no weights)
into app/trainer/configs/flux-dev and flux-schnell.

The architecture numbers are the published ones: a 12B transformer of 19 double-stream and 38
single-stream blocks (24 heads of 128), a 16-channel VAE, CLIP ViT-L/14 for the pooled vector
and the T5-XXL encoder for the sequence. dev is guidance-distilled (a guidance input) and
sampled with a resolution-dependent shift; schnell has neither. The configs are committed; this
script is how they were made: `python -m app.trainer.flux.configs`."""

import json
from pathlib import Path

from app.trainer.configs.generate import CLIP_L

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
VARIANTS = ("flux-dev", "flux-schnell")


def transformer(*, guidance: bool) -> dict:
    """FluxTransformer2DModel: 64 input channels are 16 latent channels packed 2x2."""
    return {
        "_class_name": "FluxTransformer2DModel",
        "attention_head_dim": 128,
        "axes_dims_rope": [16, 56, 56],
        "guidance_embeds": guidance,
        "in_channels": 64,
        "joint_attention_dim": 4096,
        "num_attention_heads": 24,
        "num_layers": 19,
        "num_single_layers": 38,
        "patch_size": 1,
        "pooled_projection_dim": 768,
    }


VAE = {
    "_class_name": "AutoencoderKL",
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "force_upcast": True,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 16,
    "layers_per_block": 2,
    "mid_block_add_attention": True,
    "norm_num_groups": 32,
    "sample_size": 1024,
    "scaling_factor": 0.3611,
    "shift_factor": 0.1159,
    "use_quant_conv": False,
    "use_post_quant_conv": False,
}

T5_XXL = {  # the encoder half of T5 v1.1 XXL
    "architectures": ["T5EncoderModel"],
    "d_ff": 10240,
    "d_kv": 64,
    "d_model": 4096,
    "dense_act_fn": "gelu_new",
    "dropout_rate": 0.1,
    "eos_token_id": 1,
    "feed_forward_proj": "gated-gelu",
    "is_gated_act": True,
    "layer_norm_epsilon": 1e-06,
    "model_type": "t5",
    "num_heads": 64,
    "num_layers": 24,
    "pad_token_id": 0,
    "relative_attention_max_distance": 128,
    "relative_attention_num_buckets": 32,
    "tie_word_embeddings": False,
    "vocab_size": 32128,
}


def scheduler(*, dynamic_shift: bool) -> dict:
    """Flow-matching Euler; dev shifts its sigmas by image size (mu from 0.5 at 256 tokens to
    1.15 at 4096), schnell samples in 1-4 steps without a shift."""
    return {
        "_class_name": "FlowMatchEulerDiscreteScheduler",
        "base_image_seq_len": 256,
        "base_shift": 0.5,
        "max_image_seq_len": 4096,
        "max_shift": 1.15,
        "num_train_timesteps": 1000,
        "shift": 3.0 if dynamic_shift else 1.0,
        "use_dynamic_shifting": dynamic_shift,
    }


MODEL_INDEX = {
    "_class_name": "FluxPipeline",
    "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "text_encoder_2": ["transformers", "T5EncoderModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "tokenizer_2": ["transformers", "T5TokenizerFast"],
    "transformer": ["diffusers", "FluxTransformer2DModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}


def files(variant: str) -> dict[str, dict]:
    """{relative path: JSON} of one variant's config folder."""
    dev = variant == "flux-dev"
    return {
        "model_index.json": MODEL_INDEX,
        "transformer/config.json": transformer(guidance=dev),
        "vae/config.json": VAE,
        "text_encoder/config.json": CLIP_L,
        "text_encoder_2/config.json": T5_XXL,
        "scheduler/scheduler_config.json": scheduler(dynamic_shift=dev),
    }


def main() -> None:
    """Write both variants' folders."""
    for variant in VARIANTS:
        for rel, data in files(variant).items():
            path = CONFIGS / variant / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"FLUX.1 configs written under {CONFIGS}")


if __name__ == "__main__":
    main()
