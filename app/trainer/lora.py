"""The LoRA training loop: peft adapters on a frozen SDXL (or SD 1.5) UNet, optionally on the
text encoders too.

Read it top to bottom: the config, lesson 6's arithmetic, encode once, then `train`, one loop
in a fixed order (lr, noise, forward, loss, backward, clip, step, log, checkpoint, sample)."""

import json
import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from app.trainer import faults, interrupt

log = logging.getLogger(__name__)

UNET_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")  # the attention projections of the UNet
TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")  # the same inside a CLIP text encoder


@dataclass(frozen=True)
class TrainConfig:
    trigger: str  # rare token that names the face, e.g. "sks"
    class_word: str  # what the face is, e.g. "woman"
    resolution: int = 1024  # square training size in pixels (SDXL 1024, SD 1.5 512, demo 128)
    rank: int = 16  # LoRA rank r: the width of the low-rank update B·A
    alpha: float = 16.0  # LoRA alpha: the update is scaled by alpha / rank
    learning_rate: float = 1e-4  # AdamW learning rate for the adapter weights
    epochs: int | None = 10  # passes over images x repeats; ignored when max_steps is set
    max_steps: int | None = None  # stop after this many optimizer steps instead
    repeats: int = 1  # how often each image appears in one epoch
    batch_size: int = 1  # images per optimizer step
    seed: int = 123456  # fixes noise, timesteps, order and samples: same seed, same run
    lr_scheduler: str = "constant"  # "constant" or "cosine" (both after the warm-up)
    warmup_steps: int = 0  # linear warm-up from 0 to learning_rate over this many steps
    min_snr_gamma: float | None = 5.0  # min-SNR loss weighting (None: plain MSE)
    noise_offset: float = 0.0  # extra per-channel noise; lets the model learn very dark/bright images
    max_grad_norm: float = 1.0  # gradient clipping
    weight_decay: float = 1e-4  # AdamW weight decay
    use_8bit_adam: bool = False  # bitsandbytes AdamW8bit when it is installed (CUDA only)
    gradient_checkpointing: bool = False  # recompute activations in backward: less memory, ~30% slower
    train_text_encoder: bool = False  # LoRA on the text encoders too (embeddings are then not cached)
    text_encoder_lr: float | None = None  # learning rate for the text encoder adapters (None: learning_rate)
    target_modules: tuple[str, ...] = UNET_TARGETS  # UNet modules that get an adapter
    save_every_epochs: int = 1  # export + sample every this many epochs (the last epoch always)
    sample_prompts: tuple[str, ...] = ()  # per-epoch samples; empty: "photo of <trigger> <class>"
    sample_steps: int = 20  # denoising steps for the per-epoch samples
    name: str = "face_lora"  # file name of the exported LoRA (and webui's <lora:name:0.8>)
    channels_last: bool = False  # NHWC memory layout for the UNet's convolutions (CUDA)
    compile_unet: bool = False  # torch.compile the UNet (CUDA; the first steps are slow)

    @property
    def instance_prompt(self) -> str:
        """The words that name the face: "<trigger> <class>"."""
        return f"{self.trigger} {self.class_word}"

    def prompts_for_samples(self) -> list[str]:
        """The prompts sampled at every saved epoch."""
        return list(self.sample_prompts) or [f"photo of {self.instance_prompt}"]

    def to_json(self) -> str:
        """The config as JSON (saved beside every checkpoint and in the LoRA's metadata)."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """A config from to_json's output; unknown keys are ignored, lists become tuples."""
        known = {f.name for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)


class TrainingError(Exception):
    """A failure the learner can act on; the message is one line and says what to change."""


class BaseModelError(TrainingError):
    """The base model cannot be found or loaded."""


class OutOfMemory(TrainingError):
    """The GPU ran out of memory; the message says what to lower."""


class NonFiniteLoss(TrainingError):
    """The loss became NaN or infinite."""


class TrainingCancelled(Exception):
    """The caller asked to stop (the last epoch's checkpoint is kept for a resume)."""


@dataclass(frozen=True)
class TrainProgress:
    step: int  # optimizer steps done
    total_steps: int
    epoch: int  # the epoch this step belongs to (1-based)
    total_epochs: int
    loss: float  # this step's loss
    lr: float  # this step's learning rate
    images_per_second: float  # over the current epoch
    eta_seconds: float


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    step: int
    lora_path: Path  # diffusers-format LoRA of this epoch (loads with load_lora_weights)
    kohya_path: Path  # kohya/webui-format file of this epoch
    sample_paths: list[Path]  # sample image(s) of this epoch at the fixed seed
    loss: float  # mean loss over the epoch


@dataclass
class Example:
    """One training image, encoded once."""

    latent_mean: object  # VAE latent distribution of the crop (mean, std): a fresh sample each step
    latent_std: object
    time_ids: object | None  # SDXL: (orig h, orig w, crop top, crop left, target h, target w)
    prompt_embeds: object | None  # cached text embeddings (None when the text encoders train)
    pooled_embeds: object | None  # SDXL's pooled embedding of the second encoder
    input_ids: tuple = ()  # token ids per text encoder (used when the text encoders train)


@dataclass
class TrainResult:
    steps: int
    final_loss: float
    losses: list[float] = field(default_factory=list)


# ---- lesson 6 arithmetic ----


def steps_per_epoch(num_images: int, repeats: int, batch_size: int) -> int:
    """One epoch shows every image `repeats` times: ceil(images x repeats / batch size) steps."""
    return math.ceil(num_images * repeats / batch_size)


def total_steps(cfg: TrainConfig, num_images: int) -> int:
    """max_steps when set, else steps per epoch x epochs."""
    return plan(cfg, num_images)[1]


def plan(cfg: TrainConfig, num_images: int) -> tuple[int, int, int]:
    """(steps per epoch, total steps, total epochs) for a run."""
    per_epoch = steps_per_epoch(num_images, cfg.repeats, cfg.batch_size)
    if cfg.max_steps:
        return per_epoch, cfg.max_steps, math.ceil(cfg.max_steps / per_epoch)
    epochs = cfg.epochs or 1
    return per_epoch, per_epoch * epochs, epochs


def get_lr(cfg: TrainConfig, step: int, total: int, base_lr: float | None = None) -> float:
    """Learning rate at a step: linear warm-up, then constant or cosine decay to zero."""
    lr = cfg.learning_rate if base_lr is None else base_lr
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return lr * (step + 1) / cfg.warmup_steps
    if cfg.lr_scheduler == "cosine":
        progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
        return lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return lr


def validate(cfg: TrainConfig) -> None:
    """Raise TrainingError for settings that cannot train."""
    if cfg.rank < 1 or cfg.batch_size < 1 or cfg.repeats < 1 or cfg.save_every_epochs < 1:
        raise TrainingError("rank, batch size, repeats and save_every_epochs must be at least 1")
    if (cfg.max_steps or 0) < 1 and (cfg.epochs or 0) < 1:
        raise TrainingError("set epochs or max_steps to at least 1")
    if cfg.resolution < 64 or cfg.resolution % 8:
        raise TrainingError(f"resolution must be a multiple of 8 and at least 64 (got {cfg.resolution})")
    if cfg.lr_scheduler not in ("constant", "cosine"):
        raise TrainingError(f"unknown learning-rate schedule {cfg.lr_scheduler!r}: use constant or cosine")
    if not cfg.learning_rate > 0 or not cfg.alpha > 0:
        raise TrainingError("learning rate and alpha must be positive")


# ---- encode once ----


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


def sdxl_time_ids(item, resolution: int) -> list[float]:
    """SDXL's micro-conditioning for a crop: original size, crop corner, target size. The corner
    is measured in the original rescaled so the crop is `resolution` wide, as SDXL was trained."""
    orig = item.original_size if item.original_size != (0, 0) else (resolution, resolution)
    side = getattr(item, "crop_size", 0) or min(orig)
    scale = resolution / side
    top, left = item.crop_top_left
    return [orig[0], orig[1], round(top * scale), round(left * scale), resolution, resolution]


def encode_examples(
    pipe, images: list, device, *, cache_text: bool = True, resolution: int | None = None
) -> list[Example]:
    """Encode every image once (and its caption, unless the text encoders train): the VAE and
    text encoders then leave the GPU for the whole loop. Crops of another size are resized to
    `resolution` (batches need one size)."""
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
            if resolution and im.size != (resolution, resolution):
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
            time_ids = torch.tensor(
                [sdxl_time_ids(item, tensor.shape[-1])], dtype=torch.float32, device=device
            )
        examples.append(
            Example(
                latent_mean=dist.mean,
                latent_std=dist.std,
                time_ids=time_ids,
                prompt_embeds=embeds,
                pooled_embeds=pooled,
                input_ids=ids,
            )
        )
    return examples


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


def lora_config(cfg: TrainConfig, targets):
    """The peft LoraConfig for one model."""
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.rank, lora_alpha=cfg.alpha, init_lora_weights="gaussian", target_modules=list(targets)
    )


def add_lora(unet, cfg: TrainConfig) -> list:
    """Freeze the UNet and add a LoRA adapter to its attention projections; returns the trainable
    parameters, kept in float32 even when the UNet runs in bf16 (tiny updates vanish in bf16)."""
    import torch

    unet.requires_grad_(False)
    unet.add_adapter(lora_config(cfg, cfg.target_modules))
    params = [p for p in unet.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.to(torch.float32)
    return params


def add_text_lora(pipe, cfg: TrainConfig) -> list:
    """Freeze the text encoders and add LoRA adapters to their attention projections."""
    import torch

    params = []
    for encoder in text_encoders(pipe):
        encoder.requires_grad_(False)
        encoder.add_adapter(lora_config(cfg, TEXT_TARGETS))
        trainable = [p for p in encoder.parameters() if p.requires_grad]
        for p in trainable:
            p.data = p.data.to(torch.float32)
        params += trainable
    return params


def adapted_models(pipe, cfg: TrainConfig) -> dict[str, object]:
    """{"unet": ..., "text_encoder": ..., "text_encoder_2": ...}: the models that carry an adapter."""
    models = {"unet": pipe.unet}
    if cfg.train_text_encoder:
        models["text_encoder"] = pipe.text_encoder
        if getattr(pipe, "text_encoder_2", None) is not None:
            models["text_encoder_2"] = pipe.text_encoder_2
    return models


def make_optimizer(cfg: TrainConfig, unet_params: list, text_params: list, device):
    """AdamW (fused on CUDA), or bitsandbytes' 8-bit AdamW on CUDA when asked for and installed."""
    import torch

    groups = [{"params": unet_params, "lr": cfg.learning_rate, "base_lr": cfg.learning_rate}]
    if text_params:
        text_lr = cfg.text_encoder_lr or cfg.learning_rate
        groups.append({"params": text_params, "lr": text_lr, "base_lr": text_lr})
    on_cuda = str(device).startswith("cuda")
    if cfg.use_8bit_adam and on_cuda:
        try:
            import bitsandbytes as bnb

            return bnb.optim.AdamW8bit(groups, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        except ImportError:
            log.warning("bitsandbytes is not installed: using the standard AdamW")
    return torch.optim.AdamW(
        groups, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, fused=on_cuda or None
    )


def _save_checkpoint(
    folder: Path, models: dict, optimizer, step: int, losses: list[float], cfg: TrainConfig
) -> None:
    """Adapter weights, optimizer state and the step, written beside the last checkpoint and then
    swapped in: a crash while saving leaves the previous checkpoint intact."""
    import torch
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, model in models.items():
        state = {
            k: v.detach().to("cpu", torch.float32).contiguous()
            for k, v in get_peft_model_state_dict(model).items()
        }
        save_file(state, tmp / f"{name}.safetensors")
    torch.save({"optimizer": optimizer.state_dict(), "step": step, "losses": losses}, tmp / "state.pt")
    (tmp / "train_config.json").write_text(cfg.to_json())
    faults.reach("saving_checkpoint")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _load_checkpoint(folder: Path, models: dict, optimizer, cfg: TrainConfig) -> tuple[int, list[float]]:
    import torch
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    saved = TrainConfig.from_dict(json.loads((folder / "train_config.json").read_text()))
    if saved != cfg:
        raise TrainingError(
            "the output folder holds a checkpoint of a run with other settings: use a new folder"
        )
    for name, model in models.items():
        set_peft_model_state_dict(model, load_file(folder / f"{name}.safetensors"))
        for p in model.parameters():
            if p.requires_grad:
                p.data = p.data.to(torch.float32)
    state = torch.load(folder / "state.pt", map_location="cpu", weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    return state["step"], state["losses"]


EPOCH_DONE = "epoch_done"  # in the checkpoint folder once on_epoch_end has finished for it


def checkpoint_dir(out_dir: Path) -> Path:
    """Where the loop keeps the checkpoint a crashed or cancelled run resumes from."""
    return out_dir / "checkpoints" / "last"


def _snr(alphas_cumprod, timesteps):
    alpha = alphas_cumprod[timesteps]
    return alpha / (1 - alpha)


def _epoch_order(cfg: TrainConfig, num_items: int, epoch: int) -> list[int]:
    """The shuffled order of one epoch; it depends only on (seed, epoch), so a resumed run
    sees exactly the batches the first run would have."""
    import torch

    generator = torch.Generator().manual_seed(cfg.seed + 7919 * epoch)
    return torch.randperm(num_items, generator=generator).tolist()


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
    import torch.nn.functional as F
    from diffusers import DDPMScheduler

    validate(cfg)
    device = torch.device(device)
    on_cuda = device.type == "cuda"
    unet = pipe.unet
    # bf16 weights + autocast on GPU (half the memory traffic of fp32 weights); exact fp32 on CPU.
    unet.to(device, dtype=torch.bfloat16 if on_cuda else torch.float32)
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
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    alphas_cumprod = noise_scheduler.alphas_cumprod.to(device)
    prediction_type = noise_scheduler.config.prediction_type
    scaling = pipe.vae.config.scaling_factor

    num_images = len(examples)
    per_epoch, steps_total, epochs_total = plan(cfg, num_images)
    items = [i for i in range(num_images) for _ in range(cfg.repeats)]
    start_step, losses = 0, []
    if resume and (checkpoint_dir(out_dir) / "state.pt").exists():
        start_step, losses = _load_checkpoint(checkpoint_dir(out_dir), models, optimizer, cfg)
    forward = torch.compile(unet) if cfg.compile_unet else unet
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

    def finish_epoch(step: int) -> None:
        """Hand the finished epoch to on_epoch_end (export, samples), then mark it done in the
        checkpoint. A crash between the two redoes only the hand-over on resume, from the same
        weights, so no epoch is ever skipped."""
        epoch, pos = divmod(step - 1, per_epoch)
        epoch_losses = losses[step - pos - 1 : step]
        for model in models.values():
            model.eval()
        on_epoch_end(epoch + 1, step, sum(epoch_losses) / len(epoch_losses))
        for model in models.values():
            model.train()
        (checkpoint_dir(out_dir) / EPOCH_DONE).touch()

    if start_step and not (checkpoint_dir(out_dir) / EPOCH_DONE).exists():
        finish_epoch(start_step)
    for model in models.values():
        model.train()
    pending = None  # (step, epoch, lr, loss tensor): read one step late so the GPU never waits on us
    epoch_start, epoch_images, order = time.perf_counter(), 0, []

    def report(step: int, epoch: int, lr: float, loss_tensor) -> None:
        loss = loss_tensor.item()  # a sync point, but the next step is already queued on the GPU
        if not math.isfinite(loss):
            raise NonFiniteLoss(
                f"the loss became {loss} at step {step + 1}: lower the learning rate (now {cfg.learning_rate:g})"
            )
        losses.append(loss)
        elapsed = time.perf_counter() - epoch_start
        ips = epoch_images / elapsed if elapsed > 0 else 0.0
        on_progress(
            TrainProgress(
                step=step + 1,
                total_steps=steps_total,
                epoch=epoch + 1,
                total_epochs=epochs_total,
                loss=loss,
                lr=lr,
                images_per_second=ips,
                eta_seconds=(steps_total - step - 1) * cfg.batch_size / ips if ips else 0.0,
            )
        )

    for step in range(start_step, steps_total):
        if should_cancel():
            raise TrainingCancelled()
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
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_cuda):
                # conditioning: cached embeddings, or the text encoders (with their adapters) every step
                if cfg.train_text_encoder:
                    ids = tuple(torch.cat(parts) for parts in zip(*(e.input_ids for e in batch), strict=True))
                    prompt_embeds, pooled = encode_ids(pipe, ids, device)
                else:
                    prompt_embeds = torch.cat([e.prompt_embeds for e in batch])
                    pooled = (
                        torch.cat([e.pooled_embeds for e in batch]) if batch[0].time_ids is not None else None
                    )
                added = None
                if batch[0].time_ids is not None:  # SDXL: pooled text + crop micro-conditioning
                    added = {"text_embeds": pooled, "time_ids": torch.cat([e.time_ids for e in batch])}

                # forward
                pred = forward(noisy, timesteps, prompt_embeds, added_cond_kwargs=added).sample
            if prediction_type == "epsilon":
                target = noise
            else:
                target = noise_scheduler.get_velocity(latents, noise, timesteps)
            per_sample = F.mse_loss(pred.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))
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
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            faults.reach("step")
        except torch.OutOfMemoryError as exc:
            raise OutOfMemory(
                f"the GPU ran out of memory (batch {cfg.batch_size}, {cfg.resolution}px, rank {cfg.rank}): "
                "lower the batch size, the resolution or the rank, or turn on gradient checkpointing"
            ) from exc

        # log (the previous step's loss: reading this one now would stall the GPU)
        epoch_images += len(batch)
        if pending:
            report(*pending)
        pending = (step, epoch, lr, loss.detach())

        # checkpoint and sample at the end of each epoch
        if pos == per_epoch - 1 or step == steps_total - 1:
            report(*pending)
            pending = None
            before_write()
            _save_checkpoint(checkpoint_dir(out_dir), models, optimizer, step + 1, losses, cfg)
            finish_epoch(step + 1)
            epoch_start, epoch_images = time.perf_counter(), 0

    for model in models.values():
        model.eval()
    return TrainResult(steps=steps_total, final_loss=losses[-1] if losses else float("nan"), losses=losses)
