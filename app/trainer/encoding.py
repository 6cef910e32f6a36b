"""Encode once: tokenize captions, run the text encoders and the VAE over every crop before the
loop starts, then free what the loop does not need."""

from dataclasses import dataclass
from pathlib import Path

from app.trainer import faults, interrupt, masks


@dataclass
class Example:
    """One training image, encoded once."""

    latent_mean: object  # VAE latent distribution of the crop (mean, std): a fresh sample each step
    latent_std: object
    time_ids: object | None  # SDXL: (orig h, orig w, crop top, crop left, target h, target w)
    prompt_embeds: object | None  # cached text embeddings (None when the text encoders train)
    pooled_embeds: object | None  # SDXL's pooled embedding of the second encoder
    input_ids: tuple = ()  # token ids per text encoder (used when the text encoders train)
    loss_weight: object | None = None  # (1, 1, h, w) per-latent-pixel weight of a masked loss
    is_prior: bool = False  # a class image of prior preservation, not the face


def text_encoders(pipe) -> list:
    """The pipeline's text encoders: one for SD 1.5, two for SDXL."""
    return [e for e in (pipe.text_encoder, getattr(pipe, "text_encoder_2", None)) if e is not None]


def tokenize(pipe, prompt: str) -> tuple:
    """Token ids of a prompt for each text encoder (77 tokens, padded as each tokenizer pads)."""
    tokenizers = [t for t in (pipe.tokenizer, getattr(pipe, "tokenizer_2", None)) if t is not None]
    return tuple(
        t(
            prompt, padding="max_length", max_length=t.model_max_length, truncation=True, return_tensors="pt"
        ).input_ids
        for t in tokenizers
    )


def encode_ids(pipe, input_ids: tuple, device):
    """(prompt embeddings, pooled) as the pipelines build them. SDXL: both encoders' penultimate
    hidden states side by side plus the second encoder's pooled output; SD 1.5: the last state."""
    import torch

    encoders = text_encoders(pipe)
    if len(encoders) == 1:
        return encoders[0](input_ids[0].to(device))[0], None
    states, pooled = [], None
    for encoder, ids in zip(encoders, input_ids, strict=True):
        out = encoder(ids.to(device), output_hidden_states=True)
        pooled = out[0]  # text_embeds of the projection model (the second encoder)
        states.append(out.hidden_states[-2])
    return torch.cat(states, dim=-1), pooled


def encode_prompt(pipe, prompt: str, device):
    """Text embeddings of a prompt, without gradients."""
    import torch

    with torch.no_grad():
        return encode_ids(pipe, tokenize(pipe, prompt), device)


def sdxl_time_ids(item, resolution: int, target_hw: tuple[int, int] | None = None) -> list[float]:
    """SDXL's micro-conditioning for a crop: original size, crop corner, target size. The corner
    is measured in the original rescaled so the crop is the target's width, as SDXL was trained;
    a bucketed crop (item.crop_hw) gives its own target (h, w)."""
    target_h, target_w = target_hw or (resolution, resolution)
    orig = item.original_size if item.original_size != (0, 0) else (target_h, target_w)
    crop_hw = getattr(item, "crop_hw", (0, 0))
    crop_w = crop_hw[1] if crop_hw != (0, 0) else (getattr(item, "crop_size", 0) or min(orig))
    scale = target_w / crop_w
    top, left = item.crop_top_left
    return [orig[0], orig[1], round(top * scale), round(left * scale), target_h, target_w]


def encode_examples(
    pipe,
    images: list,
    device,
    *,
    cache_text: bool = True,
    resolution: int | None = None,
    keep_size: bool = False,
    mask: str = "off",
    mask_background_weight: float = 1.0,
) -> list[Example]:
    """Encode every image once (and its caption, unless the text encoders train): the VAE and
    text encoders then leave the GPU for the whole loop. Crops of another size are resized to
    `resolution` (batches need one size) unless `keep_size` (aspect buckets batch by shape).
    With a mask, each example carries its per-latent-pixel loss weight."""
    import numpy as np
    import torch
    from PIL import Image

    vae = pipe.vae
    vae.to(device, dtype=torch.float32)  # the SDXL VAE overflows in half precision
    for encoder in text_encoders(pipe):
        encoder.to(device)
    is_sdxl = getattr(pipe, "text_encoder_2", None) is not None
    examples = []
    for item in images:
        interrupt.check()  # one VAE encode at a large size takes seconds: stop between images
        with Image.open(item.path) as im:
            im = im.convert("RGB")
            if resolution and not keep_size and im.size != (resolution, resolution):
                im = im.resize((resolution, resolution), Image.LANCZOS)
            pixels = np.asarray(im, dtype=np.float32) / 127.5 - 1.0
        tensor = torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0).to(device)
        with torch.no_grad():
            dist = vae.encode(tensor).latent_dist
        faults.reach("caching_latents")
        ids = tokenize(pipe, item.caption)
        embeds = pooled = None
        if cache_text:
            embeds, pooled = encode_prompt(pipe, item.caption, device)
        time_ids = None
        if is_sdxl:
            target_hw = (tensor.shape[-2], tensor.shape[-1])
            time_ids = torch.tensor(
                [sdxl_time_ids(item, tensor.shape[-1], target_hw)], dtype=torch.float32, device=device
            )
        weight = None
        if mask != "off":
            region = _mask_of(item, mask)
            if region is not None:
                region = region.resize((tensor.shape[-1], tensor.shape[-2]))  # the crop as trained
                weight = masks.latent_weight(region, tuple(dist.mean.shape[-2:]), mask_background_weight)
                weight = weight.to(device)
        examples.append(
            Example(
                latent_mean=dist.mean,
                latent_std=dist.std,
                time_ids=time_ids,
                prompt_embeds=embeds,
                pooled_embeds=pooled,
                input_ids=ids,
                loss_weight=weight,
                is_prior=getattr(item, "is_prior", False),
            )
        )
    return examples


def _mask_of(item, mode: str):
    """The crop's saved mask, or one found on the crop now (web datasets keep no landmarks)."""
    from PIL import Image

    if getattr(item, "is_prior", False):
        return None  # class images are weighted whole
    path = getattr(item, "mask_path", None)
    if path is not None and Path(path).is_file():
        with Image.open(path) as im:
            return im.convert("L")
    return masks.mask_for_crop(item.path, mode)


def free_encoders(pipe, *, keep_text: bool = False) -> None:
    """Move the VAE (and text encoders, unless they train) off the GPU: they return only to sample."""
    import torch

    pipe.vae.to("cpu")
    if not keep_text:
        for encoder in text_encoders(pipe):
            encoder.to("cpu")
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# ---- adapters, optimizer, checkpoints ----
