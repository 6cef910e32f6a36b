"""Presets by GPU memory: valid settings, the order in which flags override them, clear errors,
and peak memory only from a measured GPU run."""

import dataclasses
import json

import pytest
from click.testing import CliRunner

from app.trainer import presets
from app.trainer.cli import train
from app.trainer.config import TrainConfig, validate
from app.trainer.errors import TrainingError

BASE = TrainConfig(trigger="sks", class_word="woman")


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_every_preset_is_a_valid_config_with_a_description(name):
    preset = presets.get(name)
    cfg = presets.apply(dataclasses.replace(BASE, preset=name), given=())
    validate(cfg)
    assert {k: getattr(cfg, k) for k in preset.values} == preset.values
    assert cfg.preset == name and len(preset.description) > 20


def test_the_12_gb_preset_trades_speed_for_memory():
    cfg = presets.apply(dataclasses.replace(BASE, preset="SDXL face, 12 GB"), given=())
    assert cfg.gradient_checkpointing and cfg.vae_tiling
    assert cfg.optimizer == "adamw8bit" and cfg.batch_size == 1 and cfg.resolution == 1024
    roomy = presets.apply(dataclasses.replace(BASE, preset="SDXL face, 24 GB"), given=())
    assert not roomy.gradient_checkpointing and roomy.batch_size > cfg.batch_size


def test_given_settings_win_over_the_preset():
    flags = dataclasses.replace(BASE, preset="Demo (CPU)", rank=8, alpha=8.0, learning_rate=5e-4)
    cfg = presets.apply(flags, given={"rank", "learning_rate"})
    assert (cfg.rank, cfg.alpha, cfg.learning_rate) == (8, 8.0, 5e-4)  # alpha follows the given rank
    assert cfg.resolution == 128 and cfg.max_steps == 12  # the rest from the preset


def test_steps_or_epochs_given_keep_both_from_the_preset():
    cfg = presets.apply(dataclasses.replace(BASE, preset="Demo (CPU)", epochs=3), given={"epochs"})
    assert (cfg.epochs, cfg.max_steps) == (3, None)
    assert presets.unset_values("Demo (CPU)", {"max_steps"}).keys().isdisjoint({"epochs", "max_steps"})


def test_no_preset_changes_nothing():
    assert presets.apply(BASE, given=()) == BASE


def test_an_unknown_preset_or_another_family_is_a_clear_error():
    with pytest.raises(TrainingError, match="unknown preset 'SDXL 6 GB': use one of 'SDXL face, 24 GB'"):
        presets.get("SDXL 6 GB")
    with pytest.raises(TrainingError, match="is for sd15 bases; this base is sdxl"):
        presets.apply(dataclasses.replace(BASE, preset="SD 1.5 face, 8 GB"), given=(), family="sdxl")


def test_the_cli_refuses_an_unknown_preset_with_exit_2(tmp_path):
    (tmp_path / "photos").mkdir()
    args = ["photos", "--trigger", "sks", "--class-word", "woman", "--out", "out", "--preset", "SDXL 6 GB"]
    with CliRunner().isolated_filesystem(temp_dir=tmp_path):
        result = CliRunner().invoke(train, args)
    assert result.exit_code == 2
    assert "'SDXL 6 GB' is not one of 'SDXL face, 24 GB', 'SDXL face, 12 GB'" in result.output


def _write(folder, name, device, figures):
    folder.mkdir(exist_ok=True)
    data = {"device": device, "device_name": "NVIDIA H100" if device == "cuda" else "cpu", "presets": figures}
    (folder / name).write_text(json.dumps(data))


def test_peak_memory_comes_only_from_a_measured_gpu_run(tmp_path):
    name = "SDXL face, 12 GB"
    assert presets.peak_memory_text(name, tmp_path / "none") == presets.NOT_MEASURED
    _write(tmp_path, "2026-12-01-cpu-abc.json", "cpu", {name: {"peak_memory_gib": 1.5}})
    assert (
        presets.peak_memory_text(name, tmp_path) == presets.NOT_MEASURED
    )  # a CPU figure says nothing of a GPU
    _write(
        tmp_path / "presets", "2026-12-02-nvidia-h100-abc.json", "cuda", {name: {"peak_memory_gib": 11.25}}
    )
    _write(
        tmp_path, "2026-12-03-nvidia-h100-def.json", "cuda", {"SDXL face, 24 GB": {"peak_memory_gib": 19.0}}
    )
    assert (
        presets.peak_memory_text(name, tmp_path)
        == "11.2 GiB peak on NVIDIA H100 (2026-12-02-nvidia-h100-abc.json)"
    )
    shown = {p["name"]: p for p in presets.catalogue(tmp_path)}
    assert shown["SDXL face, 24 GB"]["peak_memory_gib"] == 19.0
    assert (
        shown["Demo (CPU)"]["peak_memory"] == presets.NOT_MEASURED
        and shown["Demo (CPU)"]["peak_memory_gib"] is None
    )


def test_the_shipped_results_give_a_figure_or_say_not_measured():
    for entry in presets.catalogue():
        assert entry["peak_memory"] == presets.NOT_MEASURED or "GiB peak on" in entry["peak_memory"]
