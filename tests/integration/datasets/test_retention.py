"""Training photos stay while the learner iterates: deleted a set time after a job last used them
(here a short period), at once on "Delete photos now", or on approval if chosen; never while a job,
sweep or open review reads them, never another learner's files, and the pages say what happened."""

import shutil
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from app.datasets import retention, retention_clock
from app.datasets import service as datasets_service
from app.datasets.models import Dataset
from app.db import utcnow
from app.evaluate import service as evaluate_service
from app.evaluate.models import Sweep
from app.evaluate.schemas import SweepIn
from app.lab import job_store, paths
from app.lab.models import JobStatus, TrainingJob
from app.lab.paths import job_dir
from app.main import create_app
from tests import factories
from tests.photos import write_face_set


@pytest.fixture(scope="module")
def face_photos(tmp_path_factory) -> list[tuple[str, bytes]]:
    paths = write_face_set(tmp_path_factory.mktemp("retention-photos"), size=512)
    return [(p.name, p.read_bytes()) for p in paths]


def _upload(db, settings, user, photos) -> Dataset:
    dataset, _ = datasets_service.create_dataset(
        db=db, settings=settings, user_id=user.id, files=photos, name="faces", base="sd15"
    )
    db.commit()
    return dataset


def _stored_files(settings, user) -> list:
    root = paths.datasets_dir(settings.data_dir, user.id)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _finish(db, settings, user, dataset: Dataset, status=JobStatus.succeeded, after_job=True) -> TrainingJob:
    """A job on the dataset that ends as the worker records it (crops copied to inputs, one epoch),
    then the worker's after_job hook."""
    images = datasets_service.training_images(db=db, user_id=user.id, dataset_id=dataset.id)
    job = factories.make_training_job(db, user, images=images, dataset_id=dataset.id, epochs=1)
    db.commit()
    claim = job_store.claim_next(db=db, worker_id="test")
    assert claim is not None and claim.job_id == job.id
    inputs = job_dir(settings.data_dir, user.id, job.id) / "inputs"
    inputs.mkdir(parents=True)
    for i, item in enumerate(images):
        shutil.copy(settings.data_dir / item["path"], inputs / f"{i:03d}.png")
    rel = str((inputs / "000.png").relative_to(settings.data_dir))
    job_store.record_epoch(db=db, claim=claim, epoch=1, step=2, loss=0.1, diffusers_path=rel, kohya_path=rel,
                      sample_path=None)  # fmt: skip
    if status == JobStatus.succeeded:
        job_store.finish_succeeded(db=db, claim=claim, name="sks_woman", family="sd15", steps=2, final_loss=0.1,
                              kohya_path=rel, diffusers_path=rel)  # fmt: skip
    else:
        job_store.finish_failed(db=db, claim=claim, error="out of luck")
    db.commit()
    if after_job:
        retention.after_job_ended(db=db, settings=settings, job_id=job.id)
        db.commit()
    db.refresh(dataset)
    return job


def _later(days: float):
    return utcnow() + timedelta(days=days)


def test_photos_stay_while_iterating_and_go_after_the_period(db, settings, face_photos):
    user = factories.make_user(db)
    dataset = _upload(db, settings, user, face_photos)
    before = _stored_files(settings, user)

    job = _finish(db, settings, user, dataset)

    assert dataset.photos_deleted_at is None and _stored_files(settings, user) == before
    assert datasets_service.training_images(db=db, user_id=user.id, dataset_id=dataset.id)  # trains again
    days = settings.photo_retention_days
    assert retention.purge_due(db=db, settings=settings, user_id=user.id, now=_later(days - 1)) == 0
    assert retention.purge_due(db=db, settings=settings, user_id=user.id, now=_later(days + 1)) == 1
    db.commit()
    assert dataset.photos_deleted_at is not None and _stored_files(settings, user) == []
    assert not (job_dir(settings.data_dir, user.id, job.id) / "inputs").exists()


def test_a_short_period_deletes_after_the_job_ends(db, settings, face_photos):
    short = settings.model_copy(update={"photo_retention_days": 0})
    user = factories.make_user(db)
    dataset = _upload(db, settings, user, face_photos[:2])
    _finish(db, short, user, dataset)
    assert dataset.photos_deleted_at is not None and _stored_files(settings, user) == []


def test_photos_stay_when_the_learner_keeps_them(db, settings, face_photos):
    user = factories.make_user(db)
    user.keep_photos = True
    dataset = _upload(db, settings, user, face_photos)
    before = _stored_files(settings, user)

    job = _finish(db, settings, user, dataset)

    assert retention.purge_due(db=db, settings=settings, user_id=user.id, now=_later(365)) == 0
    assert dataset.photos_deleted_at is None and _stored_files(settings, user) == before
    assert (job_dir(settings.data_dir, user.id, job.id) / "inputs").is_dir()


def test_a_new_run_moves_the_date_on(db, settings, face_photos):
    user = factories.make_user(db)
    dataset = _upload(db, settings, user, face_photos[:2])
    _finish(db, settings, user, dataset)
    first = retention.deletion_date(db=db, settings=settings, dataset=dataset)
    job = factories.make_training_job(db, user, images=[], dataset_id=dataset.id)
    job.created_at = utcnow() + timedelta(days=10)  # the learner comes back ten days later
    db.commit()
    assert retention.deletion_date(db=db, settings=settings, dataset=dataset) > first


def test_the_purge_waits_for_jobs_and_open_sweeps(db, settings, face_photos):
    user = factories.make_user(db)
    dataset = _upload(db, settings, user, face_photos)
    first = _finish(db, settings, user, dataset, after_job=False)
    evaluate_service.start_sweep(db=db, model=first.model, user=user, data=SweepIn(epochs=1, strengths=[1.0]))
    db.commit()
    dataset.delete_requested_at = utcnow()  # even an explicit request waits for the sweep
    assert retention.purge_due(db=db, settings=settings, user_id=user.id) == 0

    sweep = db.scalar(select(Sweep).where(Sweep.model_id == first.model.id))
    sweep.job.status = JobStatus.succeeded
    waiting = factories.make_training_job(db, user, images=[], dataset_id=dataset.id)
    db.commit()
    assert retention.purge_due(db=db, settings=settings, user_id=user.id) == 0  # a job still waits
    assert _stored_files(settings, user)

    job_store.request_cancel(db=db, job=waiting)
    db.commit()
    retention.after_job_ended(db=db, settings=settings, job_id=waiting.id)
    db.commit()
    db.refresh(dataset)
    assert dataset.photos_deleted_at is not None and _stored_files(settings, user) == []
    marked = dataset.photos_deleted_at
    retention.purge_training_photos(db=db, settings=settings, dataset=dataset)
    assert dataset.photos_deleted_at == marked  # idempotent


def test_delete_photos_now(api_as, client_as, db, settings, face_photos):
    api = api_as("learner")
    dataset = _upload(db, settings, api.user, face_photos[:2])
    _finish(db, settings, api.user, dataset)
    other = api_as("learner")
    assert other.post(f"/api/datasets/{dataset.id}/photos/delete").status_code == 404

    answer = api.post(f"/api/datasets/{dataset.id}/photos/delete")

    assert answer.status_code == 200 and answer.json()["deleted"] is True
    assert _stored_files(settings, api.user) == []
    again = api.post("/api/jobs", json={"dataset_id": dataset.id, "trigger": "sks", "class_word": "woman"})
    assert again.status_code in (403, 409)
    browser = client_as("learner")
    kept = _upload(db, settings, browser.user, face_photos[:1])
    page = browser.get(f"/lab/datasets/{kept.id}")
    assert (
        'data-testid="delete-photos-now"' in page.text
        and "days after a training run last used them" in page.text
    )
    deleted = browser.post(f"/lab/datasets/{kept.id}/photos/delete", data={"csrf_token": browser.csrf})
    assert deleted.status_code in (200, 303)
    db.expire_all()
    assert db.get(Dataset, kept.id).photos_deleted_at is not None
    assert "Photos deleted as you asked" in browser.get(f"/lab/datasets/{kept.id}").text


def test_an_open_submission_keeps_its_crops_until_the_review_ends(api_as, db, settings, face_photos):
    learner, reviewer = api_as("learner"), api_as("reviewer")
    learner.put("/api/me/privacy", json={"delete_on_approval": True})
    dataset = _upload(db, settings, learner.user, face_photos[:2])
    job = _finish(db, settings, learner.user, dataset)
    submitted = learner.post("/api/submissions", json={"model_id": job.model.id, "note": "try"})
    assert submitted.status_code == 201, submitted.text

    learner.post(f"/api/datasets/{dataset.id}/photos/delete")  # asked while the review is open
    db.expire_all()
    assert db.get(Dataset, dataset.id).photos_deleted_at is None
    assert (job_dir(settings.data_dir, learner.user.id, job.id) / "inputs").is_dir()

    round_page = learner.get(f"/submissions/{submitted.json()['id']}")
    assert round_page.status_code == 200 and "Training crops" in round_page.text
    scores = {"likeness": 4, "consistency": 4, "flexibility": 4, "image_quality": 4}
    verdict = reviewer.post(f"/api/submissions/{submitted.json()['id']}/reviews",
                            json={"scores": scores, "verdict": "approved", "comment": "good"})  # fmt: skip
    assert verdict.status_code == 201, verdict.text
    db.expire_all()
    assert db.get(Dataset, dataset.id).photos_deleted_at is not None
    assert _stored_files(settings, learner.user) == []


def test_approval_deletes_when_chosen(api_as, db, settings, face_photos):
    learner, reviewer = api_as("learner"), api_as("reviewer")
    learner.put("/api/me/privacy", json={"delete_on_approval": True})
    dataset = _upload(db, settings, learner.user, face_photos[:2])
    job = _finish(db, settings, learner.user, dataset)
    sub = learner.post("/api/submissions", json={"model_id": job.model.id, "note": "try"}).json()
    scores = {"likeness": 4, "consistency": 4, "flexibility": 4, "image_quality": 4}
    reviewer.post(
        f"/api/submissions/{sub['id']}/reviews",
        json={"scores": scores, "verdict": "approved", "comment": "ok"},
    )
    db.expire_all()
    assert db.get(Dataset, dataset.id).photos_deleted_at is not None


def test_a_purge_leaves_other_learners_and_shared_photos_alone(db, settings, face_photos):
    owner, other = factories.make_user(db), factories.make_user(db)
    theirs = _upload(db, settings, other, face_photos)
    their_files = {p: p.read_bytes() for p in _stored_files(settings, other)}
    first = _upload(db, settings, owner, face_photos)
    second = _upload(db, settings, owner, face_photos[:1])  # the same photo in a set not trained yet

    _finish(db, settings, owner, first)
    retention.request_deletion(db=db, settings=settings, dataset=first)
    db.commit()

    assert first.photos_deleted_at is not None and theirs.photos_deleted_at is None
    assert second.photos_deleted_at is None
    assert {p: p.read_bytes() for p in _stored_files(settings, other)} == their_files
    kept = datasets_service.file_path(settings=settings, dataset=second, image=second.images[0], kind="photo")
    assert kept.is_file()


def test_a_running_server_deletes_due_photos_with_no_other_activity(db, settings, face_photos):
    """Nothing happens after the upload (no job, no verdict, no restart): the server's own
    periodic check still deletes the photos once their period is over."""
    brisk = settings.model_copy(update={"photo_retention_days": 0, "retention_check_seconds": 0.2})
    user = factories.make_user(db)
    with TestClient(create_app(brisk, start_worker=False)):
        dataset = _upload(db, brisk, user, face_photos[:2])
        assert dataset.photos_deleted_at is None  # the upload itself deletes nothing
        deadline = time.monotonic() + 30
        while dataset.photos_deleted_at is None and time.monotonic() < deadline:
            time.sleep(0.2)
            db.expire_all()
    assert dataset.photos_deleted_at is not None and _stored_files(settings, user) == []


def test_the_periodic_check_skips_photos_still_in_their_period(db, settings, face_photos):
    user = factories.make_user(db)
    dataset = _upload(db, settings, user, face_photos[:2])
    assert retention_clock.purge_once(sessionmaker(bind=db.get_bind()), settings) == 0
    db.expire_all()
    assert dataset.photos_deleted_at is None and _stored_files(settings, user)
