"""The worker with the real trainer on the tiny base: success, explained failures, cancel, hand-back."""

import time

import pytest

from app.lab import job_store
from app.lab.models import JobStatus, LoraModel, LoraModelEpoch, TrainingJob
from app.lab.paths import job_dir
from app.lab.worker import Worker
from tests import factories


def _worker(app, settings, **kw) -> Worker:
    return Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu", report_seconds=0.1, **kw)


def _job(app, job_id) -> TrainingJob:
    with app.state.sessionmaker() as db:
        return db.get(TrainingJob, job_id)


def _epochs(app, job_id) -> int:
    with app.state.sessionmaker() as db:
        return db.query(LoraModelEpoch).filter_by(job_id=job_id).count()


def _wait_for(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


@pytest.mark.slow
def test_worker_trains_a_job_and_records_epochs_and_model(app, db, settings):
    user = factories.make_user(db)
    images = factories.training_images(settings.data_dir, user)
    job = factories.make_training_job(db, user, images=images, epochs=2)
    db.commit()

    ran = _worker(app, settings).run(exit_when_idle=True)

    row = _job(app, job.id)
    assert ran == 1
    assert row.status == JobStatus.succeeded, row.error
    assert row.step == row.total_steps == 8 and row.attempt == 1
    assert len(row.losses) == 8 and all(loss > 0 for _, loss in row.losses)
    with app.state.sessionmaker() as s:
        model = s.query(LoraModel).one()
        epochs = s.query(LoraModelEpoch).order_by(LoraModelEpoch.epoch).all()
    assert [e.epoch for e in epochs] == [1, 2] and all(e.model_id == model.id for e in epochs)
    out = job_dir(settings.data_dir, user.id, job.id)
    for rel in (model.kohya_path, model.diffusers_path, *(e.sample_path for e in epochs)):
        path = settings.data_dir / rel
        assert path.is_file() and path.is_relative_to(out)


def test_a_missing_photo_fails_the_job_with_a_clear_message(app, db, settings):
    user = factories.make_user(db)
    images = [{"path": f"users/{user.id}/nowhere/gone.png", "caption": "sks woman"}]
    job = factories.make_training_job(db, user, images=images)
    db.commit()

    _worker(app, settings).run(exit_when_idle=True)

    row = _job(app, job.id)
    assert row.status == JobStatus.failed
    assert "photo is missing" in row.error and "gone.png" in row.error


@pytest.mark.slow
def test_a_base_model_that_cannot_load_is_explained(app, db, settings, tmp_path):
    user = factories.make_user(db)
    job = factories.make_training_job(db, user, images=factories.training_images(settings.data_dir, user))
    broken = tmp_path / "broken-base"
    broken.mkdir()
    (broken / "model_index.json").write_text("{not json")
    job.base_model = str(broken)
    db.commit()

    _worker(app, settings).run(exit_when_idle=True)

    row = _job(app, job.id)
    assert row.status == JobStatus.failed
    assert row.error.startswith("The base model could not be loaded") and "LORAFACE_BASE_MODEL" in row.error


@pytest.mark.slow
def test_a_diverging_loss_is_explained(app, db, settings):
    user = factories.make_user(db)
    images = factories.training_images(settings.data_dir, user)
    job = factories.make_training_job(
        db, user, images=images, learning_rate=1e30, epochs=3, min_snr_gamma=None
    )
    db.commit()

    _worker(app, settings).run(exit_when_idle=True)

    row = _job(app, job.id)
    assert row.status == JobStatus.failed
    assert "loss became" in row.error and "learning rate" in row.error


@pytest.mark.slow
def test_cancel_stops_a_running_job(app, db, settings):
    user = factories.make_user(db)
    images = factories.training_images(settings.data_dir, user)
    job = factories.make_training_job(db, user, images=images, epochs=50)
    db.commit()
    worker = _worker(app, settings)
    worker.start_thread()
    try:
        _wait_for(lambda: _job(app, job.id).step >= 1)
        with app.state.sessionmaker() as s:
            job_store.request_cancel(db=s, job=s.get(TrainingJob, job.id))
            s.commit()
        _wait_for(lambda: _job(app, job.id).status == JobStatus.cancelled, timeout=30)
    finally:
        worker.stop()
    assert _job(app, job.id).step < 200


@pytest.mark.slow
def test_stopping_the_worker_hands_the_job_back_and_the_next_resumes_it(app, db, settings):
    user = factories.make_user(db)
    images = factories.training_images(settings.data_dir, user)
    job = factories.make_training_job(db, user, images=images, epochs=3)
    db.commit()
    first = _worker(app, settings)
    thread = first.start_thread()
    _wait_for(lambda: _epochs(app, job.id) >= 1 and _job(app, job.id).step > 4)
    first.stop()
    assert not thread.is_alive()
    assert _job(app, job.id).status == JobStatus.queued

    _worker(app, settings).run(exit_when_idle=True)

    row = _job(app, job.id)
    assert row.status == JobStatus.succeeded, row.error
    # The last epoch checkpoint before the stop took effect: epoch 1, or epoch 2 on a slow machine.
    assert row.attempt == 2 and row.resumed_from_step in (4, 8)
    assert [p[0] for p in row.losses] == list(range(1, 13))
