"""The four scores of a sweep cell (likeness, copying, prompt following, deep-fried), measured
against the training photos, and each epoch's summary across its strengths."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image

from app.trainer import faces, metrics
from app.trainer.metrics import Score

SCORE_NAMES = ("likeness", "copying", "prompt_following", "deep_fried")


def face_identity(image: Image.Image):
    """The 128-d embedding of the largest face, or None when no face is found (a miss)."""
    # Demo-size images (128 px) hold faces below the detector's 80 px window: look closer.
    upsample = 2 if max(image.size) < 300 else None
    found = faces.detect_faces(image, upsample=upsample)
    return faces.face_embedding(image, found[0]) if found else None


@dataclass(frozen=True)
class TrainingSet:
    """What the scores compare against: each training photo's hash and face, and their mean face."""

    hashes: list
    embeddings: list
    reference: object  # mean embedding, None when no face was found

    @classmethod
    def from_images(cls, images: Sequence[Image.Image], identity: Callable = face_identity) -> "TrainingSet":
        """Hash and embed every training image once."""
        embeddings = [identity(im) for im in images]
        return cls(
            hashes=[metrics.perceptual_hash(im) for im in images],
            embeddings=embeddings,
            reference=metrics.mean_embedding(embeddings),
        )


def score_cell(
    images: Sequence[Image.Image],
    base_images: Sequence[Image.Image],
    training: TrainingSet,
    identity: Callable = face_identity,
) -> dict[str, Score]:
    """The four scores of one cell (one epoch at one strength, one image per prompt)."""
    embeddings = [identity(im) for im in images]
    return {
        "likeness": metrics.likeness(embeddings, training.reference),
        "copying": metrics.copying(
            images, training.hashes, embeddings=embeddings, training_embeddings=training.embeddings
        ),
        "prompt_following": metrics.prompt_following(images, base_images),
        "deep_fried": metrics.deep_fried(images),
    }


@dataclass
class Cell:
    epoch: int
    strength: float
    images: list[str]  # paths relative to the sweep folder, one per prompt
    scores: dict[str, Score]

    def to_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "strength": self.strength,
            "images": self.images,
            "scores": {k: v.to_dict() for k, v in self.scores.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Cell":
        return cls(
            data["epoch"],
            data["strength"],
            data["images"],
            {k: Score.from_dict(v) for k, v in data["scores"].items()},
        )


def epoch_summary(cells: Sequence[Cell]) -> dict[str, Score]:
    """One epoch's scores across its strengths: its best likeness and its worst over-fitting signs."""
    pick = {
        "likeness": max,
        "copying": max,
        "prompt_following": min,
        "deep_fried": max,
    }
    summary = {}
    for name, choose in pick.items():
        measured = [c.scores[name] for c in cells if c.scores[name].value is not None]
        summary[name] = choose(measured, key=lambda s: s.value) if measured else cells[0].scores[name]
    return summary
