"""The sweep on a real (tiny) LoRA: every cell generated and scored, one grid, a recommendation."""

import json

import numpy as np
import pytest
from PIL import Image

from app.trainer import sampling, sweep, sweep_result, sweep_scores
from tests.integration.evaluate.conftest import RES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def swept(tiny_lora, model_cache, tmp_path_factory):
    outcome, crops = tiny_lora
    pipe = sampling.cached_pipeline(None, model_cache, "cpu")
    seen = []
    out = tmp_path_factory.mktemp("sweep")
    result = sweep.run_sweep(
        pipe=pipe,
        epoch_loras={e.epoch: e.lora_path for e in outcome.epochs},
        training_images=crops,
        prompts=sweep.sweep_prompts("sks", "woman", 2),
        out_dir=out,
        strengths=(0.5, 1.1),
        seed=123456,
        steps=2,
        resolution=RES,
        on_progress=lambda done, total: seen.append((done, total)),
        name="sks_woman",
    )
    return result, out, seen


def test_every_cell_is_generated_and_scored(swept):
    result, out, _ = swept
    assert result.epochs == [1, 2, 3] and result.strengths == [0.5, 1.1]
    assert len(result.cells) == 6
    for cell in result.cells:
        assert set(cell.scores) == set(sweep_scores.SCORE_NAMES)
        assert all((out / name).is_file() for name in cell.images) and len(cell.images) == 2
        for score in cell.scores.values():
            assert score.band in ("good", "warn", "bad", "unknown") and score.sentence
    assert set(result.per_epoch) == {1, 2, 3}


def test_progress_counts_every_image(swept):
    _, _, seen = swept
    assert seen[-1] == (14, 14)  # (base + 3 epochs x 2 strengths) x 2 prompts
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_the_grid_is_one_labelled_image_with_a_row_per_epoch(swept):
    result, out, _ = swept
    with Image.open(out / result.grid) as grid:
        assert (
            grid.width > 2 * 2 * RES and grid.height > 4 * RES
        )  # base row + 3 epochs, 2 strengths x 2 prompts
        assert len(np.unique(np.asarray(grid.convert("L")))) > 20  # images and text, not a blank canvas


def test_the_recommendation_names_a_swept_cell_and_explains_it(swept):
    result, _, _ = swept
    rec = result.recommendation
    assert rec.epoch in result.epochs and rec.strength in result.strengths
    assert rec.reasoning.startswith(f"Epoch {rec.epoch} at {rec.strength:g}:")
    assert "<lora:sks_woman:" in rec.reasoning
    # Tiny-model images hold no face the detector can find: likeness says so instead of guessing.
    best = result.cell(rec.epoch, rec.strength)
    assert best.scores["likeness"].details["faces_found"] == 0


def test_the_result_round_trips_through_json(swept):
    result, out, _ = swept
    saved = json.loads((out / "sweep.json").read_text())
    again = sweep_result.SweepResult.from_dict(saved)
    assert again.recommendation == result.recommendation
    assert [c.scores["deep_fried"].value for c in again.cells] == [
        c.scores["deep_fried"].value for c in result.cells
    ]
    assert set(saved["scores"]) == set(sweep_scores.SCORE_NAMES)
