"""What lesson 1 warns about, measured: per-photo checks and per-set checks.

Each finding is a `Problem` with a stable code, a plain message and the lesson that explains
it. Errors keep a photo out of training; warnings only advise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from app.trainer import faces

BASE_RESOLUTION = {"sdxl": 1024, "sd15": 512}  # lesson 4: the square size each base trains at

MIN_IMAGES, RECOMMENDED, MAX_IMAGES = 10, (15, 25), 40
SECOND_FACE_MIN_SCORE = 0.3  # weaker detections are mostly patterns, not people
SECOND_FACE_MIN_AREA = 0.35  # a second person counts at a comparable size (side >= ~0.6 of the main face)
SECOND_FACE_MIN_SHARE = 0.5  # ... and a detection at least half as sure as the main face: a plausible face
FACE_MIN_SHARE = 0.10  # face box width over the photo's shorter side
EYES_CLOSED_BELOW = 0.15  # eye aspect ratio
EYES_HIDDEN_BELOW = 0.35  # eye-region brightness over the face's: sunglasses sit near 0.1
BLUR_BELOW = 60.0  # variance of the Laplacian on the face scaled to 128 px wide
SAME_PERSON_WITHIN = 0.6  # dlib's own threshold on the 128-d embedding distance
NEAR_DUPLICATE_WITHIN = 6  # bits of the 64-bit perceptual hash
DAYLIGHT_WANTED = 2

LESSON_DATASET, LESSON_TRIGGER, LESSON_PREPARING = 1, 3, 4


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    lesson: int
    severity: str = "error"  # "error" keeps the photo out; "warning" advises

    def to_dict(self) -> dict[str, Any]:
        """JSON form: {code, message, lesson, severity}."""
        return {"code": self.code, "message": self.message, "lesson": self.lesson, "severity": self.severity}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """The inverse of to_dict."""
        return cls(data["code"], data["message"], int(data["lesson"]), data.get("severity", "error"))


# Photo checks a person may overrule ("keep anyway"): a detector or a threshold can be wrong about
# one photo (HOG sees faces in wallpaper, a squint reads as closed eyes, a soft but true photo reads
# as blurry). Without a face, or with one too small or too low in resolution to crop, there is
# nothing to train on, so those findings stay final.
OVERRULABLE = frozenset(
    {
        "multiple_faces",
        "eyes_closed",
        "eyes_hidden",
        "blurry",
        "heavy_filter",
        "extreme_exposure",
        "near_duplicate",
        "different_person",
    }
)


@dataclass
class PhotoAnalysis:
    """Measurements of one photo, kept so set checks can run again without the pixels."""

    filename: str
    size: tuple[int, int]  # (width, height)
    faces: int = 0
    box: tuple[int, int, int, int] | None = None  # main face (left, top, right, bottom)
    center: tuple[float, float] | None = None  # of the main face's landmarks
    landmarks: list[list[float]] | None = None  # the main face's 68 points (x, y): masks for the loss
    yaw: float = 0.0
    pose: str = ""  # front, three-quarter, profile
    eyes: float = 0.0  # eye aspect ratio
    sharpness: float = 0.0
    brightness: float = 0.0  # face mean luminance 0-255
    lighting: str = ""  # daylight, warm light, low light, bright light
    expression: str = ""  # smiling, neutral
    embedding: list[float] | None = None
    phash: str = ""
    problems: list[Problem] = field(default_factory=list)
    kept_anyway: bool = False  # the learner overruled this photo's (overrulable) errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def can_keep_anyway(self) -> bool:
        """Rejected only by findings a person may overrule, with a face to crop around."""
        errors = self.errors
        return bool(errors) and self.box is not None and all(p.code in OVERRULABLE for p in errors)

    @property
    def accepted(self) -> bool:
        """No error-level problem, or only overrulable ones the learner chose to overrule."""
        return not self.errors or (self.kept_anyway and self.can_keep_anyway)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (problems included)."""
        data = {k: v for k, v in self.__dict__.items() if k != "problems"}
        data["problems"] = [p.to_dict() for p in self.problems]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhotoAnalysis:
        """The inverse of to_dict."""
        data = dict(data)
        problems = [Problem.from_dict(p) for p in data.pop("problems", [])]
        for key in ("size", "box", "center"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data, problems=problems)


def _gray(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float64)


def _laplacian_variance(gray: np.ndarray) -> float:
    lap = -4 * gray[1:-1, 1:-1] + gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:]
    return float(lap.var())


def _face_patch(image: Image.Image, box: tuple[int, int, int, int], width: int = 128) -> Image.Image:
    """The face box scaled to a fixed width, so measures do not depend on photo size."""
    left, top, right, bottom = box
    patch = image.crop((left, top, right, bottom))
    height = max(1, round(patch.height * width / max(patch.width, 1)))
    return patch.resize((width, height), Image.Resampling.BILINEAR)


def _eyes_hidden_ratio(pixels: np.ndarray, face: faces.Face) -> float:
    """Mean brightness around the eyes over that of the cheeks and nose: sunglasses are dark."""
    h, w = pixels.shape[:2]

    def luma(left: float, top: float, right: float, bottom: float) -> float | None:
        region = pixels[max(int(top), 0) : min(int(bottom), h), max(int(left), 0) : min(int(right), w)]
        return (
            float((region.reshape(-1, 3) @ np.array([0.299, 0.587, 0.114])).mean()) if region.size else None
        )

    eyes = [v for v in (luma(*box) for box in faces.eye_boxes(face, margin=0.15)) if v is not None]
    pts = face.landmarks
    # Cheeks and nose: between the eyes' lower lids and the nose's base.
    skin = luma(pts[36][0], pts[40][1] + (pts[33][1] - pts[40][1]) * 0.4, pts[45][0], pts[33][1])
    if not eyes or not skin or skin < 1:
        return 1.0
    return float(np.mean(eyes) / skin)


def _lighting(rgb: np.ndarray, face_luma: float) -> str:
    """A rough lighting label from the whole photo's colour balance and the face's level."""
    mean = rgb.reshape(-1, 3).mean(axis=0)
    warmth = (mean[0] + 1) / (mean[2] + 1)
    if face_luma < 70:
        return "low light"
    if warmth > 1.6:
        return "warm light"
    if mean.mean() > 150 and warmth < 1.35:
        return "bright light"
    return "daylight"


def _filter_or_exposure(face_rgb: np.ndarray) -> Problem | None:
    """Heavy colour filters and blown or crushed faces; skin is red-leaning in any real light."""
    pixels = face_rgb.reshape(-1, 3).astype(np.float64)
    luma = pixels @ np.array([0.299, 0.587, 0.114])
    clipped = float(((luma > 250) | (luma < 5)).mean())
    if luma.mean() < 35 or luma.mean() > 230 or clipped > 0.4:
        return Problem(
            "extreme_exposure", "The face is far too dark or too bright to show its detail.", LESSON_DATASET
        )
    r, g, b = pixels.mean(axis=0)
    spread = pixels.max(axis=1) - pixels.min(axis=1)
    if spread.mean() < 4:
        return Problem(
            "heavy_filter",
            "Black-and-white: the model would learn grey skin. Use colour photos.",
            LESSON_DATASET,
        )
    if b > r * 1.1 or g > r * 1.15:
        return Problem(
            "heavy_filter",
            "A strong colour filter tints the skin; the model would learn the tint as part of the face.",
            LESSON_DATASET,
        )
    return None


def analyze_photo(
    image: Image.Image, *, filename: str, base: str = "sdxl", resolution: int | None = None
) -> PhotoAnalysis:
    """Measure one upright RGB photo and list its own problems (set checks come later);
    `resolution` overrides the base's size for the resolution check (a custom training size)."""
    import imagehash

    resolution = resolution or BASE_RESOLUTION[base]
    width, height = image.size
    result = PhotoAnalysis(filename=filename, size=(width, height))
    # Perceptual hash and colour stats on a small copy: 12 MP is not needed for either.
    factor = max(1, min(width, height) // 512)
    small = image.reduce(factor) if factor > 1 else image
    result.phash = str(imagehash.phash(small))
    if min(width, height) < resolution:
        result.problems.append(
            Problem(
                "low_resolution",
                f"{width}x{height}: its shorter side ({min(width, height)} px) is smaller than the "
                f"{resolution}x{resolution} square crop training uses, so the crop would be enlarged and look soft.",
                LESSON_PREPARING,
            )
        )
    pixels = faces.as_rgb_array(image)  # one array for detection, landmarks and embedding
    found = faces.detect_faces(pixels)
    sure = [f for f in found if f.score >= SECOND_FACE_MIN_SCORE]
    main = max(sure, key=lambda f: f.area) if sure else (max(found, key=lambda f: f.score) if found else None)
    if main is None:
        result.problems.append(
            Problem(
                "no_face", "No face was found. Use photos where the face is clearly visible.", LESSON_DATASET
            )
        )
        return result
    others = [
        f
        for f in sure
        if f is not main
        and f.area >= SECOND_FACE_MIN_AREA * main.area
        and f.score >= SECOND_FACE_MIN_SHARE * main.score
    ]
    result.faces = 1 + len(others)
    result.box, result.center = main.box, main.center
    result.landmarks = [[round(float(x), 1), round(float(y), 1)] for x, y in main.landmarks]
    result.yaw = faces.head_yaw(main.landmarks)
    # The HOG detector's side views fire on clear profiles whose landmarks under-read the turn.
    if main.view != "front" and abs(result.yaw) < 45:
        result.yaw = 50.0 if result.yaw >= 0 else -50.0
    result.pose = faces.pose_label(result.yaw)
    result.eyes = faces.eye_openness(main.landmarks)
    if others:
        result.problems.append(
            Problem(
                "multiple_faces",
                f"{result.faces} faces are in this photo; the model would blend them. Use photos of the one person alone.",
                LESSON_DATASET,
            )
        )
    if main.width < FACE_MIN_SHARE * min(width, height):
        result.problems.append(
            Problem(
                "face_too_small",
                "The face is small in the frame; move closer or crop to head and shoulders.",
                LESSON_DATASET,
            )
        )

    patch = _face_patch(image, main.box)
    patch_rgb = np.asarray(patch)
    result.sharpness = _laplacian_variance(_gray(patch))
    result.brightness = float(_gray(patch).mean())
    result.lighting = _lighting(np.asarray(small), result.brightness)
    mouth = main.landmarks[faces.MOUTH]
    eye_distance = np.linalg.norm(
        main.landmarks[faces.LEFT_EYE].mean(0) - main.landmarks[faces.RIGHT_EYE].mean(0)
    )
    mouth_width = np.linalg.norm(mouth[6] - mouth[0])
    result.expression = "smiling" if eye_distance and mouth_width / eye_distance > 0.95 else "neutral"

    if result.pose != "profile":  # in profile one eye is hidden by the head itself
        if _eyes_hidden_ratio(pixels, main) < EYES_HIDDEN_BELOW:
            result.problems.append(
                Problem(
                    "eyes_hidden",
                    "The eyes are covered (sunglasses or shadow); the model would learn the covering as part of the face.",
                    LESSON_DATASET,
                )
            )
        elif result.eyes < EYES_CLOSED_BELOW:
            result.problems.append(
                Problem("eyes_closed", "The eyes are closed or nearly closed.", LESSON_DATASET)
            )
    if result.sharpness < BLUR_BELOW:
        result.problems.append(
            Problem(
                "blurry",
                "The face is blurry (motion or focus); the model would learn the blur.",
                LESSON_DATASET,
            )
        )
    problem = _filter_or_exposure(patch_rgb)
    if problem:
        result.problems.append(problem)
    result.embedding = [round(float(v), 6) for v in faces.face_embedding(pixels, main)]
    return result
