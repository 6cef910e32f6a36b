"""A whole training run on prepared images: what `loraface train` and the worker both call.

load base -> encode once -> train (export + sample at each saved epoch) -> final files ->
verify: reload the exported files the way users do and compare the UNet at strength 0 and 1."""

import gc
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.trainer import (
    base_models,
    buckets,
    checkpoints,
    config,
    encoding,
    errors,
    export,
    faults,
    interrupt,
    loop,
    lora,
    prior,
    sampling,
)
from app.trainer.config import TrainConfig
from app.trainer.errors import TrainingCancelled, TrainingError
from app.trainer.flux.pipeline import run_flux_training
from app.trainer.loop import EpochResult, TrainProgress
from app.trainer.outputs import TrainingOutcome, copy_atomic, epoch_dir, kohya_name, saved_epochs

__all__ = ["TrainImage", "TrainingOutcome", "run_training", "TrainingCancelled", "TrainingError"]


@dataclass(frozen=True)
class TrainImage:
    path: Path  # a prepared square crop at cfg.resolution (RGB)
    caption: str  # "<trigger> <class>, ..."
    original_size: tuple[int, int] = (0, 0)  # (h, w) before cropping, for SDXL time ids
    crop_top_left: tuple[int, int] = (0, 0)  # (top, left) of the crop in the original
    crop_size: int = 0  # side of the square crop in the original (0: the original's shorter side)
    crop_hw: tuple[int, int] = (0, 0)  # (h, w) of a bucketed (non-square) crop in the original
    mask_path: Path | None = None  # face/head mask of the crop (None with a mask on: found on the crop)
    is_prior: bool = False  # a class image of prior preservation (its loss counts prior_loss_weight)


def _start_fresh_or_resume(out_dir: Path, cfg: TrainConfig, resume: bool) -> None:
    """Refuse to mix runs: a checkpoint of other settings is an error; without resume, old
    checkpoints and epochs are cleared before anything new is written."""
    saved = checkpoints.checkpoint_dir(out_dir) / "train_config.json"
    if resume and saved.exists():
        if TrainConfig.from_dict(json.loads(saved.read_text())) != cfg:
            raise TrainingError(
                f"{out_dir} holds a checkpoint of a run with other settings: use a new folder"
            )
        return
    for sub in ("checkpoints", "epochs", "samples", "diffusers"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)


def run_training(
    *,
    cfg: TrainConfig,
    images: list[TrainImage],
    out_dir: Path,
    base_model: str | None,
    cache_dir: Path,
    on_progress: Callable[[TrainProgress], None] = lambda p: None,
    on_epoch: Callable[[EpochResult], None] = lambda e: None,
    should_cancel: Callable[[], bool] = lambda: False,
    before_write: Callable[[], None] = lambda: None,
    resume: bool = True,
    device: str | None = None,
    family: str | None = None,
) -> TrainingOutcome:
    """Encode, train, export every saved epoch in both formats with samples at a fixed seed, then
    verify the final files by reloading them; `family` picks the tiny demo when no base is set. Raises TrainingError subclasses or TrainingCancelled."""
    import torch

    config.validate(cfg)
    if not images:
        raise TrainingError("no training images: add at least one accepted photo")
    missing = [str(im.path) for im in images if not Path(im.path).is_file()]
    if missing:
        raise TrainingError(f"training image not found: {missing[0]}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _start_fresh_or_resume(out_dir, cfg, resume)
    device = sampling.pick_device(device)
    model = base_models.resolve(base_model, Path(cache_dir), family)
    if cfg.base_precision == "fp8" and model.family != "flux":
        # the UNet loop takes an fp8 base, but the exports are checked by reloading them into it,
        # and peft gives a reloaded adapter its layer's dtype: the check would read an fp8-rounded file
        raise TrainingError("an fp8 base is available for FLUX.1 bases only: use --base-precision bf16")
    if cfg.prior_images and model.family == "flux":
        raise TrainingError("prior preservation is not available for FLUX.1 bases yet: use 0 prior images")
    # FLUX.1 is 12B + 4.7B parameters: load it in bf16 for a GPU (the adapter still trains in fp32)
    on_gpu_flux = model.family == "flux" and device.startswith("cuda")
    pipe = base_models.load_pipeline(model, dtype=torch.bfloat16 if on_gpu_flux else None)
    if cfg.vae_tiling:
        pipe.vae.enable_tiling()  # encode and decode in overlapping tiles: the VAE's peak memory stays small
    faults.reach("base_model_loaded")
    interrupt.check()  # loading a full base takes a while: a cancel sent meanwhile stops here
    (out_dir / "train_config.json").write_text(cfg.to_json())
    if model.family == "flux":
        return run_flux_training(
            cfg=cfg,
            pipe=pipe,
            images=images,
            out_dir=out_dir,
            device=device,
            on_progress=on_progress,
            on_epoch=on_epoch,
            should_cancel=should_cancel,
            before_write=before_write,
            resume=resume,
        )
    captions = [im.caption for im in images]
    examples = None
    try:
        class_images = _class_images(pipe, cfg, model, Path(cache_dir), device, on_progress, should_cancel)
        examples = encoding.encode_examples(
            pipe,
            images + class_images,
            device,
            cache_text=not cfg.train_text_encoder,
            resolution=cfg.resolution,
            keep_size=cfg.buckets,
            mask=cfg.mask,
            mask_background_weight=cfg.mask_background_weight,
        )
        shapes = [tuple(e.latent_mean.shape[-2:]) for e in examples]
        _, _, total_epochs = config.plan(cfg, len(examples), buckets.bucket_counts(shapes))
        encoding.free_encoders(pipe, keep_text=cfg.train_text_encoder)

        def on_epoch_end(epoch: int, step: int, loss: float) -> None:
            if epoch % cfg.save_every_epochs and epoch != total_epochs:
                return
            before_write()
            result = _export_epoch(
                pipe, cfg, model.family, out_dir, epoch, step, loss, len(images), captions, device
            )
            on_epoch(result)

        result = loop.train(
            cfg,
            pipe,
            examples,
            out_dir=out_dir,
            device=device,
            on_progress=on_progress,
            on_epoch_end=on_epoch_end,
            should_cancel=should_cancel,
            before_write=before_write,
            resume=resume,
        )
        epochs = saved_epochs(out_dir, cfg)
        before_write()
        final_diffusers = copy_atomic(
            epochs[-1].lora_path, out_dir / "diffusers" / export.DIFFUSERS_WEIGHT_NAME
        )
        faults.reach("final_export")
        final_kohya = copy_atomic(epochs[-1].kohya_path, out_dir / f"{cfg.name}.safetensors")
        verify_exports(pipe, cfg, final_diffusers, final_kohya, device)
    except torch.OutOfMemoryError as exc:
        raise errors.OutOfMemory(
            f"the GPU ran out of memory ({cfg.resolution}px, batch {cfg.batch_size}): lower the resolution or batch size"
        ) from exc
    finally:
        # Pipelines hold reference cycles (adapter hooks); free the GPU now, not at some later GC.
        pipe = examples = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return TrainingOutcome(
        lora_path=final_diffusers,
        kohya_path=final_kohya,
        epochs=epochs,
        steps=result.steps,
        final_loss=result.final_loss,
        config=cfg,
        family=model.family,
        losses=result.losses,
    )


def _class_images(pipe, cfg, model, cache_dir, device, on_progress, should_cancel) -> list[TrainImage]:
    """Prior preservation's class images from the cache, the missing ones made by the base now,
    with their time reported as the "prior images" phase of the progress."""
    if not cfg.prior_images:
        return []
    prompt = prior.class_prompt(cfg.class_word)
    folder = prior.cache_folder(
        cache_dir,
        base=str(model.path),
        class_word=cfg.class_word,
        resolution=cfg.resolution,
        steps=cfg.sample_steps,
        seed=cfg.seed,
    )
    made = []

    def on_image(done: int, total: int, seconds: float, generated: bool) -> None:
        made.append(generated)
        source = "made by the base" if generated else "from the cache"
        eta = seconds / made.count(True) * (total - done) if any(made) else 0.0
        on_progress(
            TrainProgress(
                step=done,
                total_steps=total,
                epoch=0,
                total_epochs=0,
                loss=float("nan"),  # no loss before training starts
                lr=0.0,
                images_per_second=done / seconds if seconds > 0 else 0.0,
                eta_seconds=eta,
                phase="prior images",
                message=(
                    f'{total} class image{"s" if total != 1 else ""} of "{prompt}" ready in {seconds:.1f} s '
                    f"({made.count(True)} made by the base, {made.count(False)} from the cache)"
                    if done == total
                    else f"class image {done}/{total} {source} ({seconds:.1f} s so far)"
                ),
            )
        )

    result = prior.ensure_class_images(
        pipe,
        folder=folder,
        count=cfg.prior_images,
        prompt=prompt,
        seed=cfg.seed,
        steps=cfg.sample_steps,
        resolution=cfg.resolution,
        device=device,
        on_image=on_image,
        should_cancel=should_cancel,
    )
    return [TrainImage(path=p, caption=prompt, is_prior=True) for p in result.paths]


def _export_epoch(pipe, cfg, family, out_dir, epoch, step, loss, num_images, captions, device) -> EpochResult:
    """Write one epoch's LoRA in both formats and its samples at the fixed seed."""
    import torch

    folder = epoch_dir(out_dir, epoch)
    models = lora.adapted_models(pipe, cfg)
    lora_path = export.save_diffusers(models, folder, family)
    faults.reach("exporting_epoch")
    meta = export.training_metadata(
        cfg=cfg,
        family=family,
        steps=step,
        epochs=epoch,
        num_images=num_images,
        captions=captions,
        weights="ema" if cfg.ema_decay else "raw",
    )
    kohya_path = export.save_kohya(
        models, folder / kohya_name(cfg, epoch), family=family, alpha=cfg.alpha, metadata=meta
    )

    # Samples with the adapter as trained (strength 1), on the run's seed, so epochs compare fairly.
    _encoders_to(pipe, device)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")), torch.no_grad():
        images = sampling.run_pipe(
            pipe,
            prompts=cfg.prompts_for_samples(),
            seed=cfg.seed,
            steps=cfg.sample_steps,
            resolution=cfg.resolution,
        )
    encoding.free_encoders(pipe, keep_text=cfg.train_text_encoder)
    paths = []
    for i, image in enumerate(images):
        path = out_dir / "samples" / f"epoch_{epoch:03d}_{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        paths.append(path)
    # epoch.json last: its presence marks the epoch as complete.
    (folder / "epoch.json").write_text(
        json.dumps(
            {
                "epoch": epoch,
                "step": step,
                "loss": loss,
                "weights": "ema" if cfg.ema_decay else "raw",
                "samples": [str(p.relative_to(out_dir)) for p in paths],
            }
        )
    )
    return EpochResult(
        epoch=epoch, step=step, lora_path=lora_path, kohya_path=kohya_path, sample_paths=paths, loss=loss
    )


def _encoders_to(pipe, device) -> None:
    pipe.vae.to(device)
    for encoder in encoding.text_encoders(pipe):
        encoder.to(device)


def _probe(pipe, resolution: int, device):
    """One fixed noisy latent, timestep and prompt: the UNet's output on it is compared below."""
    import torch

    g = torch.Generator().manual_seed(0)
    size = resolution // pipe.vae_scale_factor
    sample = torch.randn(1, 4, size, size, generator=g).to(device)
    ids = encoding.tokenize(pipe, "photo of a person")
    return sample, ids


def _unet_output(pipe, probe, resolution: int, device):
    import torch

    sample, ids = probe
    with (
        torch.no_grad(),
        torch.autocast("cuda", dtype=torch.bfloat16, enabled=str(device).startswith("cuda")),
    ):
        embeds, pooled = encoding.encode_ids(pipe, ids, device)
        added = None
        if pooled is not None:
            time_ids = torch.tensor(
                [[resolution, resolution, 0, 0, resolution, resolution]], dtype=torch.float32, device=device
            )
            added = {"text_embeds": pooled, "time_ids": time_ids}
        t = torch.tensor([500], device=device)
        return pipe.unet(sample, t, embeds, added_cond_kwargs=added).sample.float().cpu()


def verify_exports(pipe, cfg: TrainConfig, diffusers_path: Path, kohya_path: Path, device) -> None:
    """Reload both exported files the way users do (diffusers' loader, and the kohya file through
    diffusers' kohya converter) and check they reproduce the trained adapter, that strength 0 is
    the base model exactly, and that every kohya key names a module A1111/ComfyUI would find.
    The training adapter is removed from `pipe` afterwards."""
    import torch

    encoding.free_encoders(pipe)  # the probe runs the text encoders on the device below
    for encoder in encoding.text_encoders(pipe):
        encoder.to(device)
    probe = _probe(pipe, cfg.resolution, device)
    trained = _unet_output(pipe, probe, cfg.resolution, device)
    models = lora.adapted_models(pipe, cfg)
    for name, model in models.items():
        # diffusers models call it delete_adapters, transformers models delete_adapter
        model.delete_adapters("default") if name == "unet" else model.delete_adapter("default")
    base = _unet_output(pipe, probe, cfg.resolution, device)
    effect = (trained - base).abs().max().item()
    if effect == 0:
        raise TrainingError(
            "the trained LoRA does not change the model: raise the learning rate or the steps"
        )
    # fp32 reloads agree to rounding; in bf16 allow a few percent of the LoRA's own effect.
    tolerance = 1e-4 if str(device) == "cpu" else 0.05 * effect + 1e-3

    # diffusers drops a kohya file's dora_scale (ComfyUI and A1111 read it): DoRA checks its own format
    for path in (diffusers_path,) if cfg.network == "dora" else (diffusers_path, kohya_path):
        pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name="check")
        try:
            pipe.set_adapters(["check"], adapter_weights=[1.0])
            full = _unet_output(pipe, probe, cfg.resolution, device)
            pipe.set_adapters(["check"], adapter_weights=[0.0])
            zero = _unet_output(pipe, probe, cfg.resolution, device)
        finally:
            pipe.delete_adapters(["check"])
        error = (full - trained).abs().max().item()
        if error > tolerance:
            raise TrainingError(
                f"the exported {path.name} reloads differently from the trained LoRA (max error {error:.2g})"
            )
        # DoRA's learned magnitudes stay at strength 0 (it scales only the direction): no identity there
        if cfg.network != "dora" and not torch.equal(zero, base):
            raise TrainingError(f"{path.name} at strength 0 does not give the base model")
    unresolved = export.unresolved_kohya_keys(kohya_path, pipe)
    if unresolved:
        raise TrainingError(f"{kohya_path.name} has keys webui loaders cannot place, e.g. {unresolved[0]}")
    encoding.free_encoders(pipe)
