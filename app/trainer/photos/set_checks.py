"""Checks of the set as a whole, over each photo's stored measurements (no pixels): identity
against the set's median face, near-duplicates, the count and the variety of angles, light and
expression, and the one-sentence summary. They run after the per-photo checks of `checks`, and
again whenever the learner changes which photos count ("keep anyway")."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.trainer import faces
from app.trainer.photos.checks import (
    DAYLIGHT_WANTED,
    LESSON_DATASET,
    MAX_IMAGES,
    MIN_IMAGES,
    NEAR_DUPLICATE_WITHIN,
    RECOMMENDED,
    SAME_PERSON_WITHIN,
    PhotoAnalysis,
    Problem,
)


@dataclass
class SetReport:
    photos: list[PhotoAnalysis]
    problems: list[Problem]  # about the set as a whole
    summary: str

    @property
    def usable(self) -> bool:
        """Enough accepted photos and no set-level error."""
        return not any(p.severity == "error" for p in self.problems)

    @property
    def accepted(self) -> list[PhotoAnalysis]:
        """The photos that go into training."""
        return [p for p in self.photos if p.accepted]


def check_set(photos: list[PhotoAnalysis]) -> SetReport:
    """Set-level checks (identity, near-duplicates, count, variety) and the summary sentence."""
    import imagehash

    _mark_near_duplicates(photos, imagehash)
    _mark_other_people(photos)
    accepted = [p for p in photos if p.accepted]
    problems: list[Problem] = []
    n = len(accepted)
    if n < MIN_IMAGES:
        problems.append(
            Problem(
                "too_few",
                f"Only {n} usable photos: at least {MIN_IMAGES} are needed, {RECOMMENDED[0]}-{RECOMMENDED[1]} is best.",
                LESSON_DATASET,
            )
        )
    elif n < RECOMMENDED[0]:
        problems.append(
            Problem(
                "few",
                f"{n} usable photos: {RECOMMENDED[0]}-{RECOMMENDED[1]} give the model more to learn from.",
                LESSON_DATASET,
                "warning",
            )
        )
    elif n > MAX_IMAGES:
        problems.append(
            Problem(
                "too_many",
                f"{n} photos: more than {MAX_IMAGES} adds training time, not likeness. Keep the best {RECOMMENDED[1]}.",
                LESSON_DATASET,
            )
        )
    elif n > RECOMMENDED[1]:
        problems.append(
            Problem(
                "many",
                f"{n} photos: {RECOMMENDED[0]}-{RECOMMENDED[1]} of the best are usually enough.",
                LESSON_DATASET,
                "warning",
            )
        )
    poses = Counter(p.pose for p in accepted)
    if n >= 3 and poses["front"] == n:
        problems.append(
            Problem(
                "same_angle",
                "Every photo faces the camera: add three-quarter and profile shots so the model learns the face from the side.",
                LESSON_DATASET,
                "warning",
            )
        )
    lights = Counter(p.lighting for p in accepted)
    if n >= 3 and len(lights) == 1:
        problems.append(
            Problem(
                "same_lighting",
                f"Every photo is in {next(iter(lights))}: vary the light so it is not learned as part of the face.",
                LESSON_DATASET,
                "warning",
            )
        )
    expressions = Counter(p.expression for p in accepted)
    if n >= 5 and len(expressions) == 1:
        problems.append(
            Problem(
                "same_expression",
                "The expression never changes: add a few smiling and a few neutral shots.",
                LESSON_DATASET,
                "warning",
            )
        )
    return SetReport(photos=photos, problems=problems, summary=summary(accepted))


def _mark_near_duplicates(photos: list[PhotoAnalysis], imagehash) -> None:
    """Among accepted photos, one that looks like another is a near-duplicate (it weighs that shot
    twice): of each look-alike group the sharper, then larger, photo stays; a rejected photo never
    counts as the original."""
    for photo in photos:
        photo.problems = [p for p in photo.problems if p.code != "near_duplicate"]
    candidates = [p for p in photos if p.phash and p.accepted]
    best_first = sorted(candidates, key=lambda p: (-p.sharpness, -(p.size[0] * p.size[1]), photos.index(p)))
    kept: list[tuple[Any, PhotoAnalysis]] = []
    for photo in best_first:
        current = imagehash.hex_to_hash(photo.phash)
        twin = next((other for h, other in kept if current - h <= NEAR_DUPLICATE_WITHIN), None)
        if twin is None:
            kept.append((current, photo))
            continue
        photo.problems.append(
            Problem(
                "near_duplicate",
                f"Almost the same picture as {twin.filename}, which is sharper or larger and stays; one of them is enough.",
                LESSON_DATASET,
            )
        )


def _mark_other_people(photos: list[PhotoAnalysis]) -> None:
    """Compare each face with the set's median face; far from it means someone else."""
    for photo in photos:
        photo.problems = [p for p in photo.problems if p.code != "different_person"]
    faced = [p for p in photos if p.embedding is not None and p.accepted]
    if len(faced) < 3:
        return
    median = np.median(np.array([p.embedding for p in faced]), axis=0)
    for photo in faced:
        if faces.face_distance(np.array(photo.embedding), median) > SAME_PERSON_WITHIN:
            photo.problems.append(
                Problem(
                    "different_person",
                    "This looks like a different person from the rest of the set; use one person only.",
                    LESSON_DATASET,
                )
            )


def summary(accepted: list[PhotoAnalysis]) -> str:
    """One sentence: how many usable photos by angle, how many more, and what variety would help."""
    n = len(accepted)
    poses = Counter(p.pose for p in accepted)
    head = f"{n} usable photo{'s' if n != 1 else ''}"
    if n:
        head += ": " + ", ".join(f"{poses[k]} {k}" for k in ("front", "three-quarter", "profile"))
    parts = [head]
    if n < RECOMMENDED[0]:
        more = RECOMMENDED[0] - n
        parts.append(f"add {more} more photo{'s' if more != 1 else ''}")
    helps = []
    if n and poses["three-quarter"] < 2:
        k = 2 - poses["three-quarter"]
        helps.append(f"{k} three-quarter view{'s' if k != 1 else ''}")
    if n and poses["profile"] < 1:
        helps.append("1 profile")
    daylight = sum(1 for p in accepted if p.lighting == "daylight")
    if n and daylight < DAYLIGHT_WANTED:
        k = DAYLIGHT_WANTED - daylight
        helps.append(f"{k} in daylight")
    if helps:
        listed = helps[0] if len(helps) == 1 else ", ".join(helps[:-1]) + " and " + helps[-1]
        parts.append(f"{listed} would help")
    return "; ".join(parts)
