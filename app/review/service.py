"""Review logic: submit (freezing the evidence), the queue, claims, rubric reviews and verdicts.

Plain functions with keyword-only arguments; they flush, the caller commits."""

import json
import shutil
import struct
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.config import Settings
from app.db import utcnow
from app.lab import paths
from app.lab.models import JobStatus, LoraModel, LoraModelEpoch, TrainingJob
from app.review import exceptions as exc
from app.review.models import Review, Submission, SubmissionStatus, Verdict
from app.review.schemas import CRITERIA, CRITERION_LABELS, LOW_MARK, ReviewIn

FILTERS = ("waiting", "mine", "done")
GENERATE_SEED = 123456  # every reviewer prompt on one seed, so images compare fairly
MAX_HEADER = 100 * 1024 * 1024  # a safetensors JSON header larger than this is not a LoRA


# ---- reading the LoRA's own metadata ----


def read_safetensors_metadata(path: Path) -> dict[str, str]:
    """The `__metadata__` strings of a .safetensors file, read from its JSON header (no torch)."""
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) != 8:
            return {}
        (length,) = struct.unpack("<Q", raw)
        if length > MAX_HEADER:
            return {}
        header = json.loads(fh.read(length) or b"{}")
    meta = header.get("__metadata__") or {}
    return {str(k): str(v) for k, v in meta.items()}


def training_settings(metadata: dict[str, str]) -> dict[str, str]:
    """The kohya `ss_*` keys: what the reviewer reads as the training settings."""
    return {k: v for k, v in sorted(metadata.items()) if k.startswith("ss_")}


# ---- submitting ----


def _owned_model(db: Session, user: User, model_id: int) -> LoraModel:
    model = db.get(LoraModel, model_id)
    if model is None or model.user_id != user.id:
        raise exc.ModelNotFound()
    return model


def epoch_rows(*, db: Session, model: LoraModel) -> list[LoraModelEpoch]:
    """The model's saved epochs in order."""
    return list(
        db.scalars(
            select(LoraModelEpoch).where(LoraModelEpoch.job_id == model.job_id).order_by(LoraModelEpoch.epoch)
        )
    )


def default_epoch(*, db: Session, model: LoraModel) -> int | None:
    """The epoch a submission takes unless the learner picks one: the recommended, else the last."""
    epochs = [e.epoch for e in epoch_rows(db=db, model=model)]
    if model.recommended_epoch in epochs:
        return model.recommended_epoch
    return epochs[-1] if epochs else None


def open_submission(*, db: Session, model_id: int) -> Submission | None:
    """The model's submission still in review, if any."""
    return db.scalar(
        select(Submission).where(
            Submission.model_id == model_id,
            Submission.status.in_([SubmissionStatus.waiting, SubmissionStatus.claimed]),
        )
    )


def is_approved(*, db: Session, model_id: int) -> bool:
    """True when an art director approved a submission of this model (the community badge)."""
    return (
        db.scalar(
            select(Submission.id)
            .where(Submission.model_id == model_id, Submission.status == SubmissionStatus.approved)
            .limit(1)
        )
        is not None
    )


def submit(
    *, db: Session, settings: Settings, user: User, model_id: int, note: str = "", epoch: int | None = None
) -> Submission:
    """Queue one epoch of the learner's model for review, freezing its LoRA file, samples,
    sweep row and scores under the learner's folder. One open submission per model."""
    model = _owned_model(db, user, model_id)
    if is_approved(db=db, model_id=model.id):
        raise exc.AlreadyApproved()
    current = open_submission(db=db, model_id=model.id)
    if current is not None:
        raise exc.AlreadyOpen(current.round)
    rows = epoch_rows(db=db, model=model)
    epoch = epoch or default_epoch(db=db, model=model)
    chosen = next((r for r in rows if r.epoch == epoch), None)
    if chosen is None:
        raise exc.EpochNotFound(epoch or 0, [r.epoch for r in rows])
    last_round = db.scalar(select(func.max(Submission.round)).where(Submission.user_id == user.id)) or 0
    sub = Submission(
        user_id=user.id,
        model_id=model.id,
        round=last_round + 1,
        epoch=chosen.epoch,
        note=note,
        status=SubmissionStatus.waiting,
        folder="",
        lora_file="",
        snapshot={},
        settings={},
    )
    try:
        with db.begin_nested():
            db.add(sub)
    except IntegrityError:
        # Two submits raced: the database kept one (one open per model, one per round).
        raise exc.AlreadyOpen(last_round + 1) from None
    sub.folder = str(paths.submission_folder(user.id, sub.id))
    target = settings.data_dir / sub.folder
    try:
        sub.lora_file, sub.settings = _freeze_lora(settings, model, chosen, target)
        sub.snapshot = _snapshot(db, settings, model, chosen, rows, target)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # nothing half-written stays behind
        raise
    db.flush()
    return sub


def _source(settings: Settings, relative: str | None) -> Path | None:
    if not relative:
        return None
    path = (settings.data_dir / relative).resolve()
    if not path.is_relative_to(settings.data_dir.resolve()) or not path.is_file():
        return None
    return path


def _freeze_lora(settings: Settings, model: LoraModel, row: LoraModelEpoch, target: Path) -> tuple[str, dict]:
    """The epoch's kohya file (it carries the ss_* settings); the diffusers file of a model
    without one (FLUX.1)."""
    kohya = bool(row.kohya_path)
    source = _source(settings, row.kohya_path if kohya else row.diffusers_path)
    if source is None:
        raise exc.LoraFileMissing(row.epoch)
    name = f"{model.name}-e{row.epoch:03d}{'' if kohya else '_diffusers'}.safetensors"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / name)
    return name, training_settings(read_safetensors_metadata(target / name))


def _copy(settings: Settings, relative: str | None, target: Path, name: str) -> str | None:
    """Copy one evidence file into the submission folder; None when it is gone."""
    source = _source(settings, relative)
    if source is None:
        return None
    (target / name).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / name)
    return name


def _snapshot(db, settings, model: LoraModel, chosen: LoraModelEpoch, rows, target: Path) -> dict[str, Any]:
    samples = []
    for r in rows:
        name = _copy(settings, r.sample_path, target, f"samples/epoch-{r.epoch:03d}.png")
        if name:
            samples.append({"epoch": r.epoch, "file": name, "loss": r.loss, "step": r.step})
    job = db.get(TrainingJob, model.job_id)
    return {
        "model": {
            "name": model.name,
            "trigger": model.trigger,
            "class_word": model.class_word,
            "family": model.family,
            "base_model": model.base_model,  # None: the tiny demo base (its samples are noise)
            "steps": model.steps,
            "final_loss": model.final_loss,
            "job_id": model.job_id,
            "epochs": [r.epoch for r in rows],
        },
        "epoch": {"epoch": chosen.epoch, "step": chosen.step, "loss": chosen.loss},
        "scores": model.scores,
        "recommended_epoch": model.recommended_epoch,
        "recommended_strength": model.recommended_strength,
        "samples": samples,
        "crops": _training_crops(settings, job) if job else [],
        "sweep": _freeze_sweep(db, settings, model, chosen.epoch, target),
    }


def _training_crops(settings: Settings, job: TrainingJob) -> list[dict[str, str]]:
    """The crops the LoRA was trained on: the job's prepared inputs (exactly what the trainer saw),
    else the dataset crops its snapshot names; captions from the snapshot."""
    captions = [im.get("caption", "") for im in job.images or []]
    inputs = sorted(paths.job_inputs_dir(settings.data_dir, job.user_id, job.id).glob("*.png"))
    if inputs:
        crops = [str(p.relative_to(settings.data_dir)) for p in inputs]
    else:
        crops = [im.get("path", "") for im in job.images or []]
    return [{"path": p, "caption": captions[i] if i < len(captions) else ""} for i, p in enumerate(crops)]


def _freeze_sweep(db, settings: Settings, model: LoraModel, epoch: int, target: Path) -> dict | None:
    """The newest finished sweep's grid, base images and the submitted epoch's row, copied."""
    from app.evaluate.models import Sweep

    sweep = db.scalar(
        select(Sweep)
        .join(TrainingJob, TrainingJob.id == Sweep.job_id)
        .where(Sweep.model_id == model.id, TrainingJob.status == JobStatus.succeeded)
        .order_by(Sweep.id.desc())
        .limit(1)
    )
    if sweep is None or not sweep.result:
        return None
    result = sweep.result

    def copy(name: str) -> str | None:
        return _copy(settings, str(Path(sweep.folder) / name), target, f"sweep/{name}")

    row = [
        {"strength": c["strength"], "images": [n for n in map(copy, c["images"]) if n], "scores": c["scores"]}
        for c in result.get("cells", [])
        if c["epoch"] == epoch
    ]
    rec = result.get("recommendation") or {}
    return {
        "id": sweep.id,
        "seed": result.get("seed"),
        "steps": result.get("steps"),
        "prompts": result.get("prompts", []),
        "epochs": result.get("epochs", []),
        "strengths": result.get("strengths", []),
        "recommendation": rec,
        "grid": copy(result.get("grid", "grid.png")),
        "base_images": [n for n in map(copy, result.get("base_images", [])) if n],
        "row": sorted(row, key=lambda c: c["strength"]),
        "epoch_scores": (result.get("per_epoch") or {}).get(str(epoch)),
        "hint_strength": rec.get("strength", 0.8) if rec.get("epoch") == epoch else 0.8,
    }


# ---- reading submissions ----


def get_viewable(*, db: Session, user: User, submission_id: int) -> Submission:
    """The submission for its learner and for reviewers; SubmissionNotFound for anyone else."""
    sub = db.get(Submission, submission_id)
    if sub is None or not (sub.user_id == user.id or user.has_role(Role.reviewer)):
        raise exc.SubmissionNotFound()
    return sub


def learner_submissions(*, db: Session, user_id: int) -> list[Submission]:
    """Every round of the learner, newest first."""
    return list(
        db.scalars(select(Submission).where(Submission.user_id == user_id).order_by(Submission.round.desc()))
    )


def model_submissions(*, db: Session, model_id: int) -> list[Submission]:
    """The model's submissions, newest first."""
    return list(
        db.scalars(select(Submission).where(Submission.model_id == model_id).order_by(Submission.id.desc()))
    )


def names(*, db: Session, user_ids: set[int | None]) -> dict[int, str]:
    """Display names by user id."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def model_names(*, db: Session, model_ids: set[int]) -> dict[int, str]:
    """Model names by id."""
    if not model_ids:
        return {}
    return dict(db.execute(select(LoraModel.id, LoraModel.name).where(LoraModel.id.in_(model_ids))).all())


def learner_status(*, db: Session, user_id: int) -> str | None:
    """What the course's last node shows: "approved" once any model is approved, else the latest
    round's status ("waiting", "claimed", "changes_requested"), None before a first submission."""
    if db.scalar(
        select(Submission.id)
        .where(Submission.user_id == user_id, Submission.status == SubmissionStatus.approved)
        .limit(1)
    ):
        return SubmissionStatus.approved.value
    latest = db.scalar(
        select(Submission.status)
        .where(Submission.user_id == user_id)
        .order_by(Submission.round.desc())
        .limit(1)
    )
    return latest.value if latest is not None else None


def unseen_verdicts(*, db: Session, user_id: int) -> int:
    """Verdicts on the learner's submissions they have not opened yet (the nav notification)."""
    return db.scalar(
        select(func.count(Submission.id)).where(
            Submission.user_id == user_id,
            Submission.decided_at.is_not(None),
            Submission.verdict_seen_at.is_(None),
        )
    )


def mark_verdicts_seen(*, db: Session, user: User, submissions: list[Submission]) -> None:
    """The learner has now read these verdicts."""
    now = utcnow()
    for sub in submissions:
        if sub.user_id == user.id and sub.decided_at is not None and sub.verdict_seen_at is None:
            sub.verdict_seen_at = now
    db.flush()


# ---- the queue ----


def queue(*, db: Session, user: User, filter: str = "waiting", limit: int = 200) -> list[Submission]:
    """Reviewer queue, oldest first: waiting (unclaimed), mine (claimed by me, open) or done (decided)."""
    query = select(Submission)
    if filter == "mine":
        query = query.where(Submission.status == SubmissionStatus.claimed, Submission.reviewer_id == user.id)
    elif filter == "done":
        query = query.where(
            Submission.status.in_([SubmissionStatus.approved, SubmissionStatus.changes_requested])
        )
    else:
        query = query.where(Submission.status == SubmissionStatus.waiting)
    return list(db.scalars(query.order_by(Submission.submitted_at, Submission.id).limit(limit)))


def queue_counts(*, db: Session, user: User) -> dict[str, int]:
    """How many submissions each queue filter holds for this reviewer."""
    waiting, mine, done = db.execute(
        select(
            func.count(case((Submission.status == SubmissionStatus.waiting, 1))),
            func.count(
                case(
                    ((Submission.status == SubmissionStatus.claimed) & (Submission.reviewer_id == user.id), 1)
                )
            ),
            func.count(
                case(
                    (
                        Submission.status.in_(
                            [SubmissionStatus.approved, SubmissionStatus.changes_requested]
                        ),
                        1,
                    )
                )
            ),
        )
    ).one()
    return {"waiting": waiting, "mine": mine, "done": done}


# ---- claims and reviews ----


def _ensure_not_own(user: User, sub: Submission) -> None:
    if sub.user_id == user.id:
        raise exc.OwnSubmission()


def claim(*, db: Session, user: User, submission: Submission) -> Submission:
    """Take a waiting submission for this reviewer; a guarded UPDATE lets exactly one claimant win."""
    _ensure_not_own(user, submission)
    taken = db.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == SubmissionStatus.waiting)
        .values(status=SubmissionStatus.claimed, reviewer_id=user.id, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.flush()
    db.refresh(submission)
    if not taken:
        if submission.status == SubmissionStatus.claimed and submission.reviewer_id == user.id:
            return submission  # claiming twice is harmless
        if not submission.status.is_open:
            raise exc.AlreadyDecided()
        raise exc.AlreadyClaimed(names(db=db, user_ids={submission.reviewer_id}).get(submission.reviewer_id))
    return submission


def release(*, db: Session, user: User, submission: Submission) -> Submission:
    """Give a claimed submission back to the waiting queue (the claimant, or an admin)."""
    query = update(Submission).where(
        Submission.id == submission.id, Submission.status == SubmissionStatus.claimed
    )
    if user.role != Role.admin:
        query = query.where(Submission.reviewer_id == user.id)
    changed = db.execute(
        query.values(status=SubmissionStatus.waiting, reviewer_id=None, claimed_at=None).execution_options(
            synchronize_session=False
        )
    ).rowcount
    db.flush()
    db.refresh(submission)
    if not changed:
        raise exc.NotYourClaim()
    return submission


def rubric_problems(data: ReviewIn) -> list[str]:
    """What a review still needs: a comment for each mark of 2 or less, and an overall comment
    when asking for changes (the learner must know what to change)."""
    problems = []
    for name in CRITERIA:
        mark = getattr(data.scores, name)
        if mark <= LOW_MARK and not data.comments.get(name):
            problems.append(f"{CRITERION_LABELS[name]} got {mark}/5: say what is wrong in its comment.")
    if data.verdict == Verdict.changes_requested and not data.comment:
        problems.append("Requesting changes needs an overall comment telling the learner what to change.")
    return problems


def review(*, db: Session, user: User, submission: Submission, data: ReviewIn) -> Review:
    """Record the rubric and verdict. The reviewer must hold the claim (a waiting submission is
    claimed on the way); a missing required comment refuses the whole review."""
    _ensure_not_own(user, submission)
    problems = rubric_problems(data)
    if problems:
        raise exc.RubricIncomplete(problems)
    if submission.status == SubmissionStatus.waiting:
        claim(db=db, user=user, submission=submission)
    status = SubmissionStatus(data.verdict.value)
    decided = db.execute(
        update(Submission)
        .where(
            Submission.id == submission.id,
            Submission.status == SubmissionStatus.claimed,
            Submission.reviewer_id == user.id,
        )
        .values(status=status, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.flush()
    db.refresh(submission)
    if not decided:
        if not submission.status.is_open:
            raise exc.AlreadyDecided()
        raise exc.AlreadyClaimed(names(db=db, user_ids={submission.reviewer_id}).get(submission.reviewer_id))
    row = Review(
        submission_id=submission.id,
        reviewer_id=user.id,
        reviewer_name=user.display_name,
        **data.scores.model_dump(),
        comments={k: v for k, v in data.comments.items() if v},
        verdict=data.verdict,
        comment=data.comment,
    )
    db.add(row)
    db.flush()
    return row


def review_of(*, db: Session, submission: Submission) -> Review | None:
    """The submission's review, if it has one."""
    return db.scalar(select(Review).where(Review.submission_id == submission.id))


# ---- files ----


def _inside(base: Path, path: Path) -> bool:
    return path.is_relative_to(base) and path.is_file()


def frozen_file(*, settings: Settings, submission: Submission, name: str) -> Path:
    """A file of the submission's frozen evidence, by its name inside the folder."""
    folder = (settings.data_dir / submission.folder).resolve()
    path = (folder / name).resolve()
    if ".." in Path(name).parts or not _inside(folder, path):
        raise exc.FileGone()
    return path


def lora_path(*, settings: Settings, submission: Submission) -> Path:
    """The frozen LoRA file."""
    return frozen_file(settings=settings, submission=submission, name=submission.lora_file)


def crop_file(*, settings: Settings, submission: Submission, index: int) -> Path:
    """One training crop of the submitted model, only from the learner's own folder."""
    crops = submission.snapshot.get("crops") or []
    if not 0 <= index < len(crops) or not crops[index].get("path"):
        raise exc.FileGone()
    base = paths.user_dir(settings.data_dir, submission.user_id).resolve()
    path = (settings.data_dir / crops[index]["path"]).resolve()
    if not _inside(base, path):
        raise exc.FileGone()
    return path


def crops_on_disk(*, settings: Settings, submission: Submission) -> list[tuple[int, dict[str, str]]]:
    """(index, crop) of the training crops still stored; the others were deleted after training
    (the learner's privacy setting) or with their dataset."""
    kept = []
    for index, crop in enumerate(submission.snapshot.get("crops") or []):
        try:
            path = crop_file(settings=settings, submission=submission, index=index)
        except exc.FileGone:
            continue
        if path.is_file():
            kept.append((index, crop))
    return kept


# ---- the reviewer's own prompts ----


def generate(
    *, db: Session, settings: Settings, user: User, submission: Submission, prompt: str, strength: float
):
    """One image from the submitted epoch with the reviewer's prompt, on the fixed review seed."""
    from app.evaluate import service as evaluate_service

    model = db.get(LoraModel, submission.model_id)
    return evaluate_service.generate(
        db=db,
        settings=settings,
        model=model,
        user=user,
        prompt=prompt,
        strength=strength,
        seed=GENERATE_SEED,
        epoch=submission.epoch,
    )


def generations(*, db: Session, submission: Submission, limit: int = 8) -> list:
    """Images made from the submitted epoch since it was submitted, newest first."""
    from app.evaluate.models import Generation

    return list(
        db.scalars(
            select(Generation)
            .where(
                Generation.model_id == submission.model_id,
                Generation.epoch == submission.epoch,
                Generation.created_at >= submission.submitted_at,
            )
            .order_by(Generation.id.desc())
            .limit(limit)
        )
    )


# ---- JSON ----


def review_out(row: Review):
    """A review as JSON."""
    from app.review.schemas import ReviewOut, RubricScores

    return ReviewOut(
        id=row.id,
        submission_id=row.submission_id,
        reviewer=row.reviewer_name,
        scores=RubricScores(**{name: getattr(row, name) for name in CRITERIA}),
        comments=row.comments or {},
        verdict=row.verdict,
        comment=row.comment,
        created_at=row.created_at,
    )


def rounds(*, db: Session, user_id: int) -> list:
    """The learner's every round, oldest first, each with its verdict and overall comment."""
    from app.review.schemas import RoundOut

    subs = sorted(learner_submissions(db=db, user_id=user_id), key=lambda s: s.round)
    reviews = {
        r.submission_id: r
        for r in db.scalars(select(Review).where(Review.submission_id.in_([s.id for s in subs])))
    }
    models = model_names(db=db, model_ids={s.model_id for s in subs})
    return [
        RoundOut(
            id=s.id,
            round=s.round,
            model_id=s.model_id,
            model_name=models.get(s.model_id, ""),
            epoch=s.epoch,
            status=s.status,
            submitted_at=s.submitted_at,
            decided_at=s.decided_at,
            verdict=reviews[s.id].verdict if s.id in reviews else None,
            comment=reviews[s.id].comment if s.id in reviews else None,
        )
        for s in subs
    ]


def submission_out(*, db: Session, submission: Submission):
    """The submission with its frozen evidence, its review and the learner's every round."""
    from app.review.schemas import SubmissionOut

    who = names(db=db, user_ids={submission.user_id, submission.reviewer_id})
    row = review_of(db=db, submission=submission)
    return SubmissionOut(
        id=submission.id,
        model_id=submission.model_id,
        model_name=model_names(db=db, model_ids={submission.model_id}).get(submission.model_id, ""),
        learner=who.get(submission.user_id, ""),
        round=submission.round,
        epoch=submission.epoch,
        note=submission.note,
        status=submission.status,
        submitted_at=submission.submitted_at,
        claimed_at=submission.claimed_at,
        decided_at=submission.decided_at,
        reviewer=who.get(submission.reviewer_id) if submission.reviewer_id else None,
        review=review_out(row) if row else None,
        snapshot=submission.snapshot,
        settings=submission.settings,
        lora_url=f"/api/submissions/{submission.id}/lora",
        rounds=rounds(db=db, user_id=submission.user_id),
    )


def queue_items(*, db: Session, submissions: list[Submission]) -> list:
    """Queue rows as the contract lists them."""
    from app.review.schemas import QueueItem

    who = names(db=db, user_ids={s.user_id for s in submissions} | {s.reviewer_id for s in submissions})
    models = model_names(db=db, model_ids={s.model_id for s in submissions})
    return [
        QueueItem(
            id=s.id,
            model_id=s.model_id,
            learner=who.get(s.user_id, ""),
            submitted_at=s.submitted_at,
            status=s.status,
            round=s.round,
            epoch=s.epoch,
            model_name=models.get(s.model_id, ""),
            reviewer=who.get(s.reviewer_id) if s.reviewer_id else None,
        )
        for s in submissions
    ]


# ---- the course's node map ----


def node_milestone(db: Session, user_id: int) -> str | None:
    """Lesson 8's node label: "approved" once an art director approved one of the learner's LoRAs."""
    return "approved" if learner_status(db=db, user_id=user_id) == SubmissionStatus.approved.value else None
