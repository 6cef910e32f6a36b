"""In a real browser: start training, watch the step counter and an epoch sample appear,
then cancel a second job and see it cancelled within 2 s."""

import re

import pytest

from app.datasets import service as datasets_service
from app.lab.worker import Worker
from tests import factories
from tests.integration.lab.conftest import pass_lessons
from tests.photos import write_face_set

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def learner_with_dataset(db, settings, tmp_path):
    user = factories.make_user(db, role="learner")
    db.commit()
    pass_lessons(db, user)
    files = [(p.name, p.read_bytes()) for p in write_face_set(tmp_path / "photos", size=512)]
    datasets_service.create_dataset(
        db=db, settings=settings, user_id=user.id, files=files, name="My face", base="sd15"
    )
    db.commit()
    return user


@pytest.fixture
def worker(app, settings):
    w = Worker(
        sessions=app.state.sessionmaker, settings=settings, device="cpu", report_seconds=0.2, poll_seconds=0.2
    )
    w.start_thread()
    yield w
    w.stop()


def _sign_in(page, user):
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def _fill_tiny_settings(page, epochs: str):
    page.get_by_label("Epochs", exact=True).fill(epochs)
    page.get_by_label("Repeats", exact=True).fill("1")
    page.get_by_label("Rank", exact=True).fill("4")
    page.get_by_label("Alpha", exact=True).fill("4")
    page.get_by_label("Resolution (px)").fill("64")
    page.get_by_label("Sample steps").fill("2")


def test_train_watch_and_cancel(page, learner_with_dataset, worker):
    _sign_in(page, learner_with_dataset)
    page.goto("/lab")
    _fill_tiny_settings(page, epochs="8")
    # The steps arithmetic follows the form as the learner types (4 photos x 1 x 8 / 1).
    page.get_by_label("Epochs", exact=True).fill("8")
    plan = page.get_by_test_id("plan")
    plan.filter(has_text="= 32 steps").wait_for()
    page.get_by_label("Repeats", exact=True).fill("2")
    plan.filter(has_text="= 64 steps").wait_for()
    page.get_by_label("Repeats", exact=True).fill("1")
    plan.filter(has_text="= 32 steps").wait_for()
    # Long enough (200 steps) to be still running when the learner comes back to cancel it.
    page.get_by_label("Epochs", exact=True).fill("50")
    plan.filter(has_text="= 200 steps").wait_for()

    page.get_by_test_id("start-training").click()
    page.wait_for_url(re.compile(r".*/lab/jobs/\d+$"))
    first_url = page.url
    step = page.get_by_test_id("step")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=step]').textContent) > 0", timeout=120_000
    )
    first_seen = int(step.inner_text())
    page.locator("[data-testid=epoch-samples] img").first.wait_for(timeout=120_000)
    # The picture itself arrives (a real PNG from the job's folder), not just its tag.
    page.wait_for_function(
        "() => { const img = document.querySelector('[data-testid=epoch-samples] img');"
        " return img && img.complete && img.naturalWidth > 0; }",
        timeout=30_000,
    )
    # The counter moves on by itself (htmx polling); on a busy machine it may take a few polls.
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-testid=step]').textContent) > {first_seen}",
        timeout=120_000,
    )
    assert page.get_by_test_id("job-status").inner_text() == "running"

    # A second job waits behind the first (one running job per learner); cancel it.
    page.goto("/lab")
    _fill_tiny_settings(page, epochs="2")
    page.get_by_test_id("start-training").click()
    page.wait_for_url(re.compile(r".*/lab/jobs/\d+$"))
    assert page.url != first_url
    page.get_by_test_id("queue-position").wait_for()
    page.get_by_test_id("cancel-job").click()
    page.get_by_test_id("job-status").filter(has_text="cancelled").wait_for(timeout=2000)

    # Stop the first one too, through its page.
    page.goto(first_url)
    page.get_by_test_id("cancel-job").click()
    page.get_by_test_id("job-status").filter(has_text="cancelled").wait_for(timeout=60_000)


def test_train_a_flux_lora_from_the_form(page, learner_with_dataset, worker):
    """FLUX.1 chosen in the form trains on the tiny FLUX.1 demo; its model page offers the
    diffusers file and says in words why there is no kohya file."""
    _sign_in(page, learner_with_dataset)
    page.goto("/lab")
    _fill_tiny_settings(page, epochs="1")
    page.get_by_test_id("family").select_option("flux")
    page.get_by_test_id("flux-mlp").check()
    page.get_by_test_id("start-training").click()
    page.wait_for_url(re.compile(r".*/lab/jobs/\d+$"))
    page.get_by_test_id("job-status").filter(has_text="succeeded").wait_for(timeout=300_000)
    page.get_by_test_id("open-model").click()
    page.wait_for_url(re.compile(r".*/models/\d+$"))
    assert "FLUX" in page.locator("p.lead").inner_text()
    assert "Kohya file: not written for this model" in page.get_by_test_id("no-kohya").inner_text()
    assert page.get_by_test_id("download-kohya").count() == 0
    assert "attention and MLPs" in page.get_by_test_id("flux-notes").inner_text()  # the box was ticked
