"""What to change next: from a sweep's scores and the run's settings, one or two concrete
changes that name settings, each with the lesson that explains it. Pure: plain dicts in, plain
values out (no model, no database)."""

from dataclasses import asdict, dataclass, field

from app.trainer.metrics import LIKENESS_WARN

MAX_SUGGESTIONS = 2


@dataclass(frozen=True)
class Suggestion:
    """One change to try in the next run."""

    title: str  # e.g. "Train longer"
    reason: str  # what the scores showed, one sentence
    changes: dict = field(default_factory=dict)  # {setting: new value}, by POST /api/jobs names
    lesson: int = 6  # the lesson that explains the dial

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return asdict(self)


def _values(cells: list[dict], name: str) -> list[float]:
    return [c["scores"][name]["value"] for c in cells if c["scores"].get(name, {}).get("value") is not None]


def _bands(cells: list[dict], name: str) -> list[str]:
    return [c["scores"].get(name, {}).get("band", "unknown") for c in cells]


def _epochs_of(config: dict) -> int:
    return int(config.get("epochs") or 10)


def suggest(result: dict | None, config: dict) -> list[Suggestion]:
    """Up to two suggestions, most important first; none when nothing was measured."""
    if not result or not result.get("cells"):
        return []
    cells = result["cells"]
    epochs = sorted(result.get("epochs") or {c["epoch"] for c in cells})
    by_epoch = {e: [c for c in cells if c["epoch"] == e] for e in epochs}
    lr = float(config.get("learning_rate") or 1e-4)
    found: list[Suggestion] = []

    fried_late = "bad" in _bands(by_epoch[epochs[-1]], "deep_fried")
    if fried_late:
        found.append(
            Suggestion(
                "Lower the learning rate",
                "The last epoch's pictures are deep-fried (burnt colour, harsh contrast): each step moved too far.",
                {"learning_rate": round(lr / 2, 8)},
                6,
            )
        )

    copying = {e: "bad" in _bands(by_epoch[e], "copying") for e in epochs}
    ignored = {e: "bad" in _bands(by_epoch[e], "prompt_following") for e in epochs}
    overfit = [e for e in epochs if copying[e] or ignored[e]]
    if overfit and len(epochs) > 1 and overfit[0] > epochs[0]:
        clean = [e for e in epochs if e < overfit[0]]
        what = "copies training photos" if copying[overfit[0]] else "stops following prompts"
        found.append(
            Suggestion(
                "Stop earlier",
                f"From epoch {overfit[0]} the LoRA {what}: use epoch {clean[-1]}, or train {clean[-1]} epochs.",
                {"epochs": clean[-1]},
                8,
            )
        )
    elif overfit:
        total = _epochs_of(config)
        found.append(
            Suggestion(
                "Train fewer epochs",
                "Every epoch in the sweep already over-fits (copies photos or ignores prompts).",
                {"epochs": max(1, total // 2)},
                6,
            )
        )

    likeness = _values(cells, "likeness")
    if likeness and max(likeness) < LIKENESS_WARN and not fried_late:
        change = (
            {"learning_rate": round(lr * 2, 8)}
            if lr < 2e-4
            else {"epochs": int(round(_epochs_of(config) * 1.5))}
        )
        dial = "a higher learning rate" if "learning_rate" in change else "more epochs"
        found.append(
            Suggestion(
                "Train longer or harder",
                f"Likeness stays below {LIKENESS_WARN:.2f} at every epoch and strength: the face is not learned yet; "
                f"try {dial}.",
                change,
                6,
            )
        )
    return found[:MAX_SUGGESTIONS]
