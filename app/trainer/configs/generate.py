"""Write the diffusers config folders for SDXL and SD 1.5 (no weights) into app/trainer/configs.

The architecture numbers are the published ones for each family. The CLIP tokenizer files are
built from the BPE merges inside the open_clip_torch wheel file (CLIP's own vocabulary), read as a
zip archive: the package is never installed (its requirements, torchvision among them, would be
left unmet), so nothing comes from a model hub. `make tokenizers` downloads that one wheel, pinned
by hash in requirements/clip-vocab.txt. The configs are committed; this script is how they were
made: `python -m app.trainer.configs.generate [--vocab-wheel WHEEL]`."""

import argparse
import gzip
import json
import os
import shutil
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BPE_MEMBER = "open_clip/bpe_simple_vocab_16e6.txt.gz"  # CLIP's merges, inside the open_clip wheel

CLIP_L = {  # the CLIP ViT-L/14 text tower both families use
    "architectures": ["CLIPTextModel"],
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "projection_dim": 768,
    "hidden_act": "quick_gelu",
    "max_position_embeddings": 77,
    "vocab_size": 49408,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "pad_token_id": 1,
    "layer_norm_eps": 1e-05,
    "model_type": "clip_text_model",
}

OPENCLIP_BIGG = {  # SDXL's second text encoder, with a projection for the pooled embedding
    **CLIP_L,
    "architectures": ["CLIPTextModelWithProjection"],
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_attention_heads": 20,
    "num_hidden_layers": 32,
    "projection_dim": 1280,
    "hidden_act": "gelu",
}

VAE = {
    "_class_name": "AutoencoderKL",
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
}

SCHEDULER = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "steps_offset": 1,
    "clip_sample": False,
    "set_alpha_to_one": False,
}

SDXL = {
    "model_index.json": {
        "_class_name": "StableDiffusionXLPipeline",
        "force_zeros_for_empty_prompt": True,
        "scheduler": ["diffusers", "EulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "tokenizer_2": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    },
    "unet/config.json": {
        "_class_name": "UNet2DConditionModel",
        "sample_size": 128,
        "in_channels": 4,
        "out_channels": 4,
        "layers_per_block": 2,
        "block_out_channels": [320, 640, 1280],
        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
        "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
        "transformer_layers_per_block": [1, 2, 10],
        "attention_head_dim": [5, 10, 20],
        "cross_attention_dim": 2048,
        "use_linear_projection": True,
        "addition_embed_type": "text_time",
        "addition_time_embed_dim": 256,
        "projection_class_embeddings_input_dim": 2816,
        "norm_num_groups": 32,
    },
    "vae/config.json": {**VAE, "sample_size": 1024, "scaling_factor": 0.13025, "force_upcast": True},
    "text_encoder/config.json": CLIP_L,
    "text_encoder_2/config.json": OPENCLIP_BIGG,
    "scheduler/scheduler_config.json": {
        "_class_name": "EulerDiscreteScheduler",
        **SCHEDULER,
        "timestep_spacing": "leading",
        "interpolation_type": "linear",
        "use_karras_sigmas": False,
    },
}

SD15 = {
    "model_index.json": {
        "_class_name": "StableDiffusionPipeline",
        "feature_extractor": [None, None],
        "requires_safety_checker": False,
        "safety_checker": [None, None],
        "scheduler": ["diffusers", "PNDMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    },
    "unet/config.json": {
        "_class_name": "UNet2DConditionModel",
        "sample_size": 64,
        "in_channels": 4,
        "out_channels": 4,
        "layers_per_block": 2,
        "block_out_channels": [320, 640, 1280, 1280],
        "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
        "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
        "attention_head_dim": 8,
        "cross_attention_dim": 768,
        "norm_num_groups": 32,
    },
    "vae/config.json": {**VAE, "sample_size": 512, "scaling_factor": 0.18215},
    "text_encoder/config.json": CLIP_L,
    "scheduler/scheduler_config.json": {"_class_name": "PNDMScheduler", **SCHEDULER, "skip_prk_steps": True},
}


MODEL_MAX_LENGTH = 77  # CLIP's context length
CLIP_MERGES = 49152 - 256 - 2  # CLIP keeps this many merges: vocab = 256 bytes x2 + merges + 2 specials


def _bpe_text(vocab_wheel: Path | None) -> str:
    """CLIP's BPE merges file, read from inside the open_clip_torch wheel."""
    if vocab_wheel is None or not vocab_wheel.is_file():
        raise RuntimeError(
            "the CLIP tokenizer files are missing: run `make tokenizers` (it downloads the open_clip_torch"
            " wheel that carries CLIP's vocabulary and builds them from it)"
        )
    with zipfile.ZipFile(vocab_wheel) as wheel:
        return gzip.decompress(wheel.read(BPE_MEMBER)).decode("utf-8")


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's reversible byte -> printable character table (as in GPT-2)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars), strict=True))


def clip_vocab_and_merges(vocab_wheel: Path | None) -> tuple[dict[str, int], list[str]]:
    """The 49,408-token CLIP vocabulary and its merges, in CLIP's id order."""
    lines = _bpe_text(vocab_wheel).split("\n")
    merges = lines[1 : CLIP_MERGES + 1]  # line 0 is a version header
    base = list(_bytes_to_unicode().values())
    tokens = base + [t + "</w>" for t in base] + ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, merges


def write_tokenizer(folder: Path, *, pad_token: str, vocab_wheel: Path | None) -> None:
    """vocab.json, merges.txt and the configs a transformers CLIPTokenizer loads offline."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = clip_vocab_and_merges(vocab_wheel)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    special = {
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": pad_token,
    }
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")
    config = {
        "tokenizer_class": "CLIPTokenizer",
        "model_max_length": MODEL_MAX_LENGTH,
        "do_lower_case": True,
        "errors": "replace",
        **special,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")


def ensure_tokenizers(vocab_wheel: Path | None = None) -> None:
    """Write the tokenizer folders once (they are built from the open_clip wheel's BPE
    vocabulary, not kept in the repository)."""
    # SD 1.5 and SDXL's first encoder pad with the end token; SDXL's OpenCLIP encoder pads with "!".
    for folder, pad in (
        (HERE / "sdxl" / "tokenizer", "<|endoftext|>"),
        (HERE / "sdxl" / "tokenizer_2", "!"),
        (HERE / "sd15" / "tokenizer", "<|endoftext|>"),
    ):
        if (folder / "tokenizer_config.json").exists():
            continue
        # Written beside and renamed into place: another process never reads half a vocabulary.
        staging = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        write_tokenizer(staging, pad_token=pad, vocab_wheel=vocab_wheel)
        shutil.rmtree(folder, ignore_errors=True)  # a folder left half-written by an older version
        try:
            staging.rename(folder)
        except OSError:  # another process got there first with the same files
            shutil.rmtree(staging, ignore_errors=True)


def write(folder: Path, files: dict[str, dict]) -> None:
    """Write one family's config files under folder."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-wheel", type=Path, help="the open_clip_torch wheel holding CLIP's BPE file")
    parser.add_argument("--tokenizers-only", action="store_true", help="leave the committed configs alone")
    args = parser.parse_args()
    if not args.tokenizers_only:
        write(HERE / "sdxl", SDXL)
        write(HERE / "sd15", SD15)
    ensure_tokenizers(args.vocab_wheel)
    print(f"tokenizers ready under {HERE}")
