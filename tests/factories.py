"""Builders that create test data through the real services."""

import itertools

from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import Role, User

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(
    db: Session,
    *,
    role: str = "learner",
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str | None = None,
    consented: bool = True,
) -> User:
    """A user of the given role, created the way sign-up creates one. By default they have agreed
    to the photo statement (keeping the default retention), so they may upload datasets."""
    from app.privacy import service as privacy_service

    n = next(_counter)
    user = auth_service.create_user(
        db=db,
        email=email or f"{role}{n}@example.com",
        password=password,
        display_name=display_name or f"{role.title()} {n}",
        role=Role(role),
    )
    if consented:
        privacy_service.record_consent(db=db, user=user)
    return user


def make_token(db: Session, user: User, name: str = "test") -> str:
    """A raw API token for the user."""
    _, raw = auth_service.create_api_token(db=db, user=user, name=name)
    return raw


def make_training_job(
    db: Session,
    user: User,
    *,
    images: list[dict] | None = None,
    max_queued: int | None = None,
    dataset_id: int | None = None,
    **config,
):
    """A queued training job for the user, through the real queue (tiny settings by default)."""
    import json

    from app.lab import job_store
    from app.trainer.config import TrainConfig

    cfg = TrainConfig(
        **{
            "trigger": "sks",
            "class_word": "woman",
            "resolution": 64,
            "rank": 4,
            "alpha": 4.0,
            "epochs": 2,
            "learning_rate": 1e-3,
            "sample_steps": 2,
            **config,
        }
    )
    extra = {"max_queued": max_queued} if max_queued else {}
    return job_store.enqueue(
        db=db,
        user_id=user.id,
        dataset_id=dataset_id,
        config=json.loads(cfg.to_json()),
        images=images or [],
        base_model=None,
        total_steps=(cfg.max_steps or 2 * (cfg.epochs or 1)),
        total_epochs=cfg.epochs or 1,
        **extra,
    )


def training_images(data_dir, user: User, size: int = 64) -> list[dict]:
    """Prepared square crops of real faces under the user's folder, as a job's image snapshot."""
    from tests.photos import write_face_set

    folder = data_dir / "users" / str(user.id) / "test-crops"
    return [
        {
            "path": str(p.relative_to(data_dir)),
            "caption": "sks woman",
            "original_size": [size, size],
            "crop_top_left": [0, 0],
        }
        for p in write_face_set(folder, size=size)
    ]


def pass_lessons(db: Session, user: User, upto: int) -> None:
    """Pass lessons 1..upto for the user through the real grading, answering every check right."""
    from app.lessons import service as lessons_service
    from app.quiz import service as quiz_service

    for number in range(1, upto + 1):
        questions = quiz_service.list_questions(db=db, lesson_number=number)
        answers = {q.id: quiz_service.right_answers(q) for q in questions}
        attempt = lessons_service.submit_check(db=db, user_id=user.id, number=number, answers=answers)
        assert attempt.passed, f"lesson {number}'s right answers did not pass"
    db.commit()


def make_lora_model(db: Session, data_dir, user: User, trained, crops, *, name: str = "sks_woman"):
    """A finished model of the user's, through the real queue (enqueue, claim, record epochs,
    succeed), whose files are copied from a LoRA trained earlier with run_training."""
    import shutil
    from pathlib import Path

    from app.lab import job_store
    from app.lab.paths import job_dir

    root = Path(trained.lora_path).parent.parent  # run_training's out_dir
    job = make_training_job(
        db,
        user,
        epochs=len(trained.epochs),
        name=name,
        resolution=trained.config.resolution,
        sample_steps=trained.config.sample_steps,
    )
    db.commit()
    claim = job_store.claim_next(db=db, worker_id="builder")
    assert claim is not None and claim.job_id == job.id
    out = job_dir(Path(data_dir), user.id, job.id)
    shutil.copytree(root, out, dirs_exist_ok=True)
    (out / "inputs").mkdir(exist_ok=True)
    for i, crop in enumerate(crops):
        shutil.copy(crop, out / "inputs" / f"{i:03d}.png")

    def rel(path) -> str:
        return str((out / Path(path).relative_to(root)).relative_to(Path(data_dir)))

    for e in trained.epochs:
        job_store.record_epoch(
            db=db,
            claim=claim,
            epoch=e.epoch,
            step=e.step,
            loss=e.loss,
            diffusers_path=rel(e.lora_path),
            kohya_path=rel(e.kohya_path),
            sample_path=rel(e.sample_paths[0]) if e.sample_paths else None,
        )
    model = job_store.finish_succeeded(
        db=db,
        claim=claim,
        name=name,
        family="sdxl",
        steps=trained.steps,
        final_loss=trained.final_loss,
        kohya_path=rel(trained.kohya_path),
        diffusers_path=rel(trained.lora_path),
    )
    db.commit()
    return model


def make_model_with_samples(
    db: Session, data_dir, user: User, *, epochs: int = 3, name: str = "sks_portrait"
):
    """A finished model of the user's through the real queue, with a sample picture per epoch and a
    loss curve, but no LoRA weights (for domains that only show a model, like the community)."""
    from pathlib import Path

    from PIL import Image, ImageDraw

    from app.lab import job_store

    make_training_job(db, user, epochs=epochs, name=name)
    db.commit()
    claim = job_store.claim_next(db=db, worker_id="builder")
    assert claim is not None
    folder = Path(data_dir) / "users" / str(user.id) / "jobs" / str(claim.job_id)
    folder.mkdir(parents=True, exist_ok=True)
    losses = [[step, 0.3 - 0.02 * step] for step in range(1, 2 * epochs + 1)]
    job_store.report(db=db, claim=claim, progress={"step": 2 * epochs, "loss": losses[-1][1]}, losses=losses)
    for epoch in range(1, epochs + 1):
        sample = folder / f"sample-{epoch}.png"
        img = Image.new("RGB", (64, 64), (40 * epoch % 255, 90, 160))
        ImageDraw.Draw(img).ellipse((16, 10, 48, 54), fill=(230, 190, 160))
        img.save(sample)
        rel = str(sample.relative_to(Path(data_dir)))
        job_store.record_epoch(
            db=db,
            claim=claim,
            epoch=epoch,
            step=2 * epoch,
            loss=losses[2 * epoch - 1][1],
            diffusers_path=rel.replace(".png", ".safetensors"),
            kohya_path=rel.replace(".png", "-kohya.safetensors"),
            sample_path=rel,
        )
    model = job_store.finish_succeeded(
        db=db,
        claim=claim,
        name=name,
        family="sdxl",
        steps=2 * epochs,
        final_loss=losses[-1][1],
        kohya_path=f"{folder.relative_to(Path(data_dir))}/{name}.safetensors",
        diffusers_path=f"{folder.relative_to(Path(data_dir))}/diffusers.safetensors",
    )
    model.recommended_strength, model.recommended_epoch = 0.8, epochs - 1
    db.commit()
    return model


def make_post(
    db: Session,
    user: User,
    *,
    kind: str = "help",
    title: str = "My face looks distorted?",
    body: str = "At strength 1.0 the eyes melt.",
    lesson: int | None = None,
    data_dir=None,
    **extra,
):
    """A community post written through the real service (backdated for the rate limit)."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.community import posts
    from app.community.models import Action
    from app.community.schemas import PostCreate
    from app.db import utcnow

    data = PostCreate(kind=kind, title=title, body=body, lesson=lesson, **extra)
    post = posts.create_post(db=db, data_dir=data_dir, author=user, data=data)
    # Builders set the scene; the scene's posts should not use up the author's rate limit.
    db.execute(
        update(Action).where(Action.user_id == user.id).values(created_at=utcnow() - timedelta(days=1))
    )
    return post


def train_tiny_lora(folder, cache_dir, *, epochs: int = 2, size: int = 64):
    """(outcome, crop paths): a rank-4 LoRA trained with run_training on the tiny base at 64 px
    on real face photos; train it once per session and hand it to make_lora_model."""
    from pathlib import Path

    from PIL import Image

    from app.trainer.config import TrainConfig
    from app.trainer.pipeline import TrainImage, run_training
    from tests.photos import square, write_face_set

    folder = Path(folder)
    crops = []
    for path in write_face_set(folder / "photos", size=size):
        crop = folder / f"crop_{path.stem}.png"
        with Image.open(path) as im:
            square(im, size).save(crop)
        crops.append(crop)
    cfg = TrainConfig(
        trigger="sks",
        class_word="woman",
        resolution=size,
        rank=4,
        alpha=4.0,
        epochs=epochs,
        learning_rate=1e-2,
        sample_steps=2,
    )
    outcome = run_training(
        cfg=cfg,
        images=[TrainImage(path=c, caption="sks woman", original_size=(size, size)) for c in crops],
        out_dir=folder / "out",
        base_model=None,
        cache_dir=Path(cache_dir),
        device="cpu",
    )
    return outcome, crops
