"""A tiny LoRA trained once per session, and builders that give a learner a model (and a sweep)."""

import pytest

from tests import factories


@pytest.fixture(scope="session")
def tiny_lora(tmp_path_factory, settings):
    """(outcome, crops) of a 2-epoch tiny-base LoRA at 64 px; its base is cached where the app looks."""
    return factories.train_tiny_lora(tmp_path_factory.mktemp("review-train"), settings.data_dir / "cache")


@pytest.fixture
def model_for(db, settings, tiny_lora):
    """model_for(user) -> a finished LoraModel of the user's, recorded through the real queue."""

    def make(user, name: str = "sks_woman"):
        return factories.make_lora_model(db, settings.data_dir, user, *tiny_lora, name=name)

    return make


@pytest.fixture
def sweep_for(app, db, settings):
    """sweep_for(model) runs a real (small) epochs x strengths sweep of the model and scores it."""
    from app.evaluate import service as evaluate_service
    from app.evaluate.schemas import SweepIn
    from app.lab.worker import Worker

    def make(model):
        from app.auth.models import User

        owner = db.get(User, model.user_id)
        evaluate_service.start_sweep(
            db=db, model=model, user=owner, data=SweepIn(epochs=2, strengths=[0.6, 1.0])
        )
        db.commit()
        Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu").run(exit_when_idle=True)
        db.expire_all()
        return evaluate_service.latest_sweep(db=db, model=model)

    return make
