"""`loraface train` from the command line: bad input ends with one line and exit code 2 and
leaves nothing behind; a real run on four photos writes every output the contract lists."""

import json
import os

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.integration.trainer.conftest import write_photos


@pytest.fixture
def run(monkeypatch, model_cache):
    """Invoke `loraface ...` in-process with the data dir holding the shared tiny-model cache."""
    from app.config import get_settings

    data_dir = model_cache.parent / "cli-data"
    (data_dir).mkdir(exist_ok=True)
    if not (data_dir / "cache").exists():
        (data_dir / "cache").symlink_to(model_cache)
    monkeypatch.setenv("LORAFACE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("LORAFACE_BASE_MODEL", raising=False)
    get_settings.cache_clear()

    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    yield invoke
    get_settings.cache_clear()


def _one_line_error(result, *words):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def photos(tmp_path):
    return write_photos(tmp_path / "photos", size=96)


def test_missing_base_model(run, photos, tmp_path):
    out = tmp_path / "out"
    result = run(
        "train",
        photos,
        "--trigger",
        "sks",
        "--class-word",
        "woman",
        "--out",
        out,
        "--base",
        tmp_path / "no-such-model",
    )
    _one_line_error(result, "base model not found")
    assert not out.exists()


def test_a_file_that_is_not_a_model(run, photos, tmp_path):
    out = tmp_path / "out"
    fake = tmp_path / "model.safetensors"
    fake.write_text("this is not a model")
    result = run("train", photos, "--trigger", "sks", "--class-word", "woman", "--out", out, "--base", fake)
    _one_line_error(result, "not a model")
    notes = tmp_path / "model.ckpt"
    notes.write_text("pickles are never opened")
    _one_line_error(
        run("train", photos, "--trigger", "sks", "--class-word", "woman", "--out", out, "--base", notes),
        "not a model",
    )
    assert not out.exists()


def test_a_folder_without_images(run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no photos here")
    (empty / "broken.jpg").write_bytes(b"not really a jpeg")
    out = tmp_path / "out"
    _one_line_error(
        run("train", empty, "--trigger", "sks", "--class-word", "woman", "--out", out), "no images"
    )
    _one_line_error(
        run("train", tmp_path / "missing", "--trigger", "sks", "--class-word", "woman", "--out", out),
        "not a folder",
    )
    assert not out.exists()


def test_an_out_dir_that_cannot_be_written(run, photos, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run("train", photos, "--trigger", "sks", "--class-word", "woman", "--out", blocker / "out")
    _one_line_error(result, "not writable")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("someone's files")
    _one_line_error(
        run("train", photos, "--trigger", "sks", "--class-word", "woman", "--out", busy), "not empty"
    )
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root may write anywhere; the not-a-folder case above covers root"
)
def test_a_read_only_out_dir(run, photos, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        _one_line_error(
            run("train", photos, "--trigger", "sks", "--class-word", "woman", "--out", locked / "out"),
            "not writable",
        )
    finally:
        locked.chmod(0o700)


@pytest.mark.slow
def test_train_writes_every_output(run, photos, tmp_path):
    out = tmp_path / "out"
    result = run(
        "train",
        photos,
        "--trigger",
        "sks",
        "--class-word",
        "woman",
        "--out",
        out,
        "--steps",
        "4",
        "--rank",
        "4",
        "--resolution",
        "64",
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert (out / "sks_woman.safetensors").exists() and (out / report["files"]["kohya"]).exists()
    assert (out / "diffusers" / "pytorch_lora_weights.safetensors").exists()
    assert report["steps"] == 4 and report["settings"]["rank"] == 4 and report["settings"]["alpha"] == 4.0
    assert report["family"] == "sdxl" and report["images"] == 4
    for rel in [
        *report["strength_samples"].values(),
        *(p for ps in report["epoch_samples"].values() for p in ps),
    ]:
        assert (out / rel).is_file()
    assert (
        report["scores"]["strength_effect"]["0.0"] == 0.0 and report["scores"]["strength_effect"]["1.0"] > 0
    )
    assert 0.5 <= report["recommended_strength"] <= 1.1  # the sweep tries 0.5 to 1.1
    assert "<lora:sks_woman:" in report["webui_prompt"]


@pytest.mark.slow
def test_train_text_encoder_writes_and_reloads_both_encoders(run, photos, tmp_path, model_cache):
    """`--train-text-encoder`: the kohya file holds lora_te1_/lora_te2_ keys and the diffusers file
    text_encoder./text_encoder_2. keys, each with the true alpha, and both files reload in diffusers
    to the same text embeddings, which differ from the base's."""
    import torch
    from safetensors import safe_open

    from app.trainer import encoding, export
    from tests.integration.trainer.conftest import fresh_pipe

    out = tmp_path / "out"
    result = run(
        *("train", photos, "--trigger", "sks", "--class-word", "woman", "--out", out),
        *("--steps", "4", "--rank", "4", "--alpha", "2", "--resolution", "64"),
        *("--train-text-encoder", "--text-encoder-lr", "5e-3"),
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["train_text_encoder"] is True and report["settings"]["text_encoder_lr"] == 5e-3
    kohya, diffusers_file = (
        out / report["files"]["kohya"],
        out / "diffusers" / "pytorch_lora_weights.safetensors",
    )
    with safe_open(str(kohya), "pt") as fh:
        kohya_keys = list(fh.keys())
        te_alphas = {
            float(fh.get_tensor(k)) for k in kohya_keys if k.startswith("lora_te") and k.endswith(".alpha")
        }
    assert any(k.startswith("lora_te1_text_model_encoder_layers_") for k in kohya_keys)
    assert any(k.startswith("lora_te2_text_model_encoder_layers_") for k in kohya_keys)
    assert te_alphas == {2.0}, "every text-encoder module carries the true alpha, not the rank"
    with safe_open(str(diffusers_file), "pt") as fh:
        diffusers_keys = list(fh.keys())
    assert any(k.startswith("text_encoder.") for k in diffusers_keys)
    assert any(k.startswith("text_encoder_2.") for k in diffusers_keys)
    assert export.read_metadata(kohya)["ss_network_train_unet_only"] == "False"

    def embeddings(path=None):
        pipe = fresh_pipe(model_cache)
        if path is not None:
            pipe.load_lora_weights(str(path.parent), weight_name=path.name)
        with torch.no_grad():
            return encoding.encode_ids(pipe, encoding.tokenize(pipe, "photo of sks woman"), "cpu")

    (base, _), (d_embeds, d_pooled), (k_embeds, k_pooled) = (
        embeddings(),
        embeddings(diffusers_file),
        embeddings(kohya),
    )
    assert (d_embeds - base).abs().max() > 1e-4, "the text encoder adapters change the embeddings"
    assert torch.allclose(d_embeds, k_embeds, atol=1e-5) and torch.allclose(d_pooled, k_pooled, atol=1e-5)
