"""Training photos are deleted once a model trained on them is done, unless the learner keeps them:
after a real training run, only when nothing still reads them, never another learner's files,
and the pages say what happened instead of showing broken pictures."""

import shutil
import time

import pytest
from sqlalchemy import select

from app.datasets import retention
from app.datasets import service as datasets_service
from app.datasets.models import Dataset
from app.evaluate import service as evaluate_service
from app.evaluate.models import Sweep
from app.evaluate.schemas import SweepIn
from app.lab import job_store, paths
from app.lab.models import JobStatus, TrainingJob
from app.lab.paths import job_dir
from app.lab.worker import Worker
from tests import factories
from tests.photos import write_face_set

NOTE = "Photos deleted after training, as you chose (privacy setting)"


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


def _poll(api, job_id: int, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/api/jobs/{job_id}").json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.mark.slow
def test_a_real_training_run_deletes_the_photos_and_pages_say_so(app, db, settings, api_as, face_photos):
    learner, reviewer = api_as("learner"), api_as("reviewer")
    factories.pass_lessons(db, learner.user, 6)
    upload = learner.post("/api/datasets", files=[("files", (n, b, "image/jpeg")) for n, b in face_photos],
                          data={"base": "sd15"})  # fmt: skip
    assert upload.status_code == 201, upload.text
    dataset_id = upload.json()["id"]
    settings_ = {"dataset_id": dataset_id, "trigger": "sks", "class_word": "woman", "epochs": 1, "rank": 4,
                 "alpha": 4, "learning_rate": 0.01, "resolution": 64, "sample_steps": 2}  # fmt: skip
    created = learner.post("/api/jobs", json=settings_)
    assert created.status_code == 201, created.text

    Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu", report_seconds=0.1,
           after_job=retention.after_job_hook(settings)).run(exit_when_idle=True)  # fmt: skip

    job = _poll(learner, created.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    assert _stored_files(settings, learner.user) == []
    assert not (job_dir(settings.data_dir, learner.user.id, job["id"]) / "inputs").exists()
    report = learner.get(f"/api/datasets/{dataset_id}").json()
    assert report["photos_deleted_at"] and len(report["images"]) == len(face_photos)
    thumb = learner.get(report["images"][0]["thumbnail_url"])
    assert thumb.status_code == 404 and NOTE in thumb.json()["detail"]
    page = learner.get(f"/lab/datasets/{dataset_id}")
    assert page.status_code == 200 and NOTE in page.text and "/thumb?" not in page.text
    assert "photos deleted" in learner.get("/lab/datasets").text
    again = learner.post("/api/jobs", json=settings_)
    assert again.status_code == 409 and NOTE in again.json()["detail"]
    assert learner.get("/lab").status_code == 200
    # The LoRA and its samples stay; a reviewer sees the note where the crops were.
    model_id = job["model_id"]
    assert learner.get(f"/api/models/{model_id}/download", params={"format": "kohya"}).status_code == 200
    submitted = learner.post("/api/submissions", json={"model_id": model_id, "note": "first try"})
    assert submitted.status_code == 201, submitted.text
    own = learner.get(f"/submissions/{submitted.json()['id']}")
    screen = reviewer.get(f"/review/{submitted.json()['id']}")
    assert own.status_code == 200 and NOTE in own.text
    assert screen.status_code == 200 and "photos were deleted after training, as they chose" in screen.text


def test_photos_stay_when_the_learner_keeps_them(db, settings, face_photos):
    user = factories.make_user(db)
    user.keep_photos = True
    dataset = _upload(db, settings, user, face_photos)
    before = _stored_files(settings, user)

    job = _finish(db, settings, user, dataset)

    assert dataset.photos_deleted_at is None and _stored_files(settings, user) == before
    assert (job_dir(settings.data_dir, user.id, job.id) / "inputs").is_dir()


def test_no_purge_before_consent_or_without_a_finished_model(db, settings, face_photos):
    unconsented = factories.make_user(db, consented=False)
    dataset = _upload(db, settings, unconsented, face_photos[:2])
    _finish(db, settings, unconsented, dataset)
    assert dataset.photos_deleted_at is None  # they never chose: nothing changes under them

    learner = factories.make_user(db)
    failed_on = _upload(db, settings, learner, face_photos[:2])
    _finish(db, settings, learner, failed_on, status=JobStatus.failed)
    assert failed_on.photos_deleted_at is None and _stored_files(settings, learner)  # they will try again


def test_the_purge_waits_for_other_jobs_and_open_sweeps(db, settings, face_photos):
    user = factories.make_user(db)
    dataset = _upload(db, settings, user, face_photos)
    first = _finish(db, settings, user, dataset, after_job=False)
    # One job succeeded, but a sweep of its model still compares new images with the photos.
    evaluate_service.start_sweep(db=db, model=first.model, user=user, data=SweepIn(epochs=1, strengths=[1.0]))
    db.commit()
    assert retention.purge_if_done(db=db, settings=settings, job_id=first.id) is False

    sweep = db.scalar(select(Sweep).where(Sweep.model_id == first.model.id))
    sweep.job.status = JobStatus.succeeded
    waiting = factories.make_training_job(db, user, images=[], dataset_id=dataset.id)
    db.commit()
    assert retention.purge_if_done(db=db, settings=settings, job_id=first.id) is False  # a job still waits
    assert _stored_files(settings, user)

    job_store.request_cancel(db=db, job=waiting)
    db.commit()
    retention.after_job_ended(db=db, settings=settings, job_id=waiting.id)
    db.commit()
    db.refresh(dataset)
    assert dataset.photos_deleted_at is not None and _stored_files(settings, user) == []
    assert not (job_dir(settings.data_dir, user.id, first.id) / "inputs").exists()
    # Idempotent: a second purge changes nothing and fails on nothing.
    marked = dataset.photos_deleted_at
    retention.purge_training_photos(db=db, settings=settings, dataset=dataset)
    assert dataset.photos_deleted_at == marked


def test_switching_to_deletion_purges_finished_sets_now(api_as, db, settings, face_photos):
    api = api_as("learner")
    api.put("/api/me/privacy", json={"keep_photos": True})
    db.refresh(api.user)
    trained = _upload(db, settings, api.user, face_photos[:2])
    _finish(db, settings, api.user, trained)
    untrained = _upload(db, settings, api.user, face_photos[2:])
    assert trained.photos_deleted_at is None

    response = api.put("/api/me/privacy", json={"keep_photos": False})

    assert response.status_code == 200 and response.json()["keep_photos"] is False
    db.expire_all()
    assert db.get(Dataset, trained.id).photos_deleted_at is not None
    assert db.get(Dataset, untrained.id).photos_deleted_at is None
    left = {p.name.split("-")[0].removesuffix(".jpg") for p in _stored_files(settings, api.user)}
    assert left == {i.sha256 for i in db.get(Dataset, untrained.id).images}


def test_a_purge_leaves_other_learners_and_shared_photos_alone(db, settings, face_photos):
    owner, other = factories.make_user(db), factories.make_user(db)
    theirs = _upload(db, settings, other, face_photos)
    their_files = {p: p.read_bytes() for p in _stored_files(settings, other)}
    first = _upload(db, settings, owner, face_photos)
    second = _upload(db, settings, owner, face_photos[:1])  # the same photo in a set not trained yet

    _finish(db, settings, owner, first)

    assert first.photos_deleted_at is not None and theirs.photos_deleted_at is None
    assert {p: p.read_bytes() for p in _stored_files(settings, other)} == their_files
    kept = datasets_service.file_path(settings=settings, dataset=second, image=second.images[0], kind="photo")
    assert (
        kept.is_file() and len([p for p in _stored_files(settings, owner) if p.parent.name == "photos"]) == 1
    )
