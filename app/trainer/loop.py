"""The LoRA training loop over pre-encoded examples, on adapters added by app.trainer.lora.

Read it top to bottom: the config, lesson 6's arithmetic, encode once, then `train`, one loop
in a fixed order (lr, noise, forward, loss, backward, clip, step, log, checkpoint, sample)."""

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.trainer import buckets, faults, masks, precision
from app.trainer.bookkeeping import StepBook, TrainProgress
from app.trainer.config import TrainConfig, get_lr, plan, validate
from app.trainer.ema import AdapterEMA
from app.trainer.encoding import Example, encode_ids, text_encoders
from app.trainer.errors import OutOfMemory
from app.trainer.lora import adapted_models, adapter_layers, add_lora, add_text_lora, bf16_adapter_inputs
from app.trainer.optimizers import make_optimizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    step: int
    lora_path: Path  # diffusers-format LoRA of this epoch (loads with load_lora_weights)
    kohya_path: Path  # kohya/webui-format file of this epoch
    sample_paths: list[Path]  # sample image(s) of this epoch at the fixed seed
    loss: float  # mean loss over the epoch


@dataclass
class TrainResult:
    steps: int
    final_loss: float
    losses: list[float] = field(default_factory=list)


def _snr(alphas_cumprod, timesteps):
    alpha = alphas_cumprod[timesteps]
    return alpha / (1 - alpha)


def _epoch_order(cfg: TrainConfig, num_items: int, epoch: int) -> list[int]:
    """The shuffled order of one epoch; it depends only on (seed, epoch), so a resumed run
    sees exactly the batches the first run would have."""
    import torch

    generator = torch.Generator().manual_seed(cfg.seed + 7919 * epoch)
    return torch.randperm(num_items, generator=generator).tolist()


def _on_device(example: Example, device) -> Example:
    """The example with its tensors on `device` (the loop then never copies them per step)."""
    moved = {
        name: getattr(example, name).to(device)
        for name in ("latent_mean", "latent_std", "time_ids", "prompt_embeds", "pooled_embeds", "loss_weight")
        if getattr(example, name) is not None
    }
    return dataclasses.replace(example, **moved)


def _join(tensors: list):
    """The batch of one-row tensors; a single example is used as it is (no copy per step)."""
    import torch

    return tensors[0] if len(tensors) == 1 else torch.cat(tensors)


def _loss_weights(batch: list[Example], latents):
    """The batch's per-latent-pixel loss weights, or None when no example is masked."""
    import torch

    if all(e.loss_weight is None for e in batch):
        return None
    ones = torch.ones((1, 1, *latents.shape[-2:]), device=latents.device)
    return torch.cat([ones if e.loss_weight is None else e.loss_weight.to(latents.device) for e in batch])


# ---- the loop ----


def train(
    cfg: TrainConfig,
    pipe,
    examples: list[Example],
    *,
    out_dir: Path,
    device,
    on_progress: Callable[[TrainProgress], None] = lambda p: None,
    on_epoch_end: Callable[[int, int, float], None] = lambda epoch, step, loss: None,
    should_cancel: Callable[[], bool] = lambda: False,
    before_write: Callable[[], None] = lambda: None,
    resume: bool = True,
) -> TrainResult:
    """Train LoRA adapters on pre-encoded examples. Never mutates cfg; knows no HTTP or database.
    before_write runs before each checkpoint replaces the last one; it raises to stop the run
    (a worker uses it to confirm it still owns the job before touching shared files)."""
    import torch
    from diffusers import DDPMScheduler

    validate(cfg)
    device = torch.device(device)
    on_cuda = device.type == "cuda"
    unet = pipe.unet
    # bf16 weights + autocast on GPU (half the memory traffic of fp32 weights); exact fp32 on CPU;
    # or stored in fp8, placed before the adapters exist so they stay float32.
    precision.place_base(unet, cfg.base_precision, device)
    if cfg.channels_last:
        unet.to(memory_format=torch.channels_last)
    text_params = []
    # peft draws the initial A matrices from the global RNG: seed it (in a fork, leaving the
    # caller's RNG alone) so the same seed gives the same run.
    with torch.random.fork_rng(devices=[device.index or torch.cuda.current_device()] if on_cuda else []):
        torch.manual_seed(cfg.seed)
        unet_params = add_lora(unet, cfg)
        if cfg.train_text_encoder:
            for encoder in text_encoders(pipe):
                encoder.to(device, dtype=torch.bfloat16 if on_cuda else torch.float32)
            text_params = add_text_lora(pipe, cfg)
    models = adapted_models(pipe, cfg)
    if cfg.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
        if cfg.train_text_encoder:
            for encoder in text_encoders(pipe):
                encoder.gradient_checkpointing_enable()
    params = unet_params + text_params
    optimizer = make_optimizer(cfg, unet_params, text_params, device)
    ema = AdapterEMA(params, cfg.ema_decay) if cfg.ema_decay else None
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    alphas_cumprod = noise_scheduler.alphas_cumprod.to(device)
    prediction_type = noise_scheduler.config.prediction_type
    scaling = pipe.vae.config.scaling_factor

    num_images = len(examples)
    shapes = [tuple(e.latent_mean.shape[-2:]) for e in examples]  # aspect buckets: one shape per batch
    per_epoch, steps_total, epochs_total = plan(cfg, num_images, buckets.bucket_counts(shapes))
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
        ema=ema,
    )
    start_step = book.resume(resume)
    forward = torch.compile(unet) if cfg.compile_unet else unet
    # regional compile: each transformer block compiles once and every block of its shape reuses it
    if cfg.compile_blocks:
        for block in unet.modules():
            if type(block).__name__ == "BasicTransformerBlock":
                block.compile(dynamic=False)
    layers = adapter_layers(models.values()) if on_cuda else []
    log.info(
        "training: %d images x %d repeats / batch %d = %d steps per epoch, %d epochs, %d steps%s",
        num_images,
        cfg.repeats,
        cfg.batch_size,
        per_epoch,
        epochs_total,
        steps_total,
        f", resuming at step {start_step}" if start_step else "",
    )

    book.begin()
    pending = None  # (step, epoch, lr, loss tensor): read one step late so the GPU never waits on us
    order = []
    examples = [_on_device(e, device) for e in examples]  # once, not per step
    gen = torch.Generator(device=device)  # made once: a new CUDA generator per step costs host time

    def report(step: int, epoch: int, lr: float, loss_tensor) -> None:
        book.record(step, epoch, lr, loss_tensor.item())  # a sync point, but the next step is already queued

    for step in range(start_step, steps_total):
        book.check_cancel()
        epoch, pos = divmod(step, per_epoch)
        if pos == 0 or not order:
            shuffled = [items[i] for i in _epoch_order(cfg, len(items), epoch)]
            order = buckets.batches(shuffled, shapes, cfg.batch_size)
        batch = [examples[i] for i in order[pos]]

        # learning rate
        lr = get_lr(cfg, step, steps_total)
        for group in optimizer.param_groups:
            group["lr"] = get_lr(cfg, step, steps_total, group["base_lr"])

        # noise: the generator is reseeded per step, so step k draws the same numbers in every run (and on resume)
        gen.manual_seed(cfg.seed * 1_000_003 + step)
        mean = _join([e.latent_mean for e in batch])
        std = _join([e.latent_std for e in batch])
        latents = (mean + std * torch.randn(mean.shape, generator=gen, device=device)) * scaling
        noise = torch.randn(latents.shape, generator=gen, device=device)
        if cfg.noise_offset:
            offset = torch.randn((latents.shape[0], latents.shape[1], 1, 1), generator=gen, device=device)
            noise = noise + cfg.noise_offset * offset
        timesteps = torch.randint(
            0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],), generator=gen, device=device
        )
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        if cfg.channels_last:
            noisy = noisy.contiguous(memory_format=torch.channels_last)

        try:
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda), bf16_adapter_inputs(layers):
                # conditioning: cached embeddings, or the text encoders (with their adapters) every step
                if cfg.train_text_encoder:
                    ids = tuple(torch.cat(parts) for parts in zip(*(e.input_ids for e in batch), strict=True))
                    prompt_embeds, pooled = encode_ids(pipe, ids, device)
                else:
                    prompt_embeds = _join([e.prompt_embeds for e in batch])
                    pooled = (
                        _join([e.pooled_embeds for e in batch]) if batch[0].time_ids is not None else None
                    )
                added = None
                if batch[0].time_ids is not None:  # SDXL: pooled text + crop micro-conditioning
                    added = {"text_embeds": pooled, "time_ids": _join([e.time_ids for e in batch])}

                # forward
                pred = forward(noisy, timesteps, prompt_embeds, added_cond_kwargs=added).sample
            if prediction_type == "epsilon":
                target = noise
            else:
                target = noise_scheduler.get_velocity(latents, noise, timesteps)
            per_sample = masks.masked_mse(pred, target, _loss_weights(batch, latents))
            if any(e.is_prior for e in batch):  # prior preservation: class images count prior_loss_weight
                prior = torch.tensor([e.is_prior for e in batch], device=device)
                per_sample = torch.where(prior, per_sample * cfg.prior_loss_weight, per_sample)
            if cfg.min_snr_gamma:
                # min-SNR: down-weight the easy, low-noise timesteps that otherwise dominate the gradient
                snr = _snr(alphas_cumprod, timesteps)
                weight = torch.clamp(snr, max=cfg.min_snr_gamma) / (
                    snr if prediction_type == "epsilon" else snr + 1
                )
                per_sample = per_sample * weight
            loss = per_sample.mean()

            # backward, clip, step
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm, foreach=on_cuda or None)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if ema is not None:
                ema.update()
            faults.reach("step")
        except torch.OutOfMemoryError as exc:
            raise OutOfMemory(
                f"the GPU ran out of memory (batch {cfg.batch_size}, {cfg.resolution}px, rank {cfg.rank}): "
                "lower the batch size, the resolution or the rank, or turn on gradient checkpointing"
            ) from exc

        # log (the previous step's loss: reading this one now would stall the GPU)
        book.epoch_images += len(batch)
        if pending:
            report(*pending)
        pending = (step, epoch, lr, loss.detach())

        # checkpoint and sample at the end of each epoch
        if book.ends_epoch(step, pos):
            report(*pending)
            pending = None
            book.end_epoch(step + 1)

    if ema is not None:
        ema.copy_to_model()  # the final files (and their check) hold the average
    for model in models.values():
        model.eval()
    losses = book.losses
    return TrainResult(steps=steps_total, final_loss=losses[-1] if losses else float("nan"), losses=losses)
