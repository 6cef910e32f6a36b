"""The whole dataset step on files: read safely, check, crop, caption. `loraface dataset check`,
`loraface train` and the upload all run these same functions."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from app.trainer import buckets as aspect_buckets
from app.trainer import masks
from app.trainer.photos import captions, checks, crops, ingest
from app.trainer.photos.checks import LESSON_DATASET, LESSON_PREPARING, PhotoAnalysis, Problem
from app.trainer.photos.set_checks import SetReport, check_set

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}


@dataclass(frozen=True)
class PreparedImage:
    """One training crop; field for field what app.trainer.pipeline.TrainImage takes."""

    path: Path  # crop at the resolution (square, or its aspect bucket's size), RGB PNG
    caption: str
    original_size: tuple[int, int]  # (h, w) of the upright photo
    crop_top_left: tuple[int, int]  # (top, left) in the photo
    crop_size: int  # side of the square in the photo's pixels
    source: Path
    crop_hw: tuple[int, int] = (0, 0)  # (h, w) of a bucketed crop in the photo (0, 0: the square)
    mask_path: Path | None = None  # face/head mask beside the crop (None: loss not masked)
    bucket: tuple[int, int] | None = None  # (w, h) of its aspect bucket


def photo_files(folder: Path) -> list[Path]:
    """Photo files directly inside folder (by suffix; contents are checked later), by name."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES and not p.name.startswith(".")
    )


def analyze(images: list[ingest.CleanImage], *, base: str, workers: int | None = None) -> list[PhotoAnalysis]:
    """Per-photo checks, two photos at a time (decoding and dlib both release the GIL)."""
    workers = workers or min(4, os.cpu_count() or 1)

    def one(image: ingest.CleanImage) -> PhotoAnalysis:
        return checks.analyze_photo(image.image, filename=image.filename, base=base)

    if workers <= 1 or len(images) <= 1:
        return [one(i) for i in images]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, images))


def _read(path: Path, encode: bool) -> ingest.CleanImage | PhotoAnalysis:
    try:
        return ingest.clean(ingest.UploadFile(path.name, path.read_bytes()), encode=encode)
    except ingest.RejectedUpload as error:
        return PhotoAnalysis(
            filename=path.name, size=(0, 0), problems=[Problem("unreadable", error.message, LESSON_DATASET)]
        )


def check_files(
    paths: list[Path],
    *,
    base: str,
    encode: bool = False,
    workers: int | None = None,
    resolution: int | None = None,
) -> tuple[dict[str, ingest.CleanImage], SetReport]:
    """Read and check photo files; unreadable ones become rejected entries, not errors."""
    workers = workers or min(4, os.cpu_count() or 1)

    def one(path: Path) -> tuple[ingest.CleanImage | None, PhotoAnalysis]:
        read = _read(path, encode)
        if isinstance(read, PhotoAnalysis):
            return None, read
        return read, checks.analyze_photo(
            read.image, filename=read.filename, base=base, resolution=resolution
        )

    with ThreadPoolExecutor(max(1, workers)) as pool:
        results = list(pool.map(one, paths))
    cleaned = {analysis.filename: image for image, analysis in results if image is not None}
    return cleaned, check_set([analysis for _, analysis in results])


def crop_and_caption(
    image: ingest.CleanImage | object,
    analysis: PhotoAnalysis,
    *,
    resolution: int,
    trigger: str,
    class_word: str,
    nudge: crops.Nudge = crops.Nudge(),
) -> tuple[crops.CropBox, str]:
    """Where to crop this photo and its default caption; adds an upscaling warning if needed."""
    box = crops.crop_box(
        analysis.size, resolution=resolution, face_box=analysis.box, face_center=analysis.center, nudge=nudge
    )
    analysis.problems = [p for p in analysis.problems if p.code != "crop_upscaled"]
    if box.upscaled_too_much:
        analysis.problems.append(
            Problem(
                "crop_upscaled",
                f"The face crop is {box.side} px and gets enlarged {box.upscale:.1f}x to {resolution} px: expect softness. A closer or larger photo is better.",
                LESSON_PREPARING,
                "warning",
            )
        )
    caption = captions.default_caption(
        trigger, class_word, captions.variable_parts(lighting=analysis.lighting, pose=analysis.pose)
    )
    return box, caption


def prepare(
    paths: list[Path],
    out: Path,
    *,
    trigger: str,
    class_word: str,
    resolution: int,
    base: str = "sdxl",
    keep_rejected: bool = False,
    buckets: bool = False,
    mask: str = "off",
) -> tuple[list[PreparedImage], SetReport]:
    """Check photo files as the upload does (resolution judged at `resolution`), then write a
    face-centred crop of each accepted one into `out` with its caption: square, or with
    `buckets` reshaped to the aspect bucket nearest the photo's shape. `mask` ("face", "head")
    writes the loss mask beside each crop. With `keep_rejected`, readable photos that failed a
    check are cropped too (the caller reports why); unreadable files never are."""
    cleaned, report = check_files(paths, base=base, resolution=resolution)
    by_name = {p.name: p for p in paths}
    out.mkdir(parents=True, exist_ok=True)
    prepared = []
    for i, analysis in enumerate(report.photos):
        image = cleaned.get(analysis.filename)
        if image is None or not (analysis.accepted or keep_rejected):
            continue
        box, caption = crop_and_caption(
            image, analysis, resolution=resolution, trigger=trigger, class_word=class_word
        )
        width, height = analysis.size
        bucket = aspect_buckets.nearest_bucket(width / height, resolution) if buckets else None
        cut_box = (box.left, box.top, box.side, box.side)
        if bucket:
            cut_box = aspect_buckets.bucket_box(analysis.size, (box.left, box.top, box.side), bucket)
        out_size = bucket or (resolution, resolution)
        target = out / f"{i:03d}_{Path(analysis.filename).stem}.png"
        left, top, w, h = cut_box
        if bucket:
            crop = image.image.crop((left, top, left + w, top + h))
            crop.resize(out_size, Image.Resampling.LANCZOS).convert("RGB").save(target)
        else:
            crops.cut(image.image, box).save(target)
        mask_path = None
        if mask != "off" and analysis.landmarks:
            full = masks.region_mask(analysis.size, analysis.landmarks, mask)
            mask_path = masks.save_preview(masks.crop_mask(full, cut_box, out_size), target)
        prepared.append(
            PreparedImage(
                path=target,
                caption=caption,
                original_size=(height, width),
                crop_top_left=(top, left),
                crop_size=box.side,
                source=by_name.get(analysis.filename, target),
                crop_hw=(h, w) if bucket else (0, 0),
                mask_path=mask_path,
                bucket=bucket,
            )
        )
    return prepared, report
