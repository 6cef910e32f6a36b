"""Aspect-ratio buckets: crops keep roughly the photo's shape at about the base's pixel area, and
every batch holds one bucket (one tensor shape), as kohya, OneTrainer and SimpleTuner train."""

import math

MAX_ASPECT = 2.0  # wider than 2:1 leaves too little face at this area


def bucket_step(resolution: int) -> int:
    """Bucket sides move in 64 px steps at SDXL/SD 1.5 sizes; small demo sizes use finer steps."""
    return 64 if resolution >= 512 else max(16, resolution // 8)


def bucket_sizes(resolution: int) -> list[tuple[int, int]]:
    """Every (width, height) in steps of bucket_step with an area of at most resolution², the
    largest height for each width, no more elongated than MAX_ASPECT; square included."""
    step, area = bucket_step(resolution), resolution * resolution
    sizes = set()
    for width in range(step, 4 * resolution + 1, step):
        height = (area // width) // step * step
        if height >= step and max(width, height) / min(width, height) <= MAX_ASPECT:
            sizes |= {(width, height), (height, width)}  # portrait and landscape alike
    sizes.add((resolution, resolution))
    return sorted(sizes)


def nearest_bucket(aspect: float, resolution: int) -> tuple[int, int]:
    """The bucket whose width/height is closest to `aspect` (on a log scale: 2:1 and 1:2 are as far from 1:1)."""
    return min(bucket_sizes(resolution), key=lambda s: (abs(math.log(s[0] / s[1] / aspect)), -s[0] * s[1]))


def bucket_box(
    size: tuple[int, int], square: tuple[int, int, int], bucket: tuple[int, int]
) -> tuple[int, int, int, int]:
    """(left, top, width, height) in the photo: the face-centred square (left, top, side) reshaped
    to the bucket's aspect at the same area, shrunk to fit the photo, kept on the face's centre."""
    width, height = size
    left, top, side = square
    aspect = bucket[0] / bucket[1]
    w, h = side * math.sqrt(aspect), side / math.sqrt(aspect)
    shrink = min(1.0, width / w, height / h)
    w, h = max(1, round(w * shrink)), max(1, round(h * shrink))
    cx, cy = left + side / 2, top + side / 2
    box_left = round(min(max(cx - w / 2, 0), width - w))
    box_top = round(min(max(cy - h / 2, 0), height - h))
    return box_left, box_top, w, h


def batches(order: list[int], shapes: list[tuple], batch_size: int) -> list[list[int]]:
    """Split one epoch's shuffled `order` (indices into `shapes`) into batches of one shape each;
    batches keep the order of their first item, so buckets interleave and one shape gives plain chunks."""
    by_shape: dict[tuple, list[int]] = {}
    for position, i in enumerate(order):
        by_shape.setdefault(tuple(shapes[i]), []).append(position)
    chunks = [
        positions[k : k + batch_size]
        for positions in by_shape.values()
        for k in range(0, len(positions), batch_size)
    ]
    return [[order[n] for n in chunk] for chunk in sorted(chunks, key=lambda chunk: chunk[0])]


def bucket_counts(shapes: list[tuple]) -> list[int]:
    """How many items each distinct shape holds (what config.plan needs to count steps)."""
    counts: dict[tuple, int] = {}
    for shape in shapes:
        counts[tuple(shape)] = counts.get(tuple(shape), 0) + 1
    return list(counts.values())
