"""Encode once for FLUX.1: each crop's 16-channel VAE latent distribution, and each caption's
T5 sequence, CLIP pooled vector and text position ids, computed before the loop starts."""

from dataclasses import dataclass

from app.trainer import faults

MAX_SEQUENCE = 512  # T5 tokens FLUX.1-dev reads (the pipeline's limit); a tokenizer may set fewer
GUIDANCE = 3.5  # dev's distilled guidance when sampling (the value its authors publish)


@dataclass
class FluxExample:
    """One training image, encoded once."""

    latent_mean: object  # VAE latent distribution of the crop: a fresh sample each step
    latent_std: object
    prompt_embeds: object  # T5 hidden states (1, tokens, 4096)
    pooled_embeds: object  # CLIP-L pooled output (1, 768)
    text_ids: object  # (tokens, 3) position ids of the text tokens (all zero in FLUX.1)


def max_sequence_length(pipe) -> int:
    """T5 tokens per caption: 512, or fewer when the tokenizer says so (the demo reads 128)."""
    return min(MAX_SEQUENCE, int(pipe.tokenizer_2.model_max_length))


def text_encoders(pipe) -> list:
    """CLIP-L and T5."""
    return [pipe.text_encoder, pipe.text_encoder_2]


def encode_prompt(pipe, prompt: str, device):
    """(T5 sequence, pooled CLIP, text ids) exactly as FluxPipeline builds them, without gradients."""
    import torch

    with torch.no_grad():
        return pipe.encode_prompt(
            prompt, prompt_2=None, device=device, max_sequence_length=max_sequence_length(pipe)
        )


def encode_examples(pipe, images: list, device, *, resolution: int) -> list[FluxExample]:
    """Encode every image and caption once; the VAE and both text encoders then leave the GPU."""
    import numpy as np
    import torch
    from PIL import Image

    pipe.vae.to(device, dtype=torch.float32)  # encode in full precision; latents are cached in fp32
    for encoder in text_encoders(pipe):
        encoder.to(device)
    examples = []
    for item in images:
        with Image.open(item.path) as im:
            im = im.convert("RGB")
            if im.size != (resolution, resolution):
                im = im.resize((resolution, resolution), Image.LANCZOS)
            pixels = np.asarray(im, dtype=np.float32) / 127.5 - 1.0
        tensor = torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0).to(device)
        with torch.no_grad():
            dist = pipe.vae.encode(tensor).latent_dist
        faults.reach("caching_latents")
        embeds, pooled, text_ids = encode_prompt(pipe, item.caption, device)
        examples.append(
            FluxExample(
                latent_mean=dist.mean,
                latent_std=dist.std,
                prompt_embeds=embeds.float(),
                pooled_embeds=pooled.float(),
                text_ids=text_ids,
            )
        )
    return examples


def free_encoders(pipe) -> None:
    """Move the VAE and text encoders off the GPU: they return only to sample."""
    import torch

    pipe.vae.to("cpu")
    for encoder in text_encoders(pipe):
        encoder.to("cpu")
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def encoders_to(pipe, device) -> None:
    """Bring the VAE and text encoders back for sampling or a check."""
    pipe.vae.to(device)
    for encoder in text_encoders(pipe):
        encoder.to(device)


def sampling_kwargs(pipe) -> dict:
    """What FluxPipeline needs beyond the prompt (nothing for SDXL/SD 1.5): the caption length the
    LoRA was trained with, and dev's distilled guidance at its usual 3.5 (schnell ignores it)."""
    if getattr(pipe, "transformer", None) is None or getattr(pipe, "tokenizer_2", None) is None:
        return {}
    return {"max_sequence_length": max_sequence_length(pipe), "guidance_scale": GUIDANCE}
