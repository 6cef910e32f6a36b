"""Train the tiny SDXL on real photos, export both formats, reload them the way users do."""

import json

import pytest

from app.trainer import export
from app.trainer.config import TrainConfig
from app.trainer.outputs import saved_epochs
from app.trainer.pipeline import run_training
from tests.integration.trainer.conftest import RES, fresh_pipe, unet_output

pytestmark = pytest.mark.slow

# alpha != rank on purpose: a loader that assumed alpha == rank would scale the LoRA wrong.
CFG = TrainConfig(
    trigger="sks",
    class_word="woman",
    resolution=RES,
    rank=4,
    alpha=2.0,
    epochs=2,
    learning_rate=1e-2,
    sample_steps=2,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, model_cache, face_images):
    """A finished run plus the UNet outputs of the adapter as trained, read before any export."""
    out = tmp_path_factory.mktemp("run")
    seen = {}

    def on_epoch(result):
        seen[result.epoch] = result

    outcome = run_training(
        cfg=CFG,
        images=face_images,
        out_dir=out,
        base_model=None,
        cache_dir=model_cache,
        device="cpu",
        on_epoch=on_epoch,
    )
    return outcome, out, seen


def _trained_unet(model_cache, outcome):
    """The base UNet with the adapter rebuilt in memory from the loop's own checkpoint (peft names)."""
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    from app.trainer.checkpoints import checkpoint_dir
    from app.trainer.lora import add_lora

    pipe = fresh_pipe(model_cache)
    add_lora(pipe.unet, outcome.config)
    set_peft_model_state_dict(
        pipe.unet, load_file(checkpoint_dir(outcome.lora_path.parent.parent) / "unet.safetensors")
    )
    return pipe


def test_training_writes_every_output(trained):
    outcome, out, seen = trained
    assert outcome.steps == 8 and len(outcome.losses) == 8
    assert [e.epoch for e in outcome.epochs] == [1, 2] and sorted(seen) == [1, 2]
    assert outcome.kohya_path == out / "face_lora.safetensors" and outcome.kohya_path.exists()
    assert (
        outcome.lora_path == out / "diffusers" / "pytorch_lora_weights.safetensors"
        and outcome.lora_path.exists()
    )
    for epoch in outcome.epochs:
        assert epoch.lora_path.exists() and epoch.kohya_path.exists()
        assert all(p.exists() and p.stat().st_size > 0 for p in epoch.sample_paths)
    assert TrainConfig.from_dict(json.loads((out / "train_config.json").read_text())) == CFG


def test_reloaded_diffusers_file_changes_the_unet_exactly_as_trained(trained, model_cache):
    import torch

    outcome, _, _ = trained
    base_out = unet_output(fresh_pipe(model_cache))
    trained_out = unet_output(_trained_unet(model_cache, outcome))
    assert (trained_out - base_out).abs().max() > 1e-3, "the LoRA should change the UNet output"

    pipe = fresh_pipe(model_cache)
    pipe.load_lora_weights(
        str(outcome.lora_path.parent), weight_name=outcome.lora_path.name, adapter_name="face"
    )
    pipe.set_adapters(["face"], adapter_weights=[1.0])
    assert torch.allclose(unet_output(pipe), trained_out, atol=1e-5)
    pipe.set_adapters(["face"], adapter_weights=[0.0])
    assert torch.equal(unet_output(pipe), base_out), "strength 0 is the base model"
    # Strength scales the update linearly: half strength lands half way (to first order, exactly here).
    pipe.set_adapters(["face"], adapter_weights=[0.5])
    half = unet_output(pipe)
    assert (half - base_out).abs().max() < (trained_out - base_out).abs().max()


def test_kohya_file_carries_true_alpha_metadata_and_matches_through_diffusers_converter(trained, model_cache):
    import torch
    from safetensors.torch import load_file

    outcome, _, _ = trained
    meta = export.read_metadata(outcome.kohya_path)
    assert meta["ss_network_dim"] == "4" and meta["ss_network_alpha"] == "2.0"
    assert meta["ss_base_model_version"] == "sdxl_base_v1-0" and meta["ss_trigger_word"] == "sks"
    assert (
        meta["ss_num_epochs"] == "2"
        and meta["ss_steps"] == "8"
        and meta["ss_resolution"] == f"({RES}, {RES})"
    )
    assert meta["ss_output_name"] == "face_lora" and "sks woman" in meta["ss_tag_frequency"]
    assert meta["modelspec.architecture"] == "stable-diffusion-xl-v1-base/lora"
    tensors = load_file(outcome.kohya_path)
    assert {v.item() for k, v in tensors.items() if k.endswith(".alpha")} == {2.0}, (
        "the true alpha, not the rank"
    )

    pipe = fresh_pipe(model_cache)
    assert export.unresolved_kohya_keys(outcome.kohya_path, pipe) == []
    pipe.load_lora_weights(str(outcome.kohya_path.parent), weight_name=outcome.kohya_path.name)
    trained_out = unet_output(_trained_unet(model_cache, outcome))
    assert torch.allclose(unet_output(pipe), trained_out, atol=1e-5)


def test_sampling_at_strength_zero_is_the_base_model(trained, model_cache):
    import numpy as np

    from app.trainer import sampling

    outcome, _, _ = trained
    kwargs = {
        "base_model": None,
        "cache_dir": model_cache,
        "prompts": ["photo of sks woman"],
        "seed": 7,
        "steps": 2,
        "resolution": RES,
    }
    base = sampling.generate(lora_path=None, strength=1.0, **kwargs)[0]
    zero = sampling.generate(lora_path=outcome.lora_path, strength=0.0, **kwargs)[0]
    full = sampling.generate(lora_path=outcome.lora_path, strength=1.0, **kwargs)[0]
    assert np.array_equal(np.asarray(base), np.asarray(zero))
    assert not np.array_equal(np.asarray(base), np.asarray(full))
    sweep = sampling.strength_sweep(
        base_model=None,
        cache_dir=model_cache,
        lora_path=outcome.lora_path,
        prompt="photo of sks woman",
        strengths=[0.0, 1.0],
        seed=7,
        steps=2,
        resolution=RES,
    )
    assert np.array_equal(np.asarray(sweep[0][1]), np.asarray(base)) and np.array_equal(
        np.asarray(sweep[1][1]), np.asarray(full)
    )


def test_cancel_then_resume_gives_the_same_lora_as_an_uninterrupted_run(
    trained, tmp_path, model_cache, face_images
):
    """Determinism under a seed on CPU, and crash recovery: a run stopped in epoch 2 and resumed
    from the epoch-1 checkpoint ends bit-identical to the run that never stopped."""
    from safetensors.torch import load_file

    from app.trainer.errors import TrainingCancelled

    outcome, _, _ = trained
    steps_seen = []

    def stop_in_epoch_two() -> bool:
        return len(steps_seen) >= 6

    with pytest.raises(TrainingCancelled):
        run_training(
            cfg=CFG,
            images=face_images,
            out_dir=tmp_path,
            base_model=None,
            cache_dir=model_cache,
            device="cpu",
            on_progress=lambda p: steps_seen.append(p.step),
            should_cancel=stop_in_epoch_two,
        )
    assert [e.epoch for e in saved_epochs(tmp_path, CFG)] == [1]
    resumed_steps = []
    again = run_training(
        cfg=CFG,
        images=face_images,
        out_dir=tmp_path,
        base_model=None,
        cache_dir=model_cache,
        device="cpu",
        on_progress=lambda p: resumed_steps.append(p.step),
    )
    assert resumed_steps == [5, 6, 7, 8], "the resumed run starts after the last checkpoint"
    assert again.losses == outcome.losses
    first, second = load_file(outcome.lora_path), load_file(again.lora_path)
    assert first.keys() == second.keys() and all(first[k].equal(second[k]) for k in first)
    assert [e.epoch for e in again.epochs] == [1, 2]


def test_a_checkpoint_of_other_settings_is_refused(trained, model_cache, face_images):
    from app.trainer.errors import TrainingError

    _, out, _ = trained
    other = TrainConfig(**{**CFG.__dict__, "rank": 8})
    with pytest.raises(TrainingError, match="other settings"):
        run_training(
            cfg=other, images=face_images, out_dir=out, base_model=None, cache_dir=model_cache, device="cpu"
        )


def test_text_encoder_adapters_export_and_reload(tmp_path, model_cache, face_images):
    """With train_text_encoder the prompt goes through adapted encoders every step; both files
    carry those adapters and reload to the same text embeddings."""
    import torch
    from safetensors import safe_open

    from app.trainer import encoding

    cfg = TrainConfig(**{**CFG.__dict__, "train_text_encoder": True, "epochs": 1, "text_encoder_lr": 5e-3})
    outcome = run_training(
        cfg=cfg, images=face_images, out_dir=tmp_path, base_model=None, cache_dir=model_cache, device="cpu"
    )
    with safe_open(str(outcome.kohya_path), "pt") as fh:
        keys = list(fh.keys())
    assert any(k.startswith("lora_te1_text_model_encoder_layers_0_self_attn_q_proj") for k in keys)
    assert any(k.startswith("lora_te2_text_model_encoder_layers_1_self_attn_out_proj") for k in keys)
    assert export.read_metadata(outcome.kohya_path)["ss_network_train_unet_only"] == "False"

    def embeddings(pipe):
        with torch.no_grad():
            return encoding.encode_ids(pipe, encoding.tokenize(pipe, "photo of sks woman"), "cpu")

    base, _ = embeddings(fresh_pipe(model_cache))
    reloaded = []
    for path in (outcome.lora_path, outcome.kohya_path):
        pipe = fresh_pipe(model_cache)
        pipe.load_lora_weights(str(path.parent), weight_name=path.name)
        reloaded.append(embeddings(pipe))
    (d_embeds, d_pooled), (k_embeds, k_pooled) = reloaded
    assert (d_embeds - base).abs().max() > 1e-4, "the text encoder adapters change the embeddings"
    assert torch.allclose(d_embeds, k_embeds, atol=1e-5) and torch.allclose(d_pooled, k_pooled, atol=1e-5)


def test_an_epoch_interrupted_after_its_checkpoint_is_still_handed_over_on_resume(
    tmp_path, model_cache, face_images
):
    """Killed after the last checkpoint but before the epoch's export was reported: the resumed run
    reports that epoch (from the checkpoint's weights) instead of skipping it."""
    cfg = TrainConfig(**{**CFG.__dict__, "epochs": 1, "sample_steps": 1})
    reported = []

    def crash_on_report(result):
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError, match="worker killed"):
        run_training(
            cfg=cfg,
            images=face_images,
            out_dir=tmp_path,
            base_model=None,
            cache_dir=model_cache,
            device="cpu",
            on_epoch=crash_on_report,
        )
    progress = []
    outcome = run_training(
        cfg=cfg,
        images=face_images,
        out_dir=tmp_path,
        base_model=None,
        cache_dir=model_cache,
        device="cpu",
        on_epoch=reported.append,
        on_progress=progress.append,
    )
    assert progress == [], "no step is trained twice"
    assert [r.epoch for r in reported] == [1] and outcome.steps == 4 and outcome.lora_path.exists()
