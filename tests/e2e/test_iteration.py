"""In a real browser, the R&D loop: train, watch the evaluation arrive on the model page without
a click, "Train again with changes" from the pre-filled form, then compare both runs: two loss
curves and the learning rate marked as the setting that differs.

With LORAFACE_TEST_SHOTS=<folder>, screenshots at 1280 and 390 px of the model page, the compare
page, the dataset report and the consent form are written there."""

import os
import re
from pathlib import Path

import pytest

from app.lab import after_run
from app.lab.worker import Worker
from tests import factories
from tests.e2e.test_lab import _fill_tiny_settings, _sign_in, learner_with_dataset  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SHOTS = os.environ.get("LORAFACE_TEST_SHOTS")


@pytest.fixture
def background(app, settings):
    """The server's worker: training runs (with the evaluation hook) and the sweeps they queue."""
    worker = Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu", report_seconds=0.2,
                    poll_seconds=0.2, after_job=after_run.after_job_hook(settings))  # fmt: skip
    worker.start_thread()
    yield
    worker.stop()


def _shoot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _train_and_open_model(page) -> str:
    page.get_by_test_id("start-training").click()
    page.wait_for_url(re.compile(r".*/lab/jobs/\d+$"))
    page.get_by_test_id("open-model").wait_for(timeout=300_000)
    assert "Your job is in the queue" not in page.content()
    page.get_by_test_id("open-model").click()
    page.wait_for_url(re.compile(r".*/models/\d+$"))
    return page.url.rsplit("/", 1)[1]


def test_train_evaluate_train_again_and_compare(page, learner_with_dataset, background):  # noqa: F811
    _sign_in(page, learner_with_dataset)
    page.goto("/lab")
    _fill_tiny_settings(page, epochs="1")
    first = _train_and_open_model(page)

    # The evaluation fills in by itself: progress first, then the recommendation and scores.
    page.get_by_test_id("model-recommendation").wait_for(timeout=300_000)
    evaluation = page.get_by_test_id("evaluation")
    assert "not measurable" in evaluation.inner_text()
    assert "draws no faces" in evaluation.inner_text()
    assert "noise by design" in page.get_by_test_id("demo-note").first.inner_text()
    _shoot(page, "model")

    page.get_by_test_id("train-again").click()
    page.wait_for_url(re.compile(r".*/lab\?based_on=\d+"))
    page.get_by_test_id("based-on").wait_for()
    assert page.get_by_label("Epochs", exact=True).input_value() == "1"  # pre-filled from the first job
    page.get_by_label("Learning rate").fill("0.0002")
    second = _train_and_open_model(page)
    assert second != first
    page.get_by_test_id("model-recommendation").wait_for(timeout=300_000)  # its own evaluation too

    page.goto(f"/models/compare?ids={first},{second}")
    assert page.get_by_test_id("compare-curve").count() == 2
    differs = page.get_by_test_id("differs")
    assert differs.count() == 1 and "Learning rate" in differs.inner_text()
    assert page.get_by_test_id("compare-cells").locator("img").count() == 2
    _shoot(page, "compare")

    page.goto("/me/work")
    assert page.get_by_test_id("mywork-models").get_by_role("link").count() == 2
    page.goto("/lab/datasets")
    page.get_by_role("link", name="My face").first.click()
    page.get_by_test_id("photo-retention").wait_for()
    _shoot(page, "dataset")


def test_consent_form_layout(page, db):
    user = factories.make_user(db, role="learner", consented=False)
    db.commit()
    _sign_in(page, user)
    page.goto("/lab/datasets")
    radio = page.locator("input[name=keep_photos]").first
    text = page.locator("[data-testid=retention-choice] label.choice span").first
    # The radio sits beside its words, on the same line, not centred above them.
    r, t = radio.bounding_box(), text.bounding_box()
    assert r["x"] + r["width"] <= t["x"] and abs(r["y"] - t["y"]) < t["height"]
    _shoot(page, "consent")
