"""Scores that tell a learner whether a LoRA is good: likeness, copying, prompt following and
deep-frying. Pure functions on PIL images and 128-d face embeddings (no model, no database).

Each score comes back as a `Score`: a number, a colour band ("good", "warn", "bad", or
"unknown" when it could not be measured) and one plain sentence a learner can act on."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations

import numpy as np
from PIL import Image

SAME_PERSON_DISTANCE = 0.6  # dlib's own threshold: embeddings closer than this are one person
LIKENESS_GOOD = 0.5  # likeness = 1 - distance; 0.5 is comfortably inside the same-person zone
LIKENESS_WARN = 1 - SAME_PERSON_DISTANCE  # below 0.4 dlib would call it someone else
COPY_HASH_BITS = 10  # pHash bits (of 64) apart: at or below this the composition is a training shot
COPY_WARN_BITS = 16  # unrelated pictures sit near 32 bits; this close shares the layout
COPY_FACE_DISTANCE = 0.12  # a face this close to one training face is that photo's face, not a new one
PROMPT_GOOD = 0.6  # share of the base model's prompt variety kept
PROMPT_WARN = 0.3
FRIED_WARN = 0.35
FRIED_BAD = 0.6
THUMB = 32  # side of the thumbnails compared for prompt following


@dataclass(frozen=True)
class Score:
    """One score of one cell (or epoch): the value, its colour band and a plain sentence."""

    name: str  # "likeness", "copying", "prompt_following" or "deep_fried"
    value: float | None  # None when it could not be measured
    band: str  # "good", "warn", "bad" or "unknown"
    sentence: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Score":
        """The inverse of to_dict."""
        return cls(**data)


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


# ---- likeness ----


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two 128-d face embeddings (dlib: under 0.6 is the same person)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def mean_embedding(embeddings: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """The training set's identity: the mean of the faces found (None when none was)."""
    found = [np.asarray(e, dtype=np.float64) for e in embeddings if e is not None]
    return np.mean(found, axis=0) if found else None


def likeness(embeddings: Sequence[np.ndarray | None], reference: np.ndarray | None) -> Score:
    """How much the generated faces look like the training set: 1 - identity distance to its mean
    embedding, averaged over images; an image without a face counts as 0 (a miss)."""
    total = len(embeddings)
    if reference is None:
        return Score(
            "likeness",
            None,
            "unknown",
            "Likeness could not be measured: no training photo with a face to compare with.",
            {"images": total, "faces_found": 0},
        )
    if total == 0:
        return Score("likeness", None, "unknown", "Likeness could not be measured: no images.", {"images": 0})
    distances = [identity_distance(e, reference) for e in embeddings if e is not None]
    found = len(distances)
    value = sum(max(0.0, 1.0 - d) for d in distances) / total
    same = sum(d < SAME_PERSON_DISTANCE for d in distances)
    details = {
        "images": total,
        "faces_found": found,
        "same_person": same,
        "mean_distance": round(float(np.mean(distances)), 4) if distances else None,
    }
    value = round(value, 4)
    misses = total - found
    if value >= LIKENESS_GOOD:
        band = "good"
        sentence = f"Likeness {value:.2f}: the face matches the training photos ({same} of {total} images pass as the same person)."
    elif value >= LIKENESS_WARN:
        band = "warn"
        sentence = f"Likeness {value:.2f}: a resemblance, but weak ({same} of {total} images pass as the same person)."
    else:
        band = "bad"
        if found == 0:
            sentence = f"Likeness {value:.2f}: no face was found in any of the {total} images, so none counts as a likeness."
        else:
            sentence = f"Likeness {value:.2f}: the face does not come through ({same} of {total} images pass as the same person)."
    if misses and found:
        sentence += f" No face was found in {misses} of them."
    return Score("likeness", value, band, sentence, details)


# ---- copying ----


def perceptual_hash(image: Image.Image):
    """The 64-bit DCT perceptual hash of the image (robust to resizing and mild edits)."""
    import imagehash

    return imagehash.phash(image.convert("RGB"))


def nearest_training_image(image: Image.Image, training_hashes: Sequence) -> tuple[int, int]:
    """(index, bits apart) of the training image whose perceptual hash is closest."""
    h = perceptual_hash(image)
    bits = [int(h - t) for t in training_hashes]
    index = int(np.argmin(bits))
    return index, bits[index]


def copying(
    images: Sequence[Image.Image],
    training_hashes: Sequence,
    *,
    embeddings: Sequence[np.ndarray | None] | None = None,
    training_embeddings: Sequence[np.ndarray | None] | None = None,
) -> Score:
    """Whether any image reproduces a training photo: the nearest training image by perceptual hash,
    backed by face embeddings (a face almost identical to one training face is that photo's face).
    The value is the worst image's similarity, 1 - bits apart / 32 (0 for unrelated pictures)."""
    if not images or not training_hashes:
        return Score("copying", None, "unknown", "Copying could not be measured: nothing to compare.", {})
    embeddings = list(embeddings) if embeddings is not None else [None] * len(images)
    training_embeddings = (
        list(training_embeddings) if training_embeddings is not None else [None] * len(training_hashes)
    )
    worst: dict | None = None
    for image, emb in zip(images, embeddings, strict=True):
        index, bits = nearest_training_image(image, training_hashes)
        face_index, face_distance = None, None
        if emb is not None:
            pairs = [
                (i, identity_distance(emb, t)) for i, t in enumerate(training_embeddings) if t is not None
            ]
            if pairs:
                face_index, face_distance = min(pairs, key=lambda p: p[1])
        same_face = face_distance is not None and face_distance <= COPY_FACE_DISTANCE
        # The same face with a similar layout is the photo re-drawn; the same face alone is a good likeness.
        copied = bits <= COPY_HASH_BITS or (same_face and bits <= COPY_WARN_BITS)
        similarity = max(0.0, 1.0 - bits / 32.0)
        item = {
            "training_index": face_index if same_face else index,
            "hash_bits": bits,
            "face_distance": None if face_distance is None else round(face_distance, 4),
            "copied": copied,
            "similarity": round(similarity, 4),
        }
        if worst is None or (item["copied"], similarity) > (worst["copied"], worst["similarity"]):
            worst = item
    shot = worst["training_index"] + 1  # learners count photos from 1
    value = worst["similarity"]
    details = {**worst, "training_photo": shot}
    if worst["copied"]:
        return Score(
            "copying",
            value,
            "bad",
            f"Copying: this reproduces training photo {shot} ({worst['hash_bits']} of 64 hash bits apart); "
            "the model pastes a training shot instead of drawing the face anew, a sign of over-fitting.",
            details,
        )
    if worst["hash_bits"] <= COPY_WARN_BITS:
        return Score(
            "copying",
            value,
            "warn",
            f"Copying {value:.2f}: the layout is close to training photo {shot} ({worst['hash_bits']} bits apart); "
            "watch the later epochs.",
            details,
        )
    return Score(
        "copying",
        value,
        "good",
        f"Copying {value:.2f}: no training photo is reproduced (nearest, photo {shot}, is "
        f"{worst['hash_bits']} of 64 hash bits away).",
        details,
    )


# ---- prompt following ----


def image_distance(a: Image.Image, b: Image.Image) -> float:
    """How different two pictures look, 0 (same) to about 1 (unrelated): half layout (perceptual
    hash bits apart / 32), half colour (mean difference of small thumbnails)."""
    bits = int(perceptual_hash(a) - perceptual_hash(b))
    ta = _rgb(a.resize((THUMB, THUMB), Image.BILINEAR))
    tb = _rgb(b.resize((THUMB, THUMB), Image.BILINEAR))
    colour = float(np.abs(ta - tb).mean()) / 0.25  # unrelated photos differ by about a quarter
    return 0.5 * min(1.0, bits / 32.0) + 0.5 * min(1.0, colour)


def prompt_spread(images: Sequence[Image.Image]) -> float:
    """Mean distance between the images of different prompts (same seed): how much prompts matter."""
    pairs = list(combinations(images, 2))
    if not pairs:
        return 0.0
    return float(np.mean([image_distance(a, b) for a, b in pairs]))


def prompt_following(images: Sequence[Image.Image], base_images: Sequence[Image.Image]) -> Score:
    """Whether scene and style prompts still change the picture: the spread between prompts with the
    LoRA as a share of the base model's spread on the same prompts and seed (over-fit LoRAs draw
    the training shot whatever the prompt)."""
    if len(images) < 2 or len(base_images) != len(images):
        return Score(
            "prompt_following",
            None,
            "unknown",
            "Prompt following needs two or more prompts, with and without the LoRA.",
            {},
        )
    spread, base = prompt_spread(images), prompt_spread(base_images)
    details = {"spread": round(spread, 4), "base_spread": round(base, 4)}
    if base < 1e-3:
        return Score(
            "prompt_following",
            None,
            "unknown",
            "Prompt following could not be measured: the base model draws the same picture for every prompt.",
            details,
        )
    value = round(min(spread / base, 1.0), 4)  # more variety than the base is no better
    pct = round(100 * value)
    if value >= PROMPT_GOOD:
        return Score(
            "prompt_following",
            value,
            "good",
            f"Prompts followed: changing the scene or style changes the picture ({pct}% of the base model's variety).",
            details,
        )
    if value >= PROMPT_WARN:
        return Score(
            "prompt_following",
            value,
            "warn",
            f"Prompts partly followed: the pictures vary less than the base model's ({pct}%); the LoRA is getting rigid.",
            details,
        )
    return Score(
        "prompt_following",
        value,
        "bad",
        f"Prompts ignored: every prompt gives nearly the same picture ({pct}% of the base model's variety), "
        "a sign of over-fitting.",
        details,
    )


# ---- deep-fried ----


def fry_measures(image: Image.Image) -> dict[str, float]:
    """burnt: share of bright pixels at extreme saturation; clipped: share of pixels crushed to black
    or blown to white; contrast: RMS contrast of the luminance."""
    rgb = _rgb(image)
    high, low = rgb.max(axis=-1), rgb.min(axis=-1)
    saturation = np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0.0)
    lum = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return {
        "burnt": float(((saturation > 0.8) & (high > 0.3)).mean()),
        "clipped": float(((lum < 0.03) | (lum > 0.97)).mean()),
        "contrast": float(lum.std()),
    }


def fry_value(image: Image.Image) -> float:
    """0 (natural) to 1 (deep-fried). Natural portraits keep both shares under about 10%; each
    counts from there and is full at 40%; the worse of the two weighs most."""
    m = fry_measures(image)
    burnt = min(1.0, max(0.0, (m["burnt"] - 0.1) / 0.3))
    clipped = min(1.0, max(0.0, (m["clipped"] - 0.1) / 0.3))
    return 0.8 * max(burnt, clipped) + 0.2 * min(burnt, clipped)


def deep_fried(images: Sequence[Image.Image]) -> Score:
    """Saturation and contrast extremes of the most fried image (burnt colour, crushed tones)."""
    if not images:
        return Score("deep_fried", None, "unknown", "Deep-fried could not be measured: no images.", {})
    values = [fry_value(im) for im in images]
    worst = int(np.argmax(values))
    value = round(values[worst], 4)
    details = {"worst_image": worst, **{k: round(v, 4) for k, v in fry_measures(images[worst]).items()}}
    if value >= FRIED_BAD:
        return Score(
            "deep_fried",
            value,
            "bad",
            f"Deep-fried {value:.2f}: burnt colour and harsh contrast, typical of too many epochs or too high a strength.",
            details,
        )
    if value >= FRIED_WARN:
        return Score(
            "deep_fried",
            value,
            "warn",
            f"Deep-fried {value:.2f}: colours or contrast are getting strong; a lower strength may calm them.",
            details,
        )
    return Score(
        "deep_fried", value, "good", f"Deep-fried {value:.2f}: colours and contrast look natural.", details
    )


# ---- combining ----

WORSE = {"good": 0, "unknown": 0, "warn": 1, "bad": 2}


def problems(scores: dict[str, Score]) -> list[str]:
    """Names of the over-fitting scores in the bad band (copying, prompts ignored, deep-fried)."""
    return [name for name in ("copying", "prompt_following", "deep_fried") if scores[name].band == "bad"]
