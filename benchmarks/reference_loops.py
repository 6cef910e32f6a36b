"""The reference training loops that benchmarks/train_speed.py measures beside ours, same run.

fair   the diffusers SDXL LoRA example as its README recommends running it: `--mixed_precision
       bf16` (frozen UNet in bf16 under bf16 autocast, LoRA weights in fp32), `--cache_latents`
       (the VAE encodes each image once; its latent distribution is sampled every step), prompt
       embeddings computed once (the prompt is fixed and the text encoders do not train), SDPA
       attention, torch AdamW, the gradient clipped and the loss logged with .item() every step.
plain  the same example without those options: every step encodes the images with the VAE and
       the prompt with both text encoders, UNet weights in fp32 under bf16 autocast.

Both are written here after the example's loop; they share nothing with app.trainer.loop but
the peft LoRA config, so each measures its own per-step cost.
"""

import time

from train_speed import CAPTION, PeakMemory


def _pixels(images) -> list:
    """The crops as [-1, 1] CHW float tensors, as the example's transforms make them."""
    import numpy as np
    import torch
    from PIL import Image

    out = []
    for item in images:
        with Image.open(item.path) as im:
            out.append(
                torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)
            )
    return out


def _adapter(unet) -> list:
    """A rank-16 LoRA on the attention projections; returns its (fp32) parameters."""
    import torch

    from app.trainer import config, lora

    unet.requires_grad_(False)
    unet.add_adapter(
        lora.lora_config(
            config.TrainConfig(trigger="sks", class_word="woman", rank=16, alpha=16.0), config.UNET_TARGETS
        )
    )
    params = [p for p in unet.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.to(torch.float32)  # the example's cast_training_params
    return params


def time_fair(pipe, images, *, batch, steps, warmup, resolution, device):
    """The example with bf16 weights, cached latents and precomputed prompt embeddings."""
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler

    from app.trainer import encoding

    on_cuda = device.startswith("cuda")
    vae = pipe.vae.to(device, dtype=torch.float32)  # the example keeps the SDXL VAE in fp32
    for encoder in encoding.text_encoders(pipe):
        encoder.to(device)
    with torch.no_grad():
        dists = [vae.encode(x.unsqueeze(0).to(device)).latent_dist for x in _pixels(images)]
        embeds, pooled = encoding.encode_prompt(pipe, CAPTION, device)
    encoding.free_encoders(pipe)  # the example deletes the VAE and text encoders once cached
    unet = pipe.unet.to(device, dtype=torch.bfloat16 if on_cuda else torch.float32)
    params = _adapter(unet)
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-4)
    scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    scaling = pipe.vae.config.scaling_factor
    unet.train()
    stamps = []
    with PeakMemory(device) as memory:
        for step in range(warmup + steps):
            idx = [(step * batch + k) % len(dists) for k in range(batch)]
            latents = torch.cat([dists[i].sample() for i in idx]) * scaling
            prompt = embeds.repeat(batch, 1, 1)
            time_ids = torch.tensor(
                [[resolution, resolution, 0, 0, resolution, resolution]] * batch, device=device
            )  # the example builds the time ids per step
            noise = torch.randn_like(latents)
            t = torch.randint(0, scheduler.config.num_train_timesteps, (batch,), device=device)
            noisy = scheduler.add_noise(latents, noise, t)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda):
                pred = unet(
                    noisy,
                    t,
                    prompt,
                    added_cond_kwargs={"text_embeds": pooled.repeat(batch, 1), "time_ids": time_ids},
                ).sample
            loss = F.mse_loss(pred.float(), noise.float())
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss.detach().item()  # the example logs the loss every step
            stamps.append(time.perf_counter())
    return (stamps[-1] - stamps[warmup - 1]) / steps, memory.gib


def time_plain(pipe, images, *, batch, steps, warmup, resolution, device):
    """The plain loop: VAE + both text encoders every step, fp32 UNet weights under autocast."""
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler

    from app.trainer import encoding

    on_cuda = device.startswith("cuda")
    unet, vae = pipe.unet.to(device, dtype=torch.float32), pipe.vae.to(device, dtype=torch.float32)
    for encoder in encoding.text_encoders(pipe):
        encoder.to(device, dtype=torch.float32)
    params = _adapter(unet)
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-4)
    scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    pixels = _pixels(images)
    unet.train()
    stamps = []
    with PeakMemory(device) as memory:
        for step in range(warmup + steps):
            idx = [(step * batch + k) % len(pixels) for k in range(batch)]
            x = torch.stack([pixels[i] for i in idx]).to(device)
            with torch.no_grad():
                latents = vae.encode(x).latent_dist.sample() * vae.config.scaling_factor
                ids = encoding.tokenize(pipe, CAPTION)
                ids = tuple(t.repeat(batch, 1) for t in ids)
                embeds, pooled = encoding.encode_ids(pipe, ids, device)
            time_ids = torch.tensor(
                [[resolution, resolution, 0, 0, resolution, resolution]] * batch,
                device=device,
                dtype=torch.float32,
            )
            noise = torch.randn_like(latents)
            t = torch.randint(0, scheduler.config.num_train_timesteps, (batch,), device=device)
            noisy = scheduler.add_noise(latents, noise, t)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda):
                pred = unet(
                    noisy, t, embeds, added_cond_kwargs={"text_embeds": pooled, "time_ids": time_ids}
                ).sample
            loss = F.mse_loss(pred.float(), noise.float())
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss.item()  # the example logs the loss every step
            stamps.append(time.perf_counter())
    seconds = (stamps[-1] - stamps[warmup - 1]) / steps
    return seconds, memory.gib
