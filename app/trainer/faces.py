"""Faces with dlib: detection, 68 landmarks, 128-d identity embeddings, head yaw, eye openness.

The model files ship inside the `face_recognition_models` package; they are located through the
package folder and never imported, because that package's own import needs `pkg_resources`,
which new setuptools no longer provides. Models load lazily, once, behind a lock; nothing is
downloaded. dlib is imported inside functions so the web app starts without it.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

__all__ = [
    "Face",
    "FaceModelsMissing",
    "models_dir",
    "detect_faces",
    "face_embedding",
    "face_distance",
    "head_yaw",
    "eye_openness",
    "pose_label",
]

# Landmark index ranges of the iBUG 300-W 68-point scheme dlib's predictor follows.
JAW = slice(0, 17)
NOSE_TIP = 30
RIGHT_EYE = slice(36, 42)  # the person's right eye: on the image's left
LEFT_EYE = slice(42, 48)
MOUTH = slice(48, 68)

# Detection runs on a reduced copy: a 12 MP photo would take seconds, and faces worth training
# on are large, so ~1000 px on the long side finds them all.
DETECT_LONG_SIDE = 1000

# Sub-detectors of dlib's HOG frontal detector (the `idx` it reports).
_DETECTOR_VIEWS = {0: "front", 1: "left", 2: "right", 3: "front", 4: "front"}

_MODEL_FILES = {
    "shape": "shape_predictor_68_face_landmarks.dat",
    "recognition": "dlib_face_recognition_resnet_model_v1.dat",
}


class FaceModelsMissing(RuntimeError):
    """The dlib model files (package face_recognition_models) are not installed."""


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # (left, top, right, bottom) in the image's pixels
    landmarks: np.ndarray  # (68, 2) float array of (x, y) in the image's pixels
    score: float  # detector confidence; higher is surer
    view: str  # which HOG sub-detector fired: "front", "left" or "right"

    @property
    def width(self) -> int:
        """Box width in pixels."""
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        """Box height in pixels."""
        return self.box[3] - self.box[1]

    @property
    def area(self) -> int:
        """Box area in pixels."""
        return max(self.width, 0) * max(self.height, 0)

    @property
    def center(self) -> tuple[float, float]:
        """Centre (x, y) of the landmarks, steadier than the box centre."""
        x, y = self.landmarks.mean(axis=0)
        return float(x), float(y)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able summary (landmarks as lists of [x, y])."""
        return {
            "box": list(self.box),
            "score": round(self.score, 4),
            "view": self.view,
            "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in self.landmarks],
        }


class _Models:
    """dlib models, loaded on first use and shared; one lock per model because dlib's
    detectors and networks keep scratch buffers and are not safe to call concurrently."""

    def __init__(self) -> None:
        self._load_lock = threading.Lock()
        self._loaded: dict[str, Any] = {}
        self.locks = {name: threading.Lock() for name in ("detector", "shape", "recognition")}

    def get(self, name: str) -> Any:
        """The model called `name`, loading it the first time."""
        model = self._loaded.get(name)
        if model is not None:
            return model
        with self._load_lock:
            if name not in self._loaded:
                self._loaded[name] = self._load(name)
            return self._loaded[name]

    @staticmethod
    def _load(name: str) -> Any:
        import dlib

        if name == "detector":
            return dlib.get_frontal_face_detector()
        path = models_dir() / _MODEL_FILES[name]
        if not path.is_file():
            raise FaceModelsMissing(f"face model file not found: {path.name}")
        if name == "shape":
            return dlib.shape_predictor(str(path))
        return dlib.face_recognition_model_v1(str(path))


_models = _Models()


def models_dir() -> Path:
    """Folder holding the dlib .dat files, found without importing face_recognition_models."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelsMissing(
            "the face_recognition_models package is not installed (pip install loraface[ml])"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def as_rgb_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """A contiguous HxWx3 uint8 RGB array, as dlib expects."""
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            image = image.convert("RGB")
        array = np.asarray(image)
    else:
        array = np.asarray(image)
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        elif array.shape[-1] == 4:
            array = array[..., :3]
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array)


def _reduced(array: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """A copy whose long side is at most `long_side`, and the factor back to full size."""
    h, w = array.shape[:2]
    scale = max(h, w) / long_side
    if scale <= 1:
        return array, 1.0
    # reducing_gap: box-reduce by an integer factor first, then resample; ~5x faster on 12 MP.
    small = Image.fromarray(array).resize(
        (round(w / scale), round(h / scale)), Image.Resampling.BILINEAR, reducing_gap=2.0
    )
    return np.ascontiguousarray(np.asarray(small)), scale


def detect_faces(
    image: Image.Image | np.ndarray,
    *,
    upsample: int | None = None,
    long_side: int = DETECT_LONG_SIDE,
    threshold: float = 0.0,
) -> list[Face]:
    """Every face found, largest first, with 68 landmarks in the full image's pixels.

    Detection runs on a copy at most `long_side` px long; small images are upsampled once so
    faces down to ~40 px are still found. Landmarks are fitted on the full-resolution image."""
    import dlib

    array = as_rgb_array(image)
    small, scale = _reduced(array, long_side)
    if upsample is None:
        upsample = 1 if max(small.shape[:2]) < 600 else 0
    detector = _models.get("detector")
    predictor = _models.get("shape")
    with _models.locks["detector"]:
        rects, scores, kinds = detector.run(small, upsample, threshold)
    h, w = array.shape[:2]
    faces = []
    for rect, score, kind in zip(rects, scores, kinds, strict=True):
        box = (
            max(0, round(rect.left() * scale)),
            max(0, round(rect.top() * scale)),
            min(w, round(rect.right() * scale)),
            min(h, round(rect.bottom() * scale)),
        )
        with _models.locks["shape"]:
            shape = predictor(array, dlib.rectangle(*box))
        points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
        faces.append(
            Face(box=box, landmarks=points, score=float(score), view=_DETECTOR_VIEWS.get(int(kind), "front"))
        )
    faces.sort(key=lambda f: f.area, reverse=True)
    return faces


def face_embedding(image: Image.Image | np.ndarray, face: Face) -> np.ndarray:
    """The 128-d identity vector of `face` (same person: distance below ~0.6)."""
    import dlib

    array = as_rgb_array(image)
    points = [dlib.point(round(x), round(y)) for x, y in face.landmarks]
    shape = dlib.full_object_detection(dlib.rectangle(*face.box), points)
    recognizer = _models.get("recognition")
    # The network sees a 150 px aligned chip, so chip it here rather than hand it 12 MP.
    chip = dlib.get_face_chip(array, shape, size=150, padding=0.25)
    with _models.locks["recognition"]:
        vector = recognizer.compute_face_descriptor(chip)
    return np.array(vector, dtype=np.float64)


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings; dlib's same-person threshold is 0.6."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def head_yaw(landmarks: np.ndarray) -> float:
    """Approximate head yaw in degrees from landmarks: 0 facing the camera, positive when the
    nose points towards the image's right, about +-90 in full profile.

    The nose tip's position between the two jaw edges, measured along the eye line (so head
    roll does not count), moves like the sine of the yaw."""
    pts = np.asarray(landmarks, dtype=np.float64)
    eye_r, eye_l = pts[RIGHT_EYE].mean(axis=0), pts[LEFT_EYE].mean(axis=0)
    axis = eye_l - eye_r
    norm = np.linalg.norm(axis)
    if norm == 0:
        return 0.0
    axis /= norm
    left_edge, right_edge, nose = pts[0] @ axis, pts[16] @ axis, pts[NOSE_TIP] @ axis
    span = right_edge - left_edge
    if span <= 0:
        return 0.0
    ratio = (nose - left_edge) / span  # 0.5 when frontal
    return math.degrees(math.asin(float(np.clip(2 * ratio - 1, -1.0, 1.0))))


def _eye_aspect(eye: np.ndarray) -> float:
    """Eye aspect ratio: the lids' mean gap over the eye's width."""
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    horizontal = np.linalg.norm(eye[0] - eye[3])
    return float(vertical / (2 * horizontal)) if horizontal > 0 else 0.0


def eye_openness(landmarks: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes: ~0.25-0.35 open, below ~0.18 closed."""
    pts = np.asarray(landmarks, dtype=np.float64)
    return (_eye_aspect(pts[RIGHT_EYE]) + _eye_aspect(pts[LEFT_EYE])) / 2


def eye_boxes(face: Face, margin: float = 0.6) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) around each eye, widened by `margin` of the eye's width."""
    boxes = []
    for part in (RIGHT_EYE, LEFT_EYE):
        eye = face.landmarks[part]
        x0, y0 = eye.min(axis=0)
        x1, y1 = eye.max(axis=0)
        pad = (x1 - x0) * margin
        boxes.append((int(x0 - pad), int(y0 - pad), int(x1 + pad), int(y1 + pad)))
    return boxes


def pose_label(yaw: float) -> str:
    """ "front", "three-quarter" or "profile" for a yaw in degrees."""
    angle = abs(yaw)
    if angle < 15:
        return "front"
    if angle < 45:
        return "three-quarter"
    return "profile"
