"""The sweep's pick: the epoch and strength to use, and a paragraph of reasoning in the lessons'
terms (why this cell, and what goes wrong in the others)."""

from collections.abc import Sequence
from dataclasses import dataclass

from app.trainer import metrics
from app.trainer.metrics import Score
from app.trainer.sweep_scores import Cell


@dataclass(frozen=True)
class Recommendation:
    epoch: int
    strength: float
    reasoning: str
    acceptable: bool  # False: every cell shows over-fitting; the pick is the least bad


def _value(score: Score) -> float:
    return score.value if score.value is not None else 0.0


def recommend(cells: Sequence[Cell], name: str = "face_lora") -> Recommendation:
    """The cell with the best likeness among those that follow prompts, do not copy and are not
    deep-fried; ties go to the strength nearest 0.8 (lesson 8's default), then the earlier epoch."""

    def key(c: Cell):
        return (
            round(_value(c.scores["likeness"]), 2),
            -round(_value(c.scores["deep_fried"]), 1),
            -abs(c.strength - 0.8),
            -c.epoch,
        )

    clean = [c for c in cells if not metrics.problems(c.scores)]
    if clean:
        best = max(clean, key=key)
    else:  # least bad: fewest problems, then the same order
        best = max(cells, key=lambda c: (-len(metrics.problems(c.scores)), *key(c)))
    return Recommendation(best.epoch, best.strength, _reasoning(best, cells, bool(clean), name), bool(clean))


def _cell_phrase(c: Cell) -> str:
    like = c.scores["likeness"]
    parts = []
    if like.value is None:
        parts.append("likeness not measurable")
    else:
        found, total = like.details.get("faces_found", 0), like.details.get("images", 0)
        parts.append(f"likeness {like.value:.2f} ({found} of {total} faces found)")
    follow = c.scores["prompt_following"]
    if follow.value is not None:
        parts.append(
            "prompts followed"
            if follow.band == "good"
            else "prompts partly followed"
            if follow.band == "warn"
            else "prompts ignored"
        )
    copy = c.scores["copying"]
    parts.append(
        "copying not measurable"
        if copy.value is None
        else f"copies training photo {copy.details.get('training_photo')}"
        if copy.band == "bad"
        else "no copying"
    )
    fried = c.scores["deep_fried"]
    parts.append(
        "colour not measurable"
        if fried.value is None
        else "deep-fried colour"
        if fried.band == "bad"
        else "strong colour"
        if fried.band == "warn"
        else "natural colour"
    )
    return ", ".join(parts)


def _first_problem(cells: Sequence[Cell]) -> str | None:
    """What goes wrong first in these cells, in words ("starts copying training photo 4")."""
    for c in sorted(cells, key=lambda c: c.strength):
        bad = metrics.problems(c.scores)
        if "copying" in bad:
            return f"starts copying training photo {c.scores['copying'].details.get('training_photo')} at {c.strength:g}"
        if "prompt_following" in bad:
            return f"stops following prompts at {c.strength:g}"
        if "deep_fried" in bad:
            return f"turns deep-fried at {c.strength:g}"
    return None


def _reasoning(best: Cell, cells: Sequence[Cell], clean: bool, name: str) -> str:
    """One paragraph in lesson 6/8 terms: why this epoch and strength, and what the others do."""
    sentences = [f"Epoch {best.epoch} at {best.strength:g}: {_cell_phrase(best)}."]
    faces_anywhere = any(c.scores["likeness"].details.get("faces_found", 0) for c in cells)
    by_epoch: dict[int, list[Cell]] = {}
    for c in cells:
        by_epoch.setdefault(c.epoch, []).append(c)
    for epoch in sorted(by_epoch):
        if epoch == best.epoch:
            continue
        problem = _first_problem(by_epoch[epoch])
        top = max(_value(c.scores["likeness"]) for c in by_epoch[epoch])
        if problem:
            sentences.append(f"Epoch {epoch} {problem}.")
        elif not faces_anywhere:
            continue
        elif epoch < best.epoch and top < _value(best.scores["likeness"]):
            sentences.append(f"Epoch {epoch} is less alike (best likeness {top:.2f}): still under-fit.")
        elif epoch > best.epoch:
            sentences.append(
                f"Epoch {epoch} adds no likeness (best {top:.2f}), so the earlier, less over-fit epoch wins."
            )
    if not faces_anywhere and best.scores["likeness"].value is not None:
        sentences.append(
            "No face was found in any generated image, so likeness could not decide; the pick rests on "
            "the over-fitting scores alone."
        )
    if best.scores["likeness"].value is None:
        sentences.append("No face was found in the training photos, so likeness could not decide.")
    if not clean:
        sentences.append(
            "Every cell shows over-fitting (lesson 6: too many epochs or too high a learning rate); "
            "this is the least bad one. Train again with fewer epochs or a lower learning rate."
        )
    sentences.append(
        f"Use it as <lora:{name}:{best.strength:g}>; lower towards 0.5-0.7 if results look rigid, "
        "raise to 1.0-1.1 if the face does not come through (lesson 8)."
    )
    return " ".join(sentences)
