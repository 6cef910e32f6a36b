"""Two people in two browsers: a learner submits a LoRA, an art director asks for changes, the
learner resubmits another epoch, the art director approves, and the learner sees "approved"."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny_lora(tmp_path_factory, settings):
    """A 2-epoch tiny-base LoRA at 64 px, trained once for this module."""
    return factories.train_tiny_lora(tmp_path_factory.mktemp("review-e2e"), settings.data_dir / "cache")


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def _run_sweep(app, db, settings, model, owner) -> None:
    from app.evaluate import service as evaluate_service
    from app.evaluate.schemas import SweepIn
    from app.lab.worker import Worker

    evaluate_service.start_sweep(db=db, model=model, user=owner, data=SweepIn(epochs=2, strengths=[0.6, 1.0]))
    db.commit()
    Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu").run(exit_when_idle=True)


def _grade(reviewer, marks: dict[str, int]) -> None:
    for name, mark in marks.items():
        reviewer.get_by_test_id(f"{name}-{mark}").check()


def test_learner_and_art_director_go_two_rounds_to_approved(
    page, browser, live_server, app, db, settings, tiny_lora
):
    learner = factories.make_user(db, role="learner", display_name="Ada")
    director = factories.make_user(db, role="reviewer", display_name="Rosa")
    db.commit()
    model = factories.make_lora_model(db, settings.data_dir, learner, *tiny_lora, name="ada_face")
    _run_sweep(app, db, settings, model, learner)

    # The learner submits epoch 2 from the model page.
    _sign_in(page, learner.email)
    page.goto(f"/models/{model.id}")
    expect(
        page.get_by_text("Submit your First Face LoRA for a consistency check by our art directors")
    ).to_be_visible()
    page.get_by_test_id("submit-epoch").select_option("2")
    page.get_by_test_id("submit-note").fill("First try: epoch 2.")
    page.get_by_test_id("submit-review").click()
    page.wait_for_url("**/submissions/*")
    expect(page.get_by_test_id("submission-status").first).to_have_text("waiting")

    # The art director, in a browser of their own, claims it from the queue.
    context = browser.new_context(base_url=live_server, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15000)
    reviewer = context.new_page()
    _sign_in(reviewer, director.email)
    expect(reviewer.get_by_test_id("nav-review-count")).to_contain_text("1")
    reviewer.goto("/review")
    expect(reviewer.get_by_test_id("queue-row")).to_have_count(1)
    reviewer.get_by_test_id("claim").click()
    reviewer.wait_for_url("**/review/*")
    expect(reviewer.get_by_text("claimed by you")).to_be_visible()
    expect(reviewer.get_by_test_id("sweep-grid")).to_be_visible()
    expect(reviewer.get_by_test_id("crops").locator("img")).to_have_count(4)
    reviewer.wait_for_load_state("networkidle")
    loaded = "els => els.length > 0 && els.every(e => e.complete && e.naturalWidth > 0)"
    assert reviewer.eval_on_selector_all("[data-testid=sweep-row] img", loaded)
    shots = os.environ.get("LORAFACE_TEST_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        reviewer.screenshot(path=str(Path(shots) / "review-screen.png"), full_page=True)

    # A low mark without its comment is refused with a message; with it, changes are requested.
    _grade(reviewer, {"likeness": 3, "consistency": 2, "flexibility": 3, "image_quality": 4})
    reviewer.get_by_test_id("verdict-changes").check()
    reviewer.get_by_test_id("overall-comment").fill("The face drifts between scenes; try the earlier epoch.")
    reviewer.get_by_test_id("send-verdict").click()
    expect(reviewer.get_by_test_id("rubric-errors")).to_contain_text("got 2/5: say what is wrong")
    reviewer.get_by_test_id("comment-consistency").fill("In the night street the jaw changes shape.")
    reviewer.get_by_test_id("send-verdict").click()
    reviewer.wait_for_url("**/review")
    expect(reviewer.get_by_text("sent back with changes requested")).to_be_visible()

    # The learner sees the request and the comment, then resubmits epoch 1.
    page.goto(f"/models/{model.id}")
    expect(page.get_by_test_id("nav-verdicts")).to_contain_text("1")
    panel = page.get_by_test_id("review-panel")
    expect(panel.get_by_text("changes requested")).to_be_visible()
    expect(panel.get_by_text("try the earlier epoch")).to_be_visible()
    page.get_by_test_id("submit-epoch").select_option("1")
    page.get_by_test_id("submit-note").fill("Round two: the earlier epoch, as suggested.")
    page.get_by_test_id("submit-review").click()
    page.wait_for_url("**/submissions/*")
    expect(page.get_by_test_id("rounds").locator("li")).to_have_count(2)

    # The art director approves round two.
    reviewer.goto("/review")
    reviewer.get_by_test_id("claim").click()
    reviewer.wait_for_url("**/review/*")
    expect(reviewer.get_by_test_id("rounds").locator("li")).to_have_count(2)
    _grade(reviewer, {"likeness": 4, "consistency": 4, "flexibility": 4, "image_quality": 4})
    reviewer.get_by_test_id("verdict-approved").check()
    reviewer.get_by_test_id("overall-comment").fill("Consistent across scenes now. Well done.")
    reviewer.get_by_test_id("send-verdict").click()
    reviewer.wait_for_url("**/review")
    context.close()

    # The learner sees "approved" on the model page and on the course's node map.
    page.goto(f"/models/{model.id}")
    expect(page.get_by_test_id("model-verdict")).to_have_text("approved")
    page.goto("/submissions")
    expect(page.get_by_test_id("history-row")).to_have_count(2)
    expect(page.get_by_test_id("history-row").first).to_contain_text("approved")
    page.goto("/lessons")
    expect(page.locator("#node-8").get_by_text("Approved")).to_be_visible()
