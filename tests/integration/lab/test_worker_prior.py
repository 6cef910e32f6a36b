"""A lab job with prior preservation through the real worker on the tiny base: the class images
are made before the first step, train as examples of the epoch, and leave the loss curve clean."""

import pytest

from app.lab.models import JobStatus, TrainingJob
from app.lab.worker import Worker
from tests import factories


@pytest.mark.slow
def test_a_job_with_prior_images_trains_them_beside_the_face(app, db, settings):
    user = factories.make_user(db)
    images = factories.training_images(settings.data_dir, user)
    job = factories.make_training_job(db, user, images=images, epochs=1, prior_images=2, seed=777)
    db.commit()

    Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu", report_seconds=0.1).run(
        exit_when_idle=True
    )

    with app.state.sessionmaker() as session:
        row = session.get(TrainingJob, job.id)
        assert row.status == JobStatus.succeeded, row.error
        # 4 photos + 2 class images, batch 1, one epoch; no point of the class-image phase in the curve
        assert row.step == 6 and [step for step, _ in row.losses] == [1, 2, 3, 4, 5, 6]
        assert all(loss > 0 for _, loss in row.losses)
    assert len(list((settings.data_dir / "cache" / "prior").glob("*/0001.png"))) == 1
