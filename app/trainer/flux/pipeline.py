"""A whole FLUX.1 training run on prepared images, called by app.trainer.pipeline.run_training
when the base is FLUX.1: encode once -> train (export + sample at each saved epoch) -> final
file -> verify: reload the exported file with FluxPipeline.load_lora_weights and compare the
transformer at strength 0 and 1 with the base and the trained adapter."""

import dataclasses
import gc
import json
from collections.abc import Callable
from pathlib import Path

from app.trainer import config, errors, export, faults, precision, sampling
from app.trainer.config import TrainConfig
from app.trainer.errors import TrainingError
from app.trainer.flux import encoding, kohya_export, loop
from app.trainer.flux import export as flux_export
from app.trainer.loop import EpochResult
from app.trainer.outputs import TrainingOutcome, copy_atomic, epoch_dir, kohya_name, saved_epochs


def run_flux_training(
    *,
    cfg: TrainConfig,
    pipe,
    images: list,
    out_dir: Path,
    device: str,
    on_progress: Callable,
    on_epoch: Callable,
    should_cancel: Callable[[], bool],
    before_write: Callable[[], None],
    resume: bool,
) -> TrainingOutcome:
    """Encode, train, export every saved epoch with samples at a fixed seed, then verify the
    final file by reloading it. The kohya file is written (and checked) for the full-size FLUX.1
    transformer only; otherwise kohya_path is None and kohya_note says why."""
    import torch

    loop.validate_flux(cfg)
    note = kohya_export.kohya_note(pipe.transformer, cfg.network)
    captions = [im.caption for im in images]
    _, _, total_epochs = config.plan(cfg, len(images))
    examples = None
    try:
        examples = encoding.encode_examples(pipe, images, device, resolution=cfg.resolution)
        encoding.free_encoders(pipe)

        def on_epoch_end(epoch: int, step: int, loss: float) -> None:
            if epoch % cfg.save_every_epochs and epoch != total_epochs:
                return
            before_write()
            on_epoch(
                export_epoch(
                    pipe, cfg, out_dir, epoch, step, loss, len(images), captions, device, kohya=not note
                )
            )

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
        if note:
            epochs = [dataclasses.replace(e, kohya_path=None) for e in epochs]
        before_write()
        final = copy_atomic(epochs[-1].lora_path, out_dir / "diffusers" / export.DIFFUSERS_WEIGHT_NAME)
        faults.reach("final_export")
        final_kohya = (
            None if note else copy_atomic(epochs[-1].kohya_path, out_dir / f"{cfg.name}.safetensors")
        )
        verify_export(pipe, cfg, final, device)
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
        lora_path=final,
        kohya_path=final_kohya,
        kohya_note=note,
        epochs=epochs,
        steps=result.steps,
        final_loss=result.final_loss,
        config=cfg,
        family="flux",
        losses=result.losses,
    )


def export_epoch(
    pipe, cfg, out_dir, epoch, step, loss, num_images, captions, device, *, kohya: bool = False
) -> EpochResult:
    """Write one epoch's LoRA (and with `kohya` its kohya FLUX.1 file, checked by reading it back)
    and its samples at the fixed seed; epoch.json marks it complete."""
    import torch
    from safetensors.torch import load_file, save_file

    folder = epoch_dir(out_dir, epoch)
    lora_path = flux_export.save_diffusers(pipe.transformer, folder)
    # the run's settings travel in the file, as in the SDXL exports (diffusers keeps its own keys)
    ours = {
        "loraface.train_config": cfg.to_json(),
        "loraface.family": "flux",
        "loraface.base_precision": precision.effective(cfg.base_precision, device),
        "modelspec.trigger_phrase": cfg.instance_prompt,
        "ss_steps": str(step),
        "ss_num_train_images": str(num_images * cfg.repeats),
    }
    tmp = lora_path.with_name(lora_path.name + ".tmp")
    save_file(load_file(str(lora_path)), str(tmp), metadata=export.read_metadata(lora_path) | ours)
    tmp.replace(lora_path)  # atomic: a reader never sees half a file
    kohya_path = None
    if kohya:
        from peft.utils import get_peft_model_state_dict

        kohya_path = kohya_export.write_kohya(
            get_peft_model_state_dict(pipe.transformer),
            pipe.transformer,
            folder / kohya_name(cfg, epoch),
            rank=cfg.rank,
            alpha=cfg.alpha,
            metadata=kohya_metadata(pipe.transformer, cfg, step, epoch, num_images, captions) | ours,
        )
    faults.reach("exporting_epoch")

    # Samples with the adapter as trained (strength 1), on the run's seed, so epochs compare fairly.
    encoding.encoders_to(pipe, device)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")), torch.no_grad():
        images = sampling.run_pipe(
            pipe,
            prompts=cfg.prompts_for_samples(),
            seed=cfg.seed,
            steps=cfg.sample_steps,
            resolution=cfg.resolution,
        )
    encoding.free_encoders(pipe)
    paths = []
    for i, image in enumerate(images):
        path = out_dir / "samples" / f"epoch_{epoch:03d}_{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path)
        paths.append(path)
    (folder / "epoch.json").write_text(
        json.dumps(
            {
                "epoch": epoch,
                "step": step,
                "loss": loss,
                "samples": [str(p.relative_to(out_dir)) for p in paths],
            }
        )
    )
    return EpochResult(
        epoch=epoch, step=step, lora_path=lora_path, kohya_path=kohya_path, sample_paths=paths, loss=loss
    )


def kohya_metadata(transformer, cfg, step, epoch, num_images, captions) -> dict[str, str]:
    """The SDXL files' ss_*/modelspec keys, with FLUX.1's base version and architecture names."""
    variant = "dev" if transformer.config.guidance_embeds else "schnell"
    return export.training_metadata(
        cfg=cfg, family="flux", steps=step, epochs=epoch, num_images=num_images, captions=captions
    ) | {
        "ss_base_model_version": f"flux1-{variant}",
        "modelspec.architecture": f"flux-1-{variant}/lora",
    }


def transformer_output(pipe, cfg: TrainConfig, device):
    """The transformer's velocity on one fixed noisy latent, noise level and prompt."""
    import torch

    g = torch.Generator().manual_seed(0)
    size = cfg.resolution // pipe.vae_scale_factor
    latents = torch.randn(1, 16, size, size, generator=g).to(device)
    embeds, pooled, text_ids = encoding.encode_prompt(pipe, "photo of a person", device)
    with (
        torch.no_grad(),
        torch.autocast("cuda", dtype=torch.bfloat16, enabled=str(device).startswith("cuda")),
    ):
        return (
            pipe.transformer(
                hidden_states=loop.pack(pipe, latents),
                timestep=torch.tensor([0.6], device=device),
                guidance=loop.guidance_input(pipe.transformer, 1, device),
                pooled_projections=pooled,
                encoder_hidden_states=embeds,
                txt_ids=text_ids,
                img_ids=loop.image_ids(pipe, latents),
                return_dict=False,
            )[0]
            .float()
            .cpu()
        )


def verify_export(pipe, cfg: TrainConfig, path: Path, device) -> None:
    """Reload the exported file the way users do and check it reproduces the trained adapter,
    that strength 0 is the base exactly, and that every key lands in the transformer. The
    training adapter is removed from `pipe` afterwards."""
    import torch

    encoding.encoders_to(pipe, device)
    trained = transformer_output(pipe, cfg, device)
    if cfg.base_precision == "fp8":
        _check_same_tensors(pipe.transformer, path)
    pipe.transformer.delete_adapters("default")
    base = transformer_output(pipe, cfg, device)
    effect = (trained - base).abs().max().item()
    if effect == 0:
        raise TrainingError(
            "the trained LoRA does not change the model: raise the learning rate or the steps"
        )
    if cfg.base_precision == "fp8":
        # peft gives an adapter loaded into a layer the dtype of that layer's weight, so a reload
        # into this fp8 base would round the file's float32 tensors to fp8 (users reload it into
        # their own bf16 base): the file was compared with the adapter tensor by tensor instead.
        unresolved = flux_export.file_unresolved_keys(path, pipe.transformer)
        if unresolved:
            raise TrainingError(
                f"{path.name} has keys diffusers' FLUX loader cannot place, e.g. {unresolved[0]}"
            )
        encoding.free_encoders(pipe)
        return
    # fp32 reloads agree to rounding; in bf16 allow a few percent of the LoRA's own effect.
    tolerance = 1e-4 if str(device) == "cpu" else 0.05 * effect + 1e-3
    pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name="check")
    try:
        pipe.set_adapters(["check"], adapter_weights=[1.0])
        full = transformer_output(pipe, cfg, device)
        pipe.set_adapters(["check"], adapter_weights=[0.0])
        zero = transformer_output(pipe, cfg, device)
    finally:
        pipe.delete_adapters(["check"])
    error = (full - trained).abs().max().item()
    if error > tolerance:
        raise TrainingError(
            f"the exported {path.name} reloads differently from the trained LoRA (max error {error:.2g})"
        )
    if not torch.equal(zero, base):
        raise TrainingError(f"{path.name} at strength 0 does not give the base model")
    unresolved = flux_export.file_unresolved_keys(path, pipe.transformer)
    if unresolved:
        raise TrainingError(f"{path.name} has keys diffusers' FLUX loader cannot place, e.g. {unresolved[0]}")
    encoding.free_encoders(pipe)


def _check_same_tensors(transformer, path: Path) -> None:
    """The exported file holds the trained adapter's tensors exactly (under `transformer.` names)."""
    import torch
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file

    saved = load_file(str(path))
    for key, value in get_peft_model_state_dict(transformer).items():
        stored = saved.get(f"transformer.{key}")
        if stored is None or not torch.equal(stored, value.detach().float().cpu()):
            raise TrainingError(f"the exported {path.name} does not hold the trained {key}")
