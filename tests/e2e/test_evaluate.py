"""A learner opens their model, generates an image with htmx, runs a sweep and reads the grid,
the scores and the recommendation (tiny model, 64 px, 2 steps)."""

import pytest

from app.lab.worker import Worker
from tests import factories
from tests.integration.evaluate.conftest import model_cache, tiny_lora  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


@pytest.fixture
def sweep_runner(app, settings):
    """The worker the server starts (it runs sweeps too), here beside the test server."""
    runner = Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu", poll_seconds=0.2)
    runner.start_thread()
    yield runner
    runner.stop()


def test_learner_generates_then_runs_a_sweep_and_sees_grid_scores_and_recommendation(
    page,
    db,
    settings,
    tiny_lora,  # noqa: F811
    sweep_runner,
):
    learner = factories.make_user(db, email="ada@example.com")
    db.commit()
    model = factories.make_lora_model(db, settings.data_dir, learner, *tiny_lora)
    _sign_in(page, "ada@example.com")

    page.goto(f"/models/{model.id}")
    prompt = page.get_by_test_id("prompt")
    assert prompt.input_value().startswith("photo of sks woman, ")
    assert page.get_by_test_id("seed").input_value() == "123456"
    page.get_by_test_id("strength").fill("0.6")
    assert page.locator("[data-webui]").inner_text() == "<lora:sks_woman:0.6>"
    page.get_by_role("button", name="Re-roll").click()
    assert page.get_by_test_id("seed").input_value() != "123456"
    prompt.fill("photo of sks woman, reading in a library")
    page.get_by_test_id("epoch").select_option("2")
    page.get_by_test_id("generate").click()
    made = page.get_by_test_id("generation").first
    made.wait_for(timeout=60000)
    assert "strength 0.6" in made.inner_text() and "epoch 2" in made.inner_text()
    assert page.url.endswith(f"/models/{model.id}")  # swapped in by htmx, no reload

    page.locator("#sweep input[name=epochs]").fill("2")
    page.get_by_test_id("run-sweep").click()
    page.get_by_test_id("sweep-progress").wait_for(timeout=15000)
    recommendation = page.get_by_test_id("recommendation")
    recommendation.wait_for(timeout=240000)

    assert page.get_by_test_id("recommended-epoch").inner_text() in ("2", "3")
    assert page.get_by_test_id("recommended-strength").inner_text() in ("0.5", "0.7", "0.9", "1.1")
    # The demo base draws noise: the pick is the default one, and the page says so.
    assert "Epoch " in recommendation.inner_text() and "default pick" in recommendation.inner_text()
    grid = page.get_by_test_id("sweep-grid")
    assert grid.is_visible()
    assert grid.evaluate("img => img.complete && img.naturalWidth > 300")
    table = page.get_by_test_id("sweep-scores")
    assert table.locator("tbody tr").count() == 2
    assert table.locator(".badge.score").count() == 2 * 4 * 4  # epochs x strengths x scores
    assert page.get_by_text("Likeness").first.is_visible()
    # The model's own summary (the lab's part of the page) shows it after a reload.
    page.reload()
    assert "Recommended: epoch" in page.get_by_test_id("model-recommendation").inner_text()
