"""The flow-matching LoRA loop for FLUX.1 over pre-encoded examples, in the order of the UNet
loop (app/trainer/loop.py): lr, noise, forward, loss, backward, clip, step, log, checkpoint.

Flow matching in four lines: draw sigma in (0, 1), mix x = (1 - sigma) * latents + sigma * noise,
ask the transformer for the velocity, and regress it on noise - latents. Latents are packed into
2x2 patches (64 numbers per image token) with (0, row, column) position ids, as FluxPipeline does."""

import logging
import math
from collections.abc import Callable
from pathlib import Path

from app.trainer import faults, precision
from app.trainer.bookkeeping import StepBook
from app.trainer.config import TrainConfig, get_lr, plan, validate
from app.trainer.errors import OutOfMemory, TrainingError
from app.trainer.flux.encoding import FluxExample
from app.trainer.flux.lora import add_flux_lora
from app.trainer.loop import TrainProgress, TrainResult, _epoch_order
from app.trainer.optimizers import make_optimizer

log = logging.getLogger(__name__)

TRAIN_GUIDANCE = 1.0  # dev's distilled-guidance input while training (kohya, ai-toolkit: 1.0)
LOGIT_MEAN, LOGIT_STD = 0.0, 1.0  # logit-normal sigmas: most draws mid-way, few at the ends


def sample_sigmas(generator, batch: int, image_tokens: int, scheduler_config, device):
    """Noise levels for one batch: logit-normal, then shifted toward noise as dev's sampler is.
    dev shifts by image size (mu from base_shift at 256 tokens to max_shift at 4096, the curve
    FluxPipeline samples with); schnell's scheduler has a fixed shift (1: none)."""
    import torch

    u = torch.sigmoid(LOGIT_MEAN + LOGIT_STD * torch.randn(batch, generator=generator, device=device))
    c = scheduler_config
    if c.get("use_dynamic_shifting"):
        slope = (c["max_shift"] - c["base_shift"]) / (c["max_image_seq_len"] - c["base_image_seq_len"])
        mu = c["base_shift"] + slope * (image_tokens - c["base_image_seq_len"])
        return math.exp(mu) / (math.exp(mu) + (1 / u - 1))
    shift = float(c.get("shift", 1.0))
    return shift * u / (1 + (shift - 1) * u)


def pack(pipe, latents):
    """(B, 16, H, W) latents -> (B, H/2 * W/2, 64) image tokens, FluxPipeline's layout."""
    b, c, h, w = latents.shape
    return pipe._pack_latents(latents, b, c, h, w)


def image_ids(pipe, latents):
    """(tokens, 3) position ids of the packed image tokens: (0, row, column)."""
    _, _, h, w = latents.shape
    return pipe._prepare_latent_image_ids(1, h // 2, w // 2, latents.device, latents.dtype)


def guidance_input(transformer, batch: int, device):
    """dev takes a guidance value; schnell has no guidance input."""
    import torch

    if not transformer.config.guidance_embeds:
        return None
    return torch.full((batch,), TRAIN_GUIDANCE, device=device, dtype=torch.float32)


def validate_flux(cfg: TrainConfig) -> None:
    """Raise TrainingError for settings FLUX training does not take."""
    validate(cfg)
    if cfg.train_text_encoder:
        raise TrainingError("FLUX.1 LoRAs train the transformer only: leave the text encoders off")
    if cfg.resolution % 16:
        raise TrainingError(f"FLUX.1 needs a resolution that is a multiple of 16 (got {cfg.resolution})")


def train(
    cfg: TrainConfig,
    pipe,
    examples: list[FluxExample],
    *,
    out_dir: Path,
    device,
    on_progress: Callable[[TrainProgress], None] = lambda p: None,
    on_epoch_end: Callable[[int, int, float], None] = lambda epoch, step, loss: None,
    should_cancel: Callable[[], bool] = lambda: False,
    before_write: Callable[[], None] = lambda: None,
    resume: bool = True,
) -> TrainResult:
    """Train a LoRA on the FLUX.1 transformer. Never mutates cfg; knows no HTTP or database.
    min_snr_gamma and noise_offset are DDPM ideas and do not apply to flow matching."""
    import torch
    import torch.nn.functional as F

    validate_flux(cfg)
    device = torch.device(device)
    on_cuda = device.type == "cuda"
    transformer = pipe.transformer
    # bf16 weights + autocast on GPU (a 12B transformer is 24 GB in bf16, 12 GB stored in fp8);
    # exact fp32 on CPU. The base is placed before the adapters exist, so they stay float32.
    precision.place_base(transformer, cfg.base_precision, device)
    # peft draws the initial A matrices from the global RNG: seed it in a fork, so the same seed gives the same run
    with torch.random.fork_rng(devices=[device.index or torch.cuda.current_device()] if on_cuda else []):
        torch.manual_seed(cfg.seed)
        params = add_flux_lora(transformer, cfg)
    models = {"transformer": transformer}
    if cfg.gradient_checkpointing:
        transformer.enable_gradient_checkpointing()
    optimizer = make_optimizer(cfg, params, [], device)
    scheduler_config = dict(pipe.scheduler.config)
    vae_shift, vae_scale = pipe.vae.config.shift_factor, pipe.vae.config.scaling_factor

    num_images = len(examples)
    per_epoch, steps_total, epochs_total = plan(cfg, num_images)
    items = [i for i in range(num_images) for _ in range(cfg.repeats)]
    book = StepBook(
        cfg,
        out_dir=out_dir,
        models=models,
        optimizer=optimizer,
        plan=(per_epoch, steps_total, epochs_total),
        on_progress=on_progress,
        on_epoch_end=on_epoch_end,
        should_cancel=should_cancel,
        before_write=before_write,
    )
    start_step = book.resume(resume)
    log.info(
        "training FLUX.1: %d images x %d repeats / batch %d = %d steps per epoch, %d epochs, %d steps%s",
        num_images,
        cfg.repeats,
        cfg.batch_size,
        per_epoch,
        epochs_total,
        steps_total,
        f", resuming at step {start_step}" if start_step else "",
    )

    book.begin()
    order = []

    for step in range(start_step, steps_total):
        book.check_cancel()
        epoch, pos = divmod(step, per_epoch)
        if pos == 0 or not order:
            order = [items[i] for i in _epoch_order(cfg, len(items), epoch)]
        batch = [examples[i] for i in order[pos * cfg.batch_size : (pos + 1) * cfg.batch_size]]

        # learning rate
        lr = get_lr(cfg, step, steps_total)
        for group in optimizer.param_groups:
            group["lr"] = get_lr(cfg, step, steps_total, group["base_lr"])

        # noise: one generator per step, so step k draws the same numbers in every run (and on resume)
        gen = torch.Generator(device=device).manual_seed(cfg.seed * 1_000_003 + step)
        mean = torch.cat([e.latent_mean for e in batch]).to(device)
        std = torch.cat([e.latent_std for e in batch]).to(device)
        latents = (mean + std * torch.randn(mean.shape, generator=gen, device=device) - vae_shift) * vae_scale
        noise = torch.randn(latents.shape, generator=gen, device=device)
        tokens = pack(pipe, latents)
        sigmas = sample_sigmas(gen, len(batch), tokens.shape[1], scheduler_config, device)
        noisy = (1 - sigmas[:, None, None]) * tokens + sigmas[:, None, None] * pack(pipe, noise)
        target = pack(pipe, noise - latents)  # the velocity from the image toward the noise

        try:
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda):
                # forward: the pipeline passes timestep / 1000, i.e. sigma itself
                pred = transformer(
                    hidden_states=noisy,
                    timestep=sigmas,
                    guidance=guidance_input(transformer, len(batch), device),
                    pooled_projections=torch.cat([e.pooled_embeds for e in batch]).to(device),
                    encoder_hidden_states=torch.cat([e.prompt_embeds for e in batch]).to(device),
                    txt_ids=batch[0].text_ids.to(device),
                    img_ids=image_ids(pipe, latents),
                    return_dict=False,
                )[0]
            loss = F.mse_loss(pred.float(), target.float())

            # backward, clip, step
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            faults.reach("step")
        except torch.OutOfMemoryError as exc:
            raise OutOfMemory(
                f"the GPU ran out of memory (batch {cfg.batch_size}, {cfg.resolution}px, rank {cfg.rank}): "
                "lower the batch size, the resolution or the rank, or turn on gradient checkpointing"
            ) from exc

        # log
        book.epoch_images += len(batch)
        book.record(step, epoch, lr, loss.item())

        # checkpoint and sample at the end of each epoch
        if book.ends_epoch(step, pos):
            book.end_epoch(step + 1)

    transformer.eval()
    losses = book.losses
    return TrainResult(steps=steps_total, final_loss=losses[-1] if losses else float("nan"), losses=losses)
