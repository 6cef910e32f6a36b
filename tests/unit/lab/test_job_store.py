"""The training queue against the real database: claiming, fairness, leases, fencing, cancel."""

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import update

from app.lab import fair_order, job_store
from app.lab.models import JobStatus, LoraModel, LoraModelEpoch, TrainingJob
from tests import factories
from tests.factories import make_training_job


def _claim(app, worker_id="w1", lease_seconds=30.0):
    with app.state.sessionmaker() as db:
        return job_store.claim_next(db=db, worker_id=worker_id, lease_seconds=lease_seconds)


def _job(app, job_id) -> TrainingJob:
    with app.state.sessionmaker() as db:
        return db.get(TrainingJob, job_id)


def _write(app, fn):
    with app.state.sessionmaker() as db:
        result = fn(db)
        db.commit()
        return result


def _expire(app, job_id):
    """Make the lease run out now (as if the worker stopped renewing it long ago)."""
    _write(
        app,
        lambda db: db.execute(
            update(TrainingJob)
            .where(TrainingJob.id == job_id)
            .values(lease_expires_at=TrainingJob.created_at)
        ),
    )


def test_claim_takes_the_job_with_a_lease_and_attempt_one(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()

    claim = _claim(app, "worker-a")

    assert claim == job_store.Claim(job_id=job.id, attempt=1, worker_id="worker-a")
    row = _job(app, job.id)
    assert row.status == JobStatus.running and row.worker_id == "worker-a"
    assert row.lease_expires_at > row.heartbeat_at and row.started_at is not None
    assert _claim(app, "worker-b") is None  # nothing else to take


def test_one_running_job_per_learner_and_others_go_first(app, db):
    alice, bob = factories.make_user(db), factories.make_user(db)
    a1, a2 = make_training_job(db, alice), make_training_job(db, alice)
    b1 = make_training_job(db, bob)
    db.commit()

    first, second = _claim(app, "w1"), _claim(app, "w2")

    assert (first.job_id, second.job_id) == (a1.id, b1.id)
    assert _claim(app, "w3") is None  # a2 waits: alice already has a job running
    assert _job(app, a2.id).status == JobStatus.queued


def test_fair_order_serves_learners_round_robin(app, db):
    alice, bob = factories.make_user(db), factories.make_user(db)
    a = [make_training_job(db, alice) for _ in range(3)]
    b1 = make_training_job(db, bob)  # queued after all of alice's
    db.commit()

    order = []
    for _ in range(4):
        claim = _claim(app)
        order.append(claim.job_id)
        _write(app, lambda db, c=claim: job_store.finish_failed(db=db, claim=c, error="done"))

    # Bob's first job runs before alice's second, although alice queued hers earlier.
    assert order == [a[0].id, b1.id, a[1].id, a[2].id]


def test_queue_position_counts_the_jobs_that_will_run_first(app, db):
    alice, bob = factories.make_user(db), factories.make_user(db)
    a1, a2 = make_training_job(db, alice), make_training_job(db, alice)
    b1 = make_training_job(db, bob)
    db.commit()

    positions = {j.id: fair_order.queue_position(db=db, job=db.get(TrainingJob, j.id)) for j in (a1, a2, b1)}

    assert positions == {a1.id: 1, b1.id: 2, a2.id: 3}


def test_a_learner_cannot_queue_more_than_the_limit(app, db):
    user = factories.make_user(db)
    for _ in range(job_store.MAX_QUEUED_PER_USER):
        make_training_job(db, user)
    with pytest.raises(job_store.QueueFull, match="waiting"):
        make_training_job(db, user)


def test_progress_renews_the_lease_and_is_stored(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()
    claim = _claim(app, lease_seconds=5)
    before = _job(app, job.id).lease_expires_at

    cancel = _write(
        app,
        lambda db: job_store.report(
            db=db,
            claim=claim,
            lease_seconds=60,
            progress={"step": 3, "loss": 0.25},
            losses=[[1, 0.5], [2, 0.3], [3, 0.25]],
        ),
    )

    row = _job(app, job.id)
    assert cancel is False
    assert row.step == 3 and row.loss == 0.25 and row.losses == [[1, 0.5], [2, 0.3], [3, 0.25]]
    assert row.lease_expires_at > before


def test_a_stale_workers_late_writes_are_refused(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()
    stale = _claim(app, "stale")
    _expire(app, job.id)

    requeued = _write(app, lambda db: job_store.requeue_expired(db=db))
    fresh = _claim(app, "fresh")

    assert requeued == [(job.id, JobStatus.queued)]
    assert fresh.attempt == 2 and fresh.job_id == job.id
    with pytest.raises(job_store.LostLease):
        _write(app, lambda db: job_store.report(db=db, claim=stale, progress={"step": 99}))
    with pytest.raises(job_store.LostLease):
        _write(
            app,
            lambda db: job_store.record_epoch(
                db=db,
                claim=stale,
                epoch=1,
                step=99,
                loss=0.1,
                diffusers_path="x",
                kohya_path="y",
                sample_path=None,
            ),
        )
    with pytest.raises(job_store.LostLease):
        _write(
            app,
            lambda db: job_store.finish_succeeded(
                db=db,
                claim=stale,
                name="n",
                family="sdxl",
                steps=99,
                final_loss=0.1,
                kohya_path="k",
                diffusers_path="d",
            ),
        )
    with pytest.raises(job_store.LostLease):
        _write(app, lambda db: job_store.finish_failed(db=db, claim=stale, error="late"))

    _write(app, lambda db: job_store.report(db=db, claim=fresh, progress={"step": 2}))
    row = _job(app, job.id)
    assert (
        row.status == JobStatus.running and row.step == 2 and row.worker_id == "fresh" and row.error is None
    )
    with app.state.sessionmaker() as s:
        assert s.query(LoraModelEpoch).count() == 0 and s.query(LoraModel).count() == 0


def test_a_worker_whose_lease_ran_out_cannot_write_even_before_requeue(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()
    claim = _claim(app, lease_seconds=0.05)
    time.sleep(0.1)

    with pytest.raises(job_store.LostLease):
        _write(app, lambda db: job_store.report(db=db, claim=claim, progress={"step": 5}))
    assert _job(app, job.id).step == 0


def test_a_job_that_keeps_losing_its_worker_fails_with_the_reason(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()
    for attempt in range(1, job_store.MAX_ATTEMPTS + 1):
        claim = _claim(app)
        assert claim.attempt == attempt
        _expire(app, job.id)
        _write(app, lambda db: job_store.requeue_expired(db=db))

    row = _job(app, job.id)
    assert row.status == JobStatus.failed
    assert f"stopped responding {job_store.MAX_ATTEMPTS} times" in row.error
    assert _claim(app) is None


def test_cancel_a_waiting_job_is_immediate(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()

    job_store.request_cancel(db=db, job=job)
    db.commit()

    assert _job(app, job.id).status == JobStatus.cancelled
    assert _claim(app) is None


def test_cancel_a_running_job_reaches_its_worker(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()
    claim = _claim(app)

    _write(app, lambda db: job_store.request_cancel(db=db, job=db.get(TrainingJob, job.id)))
    told = _write(app, lambda db: job_store.report(db=db, claim=claim))
    _write(app, lambda db: job_store.finish_cancelled(db=db, claim=claim))

    assert told is True
    assert _job(app, job.id).status == JobStatus.cancelled


def test_cancel_of_a_job_whose_worker_died_ends_it_on_requeue(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()
    _claim(app)
    _write(app, lambda db: job_store.request_cancel(db=db, job=db.get(TrainingJob, job.id)))
    _expire(app, job.id)

    assert _write(app, lambda db: job_store.requeue_expired(db=db)) == [(job.id, JobStatus.cancelled)]


def test_release_hands_the_job_back_without_using_up_an_attempt(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()
    claim = _claim(app)

    _write(app, lambda db: job_store.release(db=db, claim=claim))

    row = _job(app, job.id)
    assert row.status == JobStatus.queued and row.max_attempts == job_store.MAX_ATTEMPTS + 1
    assert _claim(app).attempt == 2


def test_success_creates_the_model_and_ties_the_epochs_to_it(app, db):
    user = factories.make_user(db)
    job = make_training_job(db, user)
    db.commit()
    claim = _claim(app)
    for epoch in (1, 2):
        _write(
            app,
            lambda db, e=epoch: job_store.record_epoch(
                db=db,
                claim=claim,
                epoch=e,
                step=2 * e,
                loss=0.1,
                diffusers_path=f"d{e}",
                kohya_path=f"k{e}",
                sample_path=f"s{e}",
            ),
        )

    model = _write(
        app,
        lambda db: job_store.finish_succeeded(
            db=db,
            claim=claim,
            name="sks_woman",
            family="sdxl",
            steps=4,
            final_loss=0.09,
            kohya_path="k",
            diffusers_path="d",
        ),
    )

    row = _job(app, job.id)
    assert row.status == JobStatus.succeeded and row.finished_at is not None
    with app.state.sessionmaker() as s:
        epochs = s.query(LoraModelEpoch).order_by(LoraModelEpoch.epoch).all()
        assert [(e.epoch, e.model_id) for e in epochs] == [(1, model.id), (2, model.id)]
        assert s.get(LoraModel, model.id).trigger == "sks"


def test_the_loss_curve_is_thinned_but_keeps_its_ends():
    points = [[i, 1.0 / i] for i in range(1, 2001)]
    thinned = job_store.thin_losses(points, limit=600)
    assert len(thinned) <= 600
    assert thinned[0] == [1, 1.0] and thinned[-1] == [2000, 1 / 2000]


def test_many_workers_never_run_the_same_job_twice(app, db):
    users = [factories.make_user(db) for _ in range(6)]
    created = [make_training_job(db, u, max_queued=10) for u in users for _ in range(5)]
    db.commit()
    claims: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            while True:
                claim = _claim(app, name)
                if claim is None:
                    with app.state.sessionmaker() as s:
                        if (
                            not s.query(TrainingJob)
                            .filter(TrainingJob.status.in_(["queued", "running"]))
                            .count()
                        ):
                            return
                    time.sleep(0.01)
                    continue
                with lock:
                    claims.append(claim.job_id)
                _write(app, lambda db, c=claim: job_store.report(db=db, claim=c, progress={"step": 1}))
                _write(
                    app,
                    lambda db, c=claim: job_store.finish_succeeded(
                        db=db,
                        claim=c,
                        name="n",
                        family="sdxl",
                        steps=1,
                        final_loss=0.1,
                        kohya_path="k",
                        diffusers_path="d",
                    ),
                )
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not errors
    counts = Counter(claims)
    assert sorted(counts) == sorted(j.id for j in created)
    assert set(counts.values()) == {1}
    with app.state.sessionmaker() as s:
        rows = s.query(TrainingJob).all()
        assert {(r.status, r.attempt) for r in rows} == {(JobStatus.succeeded, 1)}
        assert s.query(LoraModel).count() == len(created)
