"""The fault suite (short): workers killed -9 at every named point of a job's life, a frozen
worker that wakes after its job was taken over, and many workers on many jobs. Figures from
the longer run: benchmarks/faults.py."""

import pytest

from tests import factories
from tests.conftest import BACKEND
from tests.faults import harness

pytestmark = pytest.mark.slow
# SQLite serialises every writer: a handful of victims there, every point on PostgreSQL.
POINTS = (
    harness.POINTS
    if BACKEND == "postgresql"
    else ("claimed", "caching_latents", "saving_checkpoint", "finishing")
)


@pytest.fixture
def make_job(db, settings):
    def make() -> int:
        user = factories.make_user(db)
        images = factories.training_images(settings.data_dir, user)
        job = factories.make_training_job(db, user, images=images, epochs=3)  # 4 steps per epoch
        db.commit()
        return job.id

    return make


def test_a_worker_killed_at_any_point_loses_and_repeats_nothing(app, settings, make_job, tmp_path):
    results = harness.kill_at_points(
        settings=settings, sessions=app.state.sessionmaker, make_job=make_job, folder=tmp_path, points=POINTS
    )
    assert [r.point for r in results] == list(POINTS)
    report = {r.point: (r.status, r.attempt, r.requeue_seconds, r.problems) for r in results}
    assert all(not r.problems for r in results), report
    assert all(r.requeue_seconds is not None for r in results), report
    assert harness.unfinished(app.state.sessionmaker) == 0


def test_a_frozen_worker_that_wakes_cannot_write(app, db, settings, tmp_path):
    def make_long_job() -> int:
        user = factories.make_user(db)
        images = factories.training_images(settings.data_dir, user)
        job = factories.make_training_job(db, user, images=images, epochs=3, repeats=5)  # 60 steps
        db.commit()
        return job.id

    result = harness.zombie(
        settings=settings, sessions=app.state.sessionmaker, make_job=make_long_job, folder=tmp_path
    )
    assert result.epochs_before_freeze < 3, "the freeze landed after the run (too late to test anything)"
    assert result.problems == []
    assert result.refused_writes >= 1


def test_many_workers_run_each_of_many_jobs_exactly_once(app, db, settings, tmp_path):
    def make_short_job() -> int:
        user = factories.make_user(db)
        images = factories.training_images(settings.data_dir, user)[:1]
        job = factories.make_training_job(db, user, images=images, epochs=None, max_steps=1, sample_steps=1)
        db.commit()
        return job.id

    result = harness.many_workers(
        settings=settings,
        sessions=app.state.sessionmaker,
        make_job=make_short_job,
        folder=tmp_path,
        jobs=8,
        workers=3,
    )
    assert result.problems == []
    assert sorted(result.runs_per_job.values()) == [1] * 8
