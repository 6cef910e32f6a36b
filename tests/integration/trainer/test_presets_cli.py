"""`loraface train --preset`: the preset fills what the flags leave unset, it is recorded in
report.json and the kohya file's metadata, and the prior's class images show their time."""

import json

import pytest
from safetensors import safe_open

from tests.integration.trainer.conftest import write_photos
from tests.integration.trainer.test_cli import run  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


def test_a_preset_under_explicit_flags_is_recorded_everywhere(run, tmp_path):  # noqa: F811
    photos, out = write_photos(tmp_path / "photos", size=96), tmp_path / "out"
    result = run(
        "train", photos, "--trigger", "sks", "--class-word", "woman", "--out", out,
        "--preset", "Demo (CPU)", "--steps", 3, "--rank", 8, "--resolution", 64, "--prior-images", 1,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    settings = report["settings"]
    assert settings["preset"] == "Demo (CPU)"
    # the flags given win; alpha follows the given rank; the rest is the preset's
    assert (settings["max_steps"], settings["rank"], settings["alpha"], settings["resolution"]) == (
        3,
        8,
        8.0,
        64,
    )
    assert (settings["learning_rate"], settings["sample_steps"]) == (1e-3, 8)
    assert settings["prior_images"] == 1 and report["steps"] == 3
    assert '1 class image of "photo of a woman" ready in' in report["phases"]["prior images"]
    assert "ready in" in result.output and "preset 'Demo (CPU)'" in result.output
    with safe_open(str(out / report["files"]["kohya"]), "pt") as f:
        assert f.metadata()["loraface.preset"] == "Demo (CPU)"


def test_a_preset_for_another_family_ends_with_exit_2_and_writes_nothing(run, tmp_path):  # noqa: F811
    photos, out = write_photos(tmp_path / "photos", size=96), tmp_path / "out"
    result = run(
        "train", photos, "--trigger", "sks", "--class-word", "woman", "--out", out,
        "--preset", "SD 1.5 face, 8 GB",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "error: the preset 'SD 1.5 face, 8 GB' is for sd15 bases; this base is sdxl" in result.stderr
    assert not out.exists()
