"""Rubric hints from the automatic scores: a suggested mark per criterion with its reason.

Pure functions on the snapshot's score dicts (value, band, details), so a reviewer sees why a
mark is suggested and can overrule it; no hint is given where nothing was measured."""

from dataclasses import dataclass

from app.review.schemas import CRITERIA


@dataclass(frozen=True)
class Hint:
    mark: int
    reason: str


def _mark(value: float, steps: tuple[float, float, float, float], higher_is_better: bool = True) -> int:
    """1-5 from four thresholds, best first."""
    for mark, limit in zip((5, 4, 3, 2), steps, strict=True):
        if (value >= limit) if higher_is_better else (value <= limit):
            return mark
    return 1


def likeness_hint(score: dict | None) -> Hint | None:
    """Likeness: 1 - identity distance to the training faces (dlib: 0.4 is the same-person edge)."""
    if not score or score.get("value") is None:
        return None
    value = score["value"]
    details = score.get("details") or {}
    if details.get("faces_found") == 0:
        return Hint(1, f"likeness {value:.2f}: no face found in the {details.get('images', 0)} images")
    return Hint(_mark(value, (0.6, 0.5, 0.4, 0.25)), f"likeness {value:.2f}")


def consistency_hint(cells: list[dict]) -> Hint | None:
    """Consistency: the share of images, over every scene and strength of the epoch, whose face
    passes as the training person (the scenes change lighting and setting)."""
    images = same = 0
    for cell in cells:
        details = (cell.get("scores", {}).get("likeness") or {}).get("details") or {}
        if "same_person" in details:
            images += int(details.get("images", 0))
            same += int(details.get("same_person", 0))
    if not images:
        return None
    share = same / images
    return Hint(_mark(share, (0.9, 0.7, 0.5, 0.25)), f"{same} of {images} images pass as the same person")


def flexibility_hint(score_follow: dict | None, score_copy: dict | None) -> Hint | None:
    """Flexibility: prompt following, capped by copying (a pasted training shot is not flexible)."""
    marks, reasons = [], []
    if score_follow and score_follow.get("value") is not None:
        value = score_follow["value"]
        marks.append(_mark(value, (0.8, 0.6, 0.45, 0.3)))
        reasons.append(f"prompt following {value:.2f}")
    if score_copy and score_copy.get("band") in ("good", "warn", "bad"):
        marks.append({"good": 5, "warn": 3, "bad": 1}[score_copy["band"]])
        reasons.append(
            "copies a training photo"
            if score_copy["band"] == "bad"
            else "layout close to a training photo"
            if score_copy["band"] == "warn"
            else "no copying"
        )
    if not marks:
        return None
    return Hint(min(marks), ", ".join(reasons))


def image_quality_hint(score: dict | None) -> Hint | None:
    """Image quality: the deep-fried score (burnt colour, clipped tones), lower is better."""
    if not score or score.get("value") is None:
        return None
    value = score["value"]
    return Hint(_mark(value, (0.15, 0.35, 0.5, 0.6), higher_is_better=False), f"deep-fried {value:.2f}")


def rubric_hints(sweep: dict | None) -> dict[str, Hint]:
    """Hints for the submitted epoch from the frozen sweep row: its cell at the recommended strength
    (or the one nearest 0.8) for single scores, the whole row for consistency."""
    if not sweep or not sweep.get("row"):
        return {}
    row = sweep["row"]
    target = sweep.get("hint_strength", 0.8)
    cell = min(row, key=lambda c: abs(c["strength"] - target))
    scores = cell.get("scores", {})
    found = {
        "likeness": likeness_hint(scores.get("likeness")),
        "consistency": consistency_hint(row),
        "flexibility": flexibility_hint(scores.get("prompt_following"), scores.get("copying")),
        "image_quality": image_quality_hint(scores.get("deep_fried")),
    }
    where = f" at strength {cell['strength']:g}"
    return {
        name: Hint(hint.mark, hint.reason + ("" if name == "consistency" else where))
        for name in CRITERIA
        if (hint := found[name]) is not None
    }
