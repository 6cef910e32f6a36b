"""`loraface train --family flux` on the tiny FLUX base (stored in fp8) writes the diffusers file,
samples and a report with "family": "flux" and why there is no kohya file; a FLUX transformer without its text encoders ends with one line
and exit code 2."""

import json

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.integration.trainer.conftest import write_photos


@pytest.fixture
def run(monkeypatch, model_cache):
    """Invoke `loraface ...` in-process with the data dir holding the shared tiny-model cache."""
    from app.config import get_settings

    data_dir = model_cache.parent / "cli-data"
    data_dir.mkdir(exist_ok=True)
    if not (data_dir / "cache").exists():
        (data_dir / "cache").symlink_to(model_cache)
    monkeypatch.setenv("LORAFACE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("LORAFACE_BASE_MODEL", raising=False)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(main, [str(a) for a in args])
    get_settings.cache_clear()


def test_flux_transformer_without_text_encoders_is_exit_2(run, model_cache, tmp_path):
    from safetensors.torch import load_file, save_file

    from app.trainer.flux.tiny import tiny_flux_path

    tiny = tiny_flux_path(model_cache)
    lone = tmp_path / "models" / "flux1-dev.safetensors"
    lone.parent.mkdir()
    save_file(load_file(str(tiny / "transformer" / "diffusion_pytorch_model.safetensors")), str(lone))
    photos, out = write_photos(tmp_path / "photos", size=96), tmp_path / "out"
    result = run("train", photos, "--trigger", "sks", "--class-word", "woman", "--out", out, "--base", lone)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "without its text encoders" in lines[0] and "text_encoder/" in lines[0]
    assert not out.exists()


@pytest.mark.slow
def test_train_family_flux_writes_the_diffusers_file_samples_and_report(run, tmp_path):
    photos, out = write_photos(tmp_path / "photos", size=96), tmp_path / "out"
    result = run(
        "train", photos, "--trigger", "sks", "--class-word", "woman", "--out", out,
        "--steps", "4", "--rank", "4", "--resolution", "64", "--lr", "1e-2", "--family", "flux", "--flux-mlp",
        "--base-precision", "fp8",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["family"] == "flux" and report["steps"] == 4
    assert report["files"] == {"kohya": None, "diffusers": "diffusers/pytorch_lora_weights.safetensors"}
    assert (
        "full-size" in report["kohya_note"]
    )  # the demo is not the full-size FLUX.1 kohya files are read for
    assert report["base_precision"] == "fp8" and report["settings"]["base_precision"] == "fp8"
    assert (out / report["files"]["diffusers"]).stat().st_size > 0
    for path in [*report["strength_samples"].values(), *sum(report["epoch_samples"].values(), [])]:
        assert (out / path).is_file()
    assert report["scores"]["strength_effect"]["0.0"] == 0.0  # strength 0 is the base image
    settings = json.loads((out / "train_config.json").read_text())
    assert settings["resolution"] == 64 and "proj_mlp" in settings["target_modules"]
