"""Seconds to check 40 phone-size photos (12 MP JPEGs) the way `loraface dataset check` and the
upload do. Goal: 20 s or less on a 2-core machine.

    .venv/bin/python benchmarks/dataset_check.py [--count 40] [--workers N]

The photos are built from the portrait that ships with matplotlib (flipped, rotated, shifted,
scaled up to 4000x3000), written once to a temporary folder, then checked; writing is not timed."""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_photos(folder: Path, count: int) -> list[Path]:
    """`count` 4000x3000 JPEGs of one real face, each a little different."""
    import matplotlib.cbook as cbook
    from PIL import Image, ImageEnhance

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
        face = im.convert("RGB")
    paths = []
    for i in range(count):
        im = face.rotate((i % 9) - 4, resample=Image.Resampling.BICUBIC, fillcolor=(80, 80, 90))
        if i % 2:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        im = ImageEnhance.Brightness(im).enhance(0.85 + 0.03 * (i % 7))
        canvas = Image.new("RGB", (4000, 3000), (70 + i, 90, 110))
        scaled = im.resize((2400, 2812), Image.Resampling.BICUBIC)
        canvas.paste(scaled, (400 + 40 * (i % 20), 188))
        path = folder / f"IMG_{i:04d}.jpg"
        canvas.save(path, quality=90)
        paths.append(path)
    return paths


def main() -> None:
    """Build the photos, time the check, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    from app.trainer.photos import prepare

    with tempfile.TemporaryDirectory() as tmp:
        paths = make_photos(Path(tmp), args.count)
        size_mb = sum(p.stat().st_size for p in paths) / 2**20
        # Load the dlib models outside the timing, as a running server has them loaded.
        prepare.check_files(paths[:1], base="sdxl", workers=1)
        start, cpu_start = time.perf_counter(), time.process_time()
        _, report = prepare.check_files(paths, base="sdxl", workers=args.workers)
        checked, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        start = time.perf_counter()
        prepare.check_files(paths, base="sdxl", encode=True, workers=args.workers)
        with_store = time.perf_counter() - start
    print(f"photos: {args.count} x 4000x3000 JPEG ({size_mb:.0f} MB), cores: {os.cpu_count()}")
    print(f"dataset check: {checked:.1f} s wall ({checked / args.count:.2f} s per photo), goal <= 20 s")
    # CPU seconds do not grow when other programs share the cores; wall time does.
    print(
        f"  cpu time: {cpu:.1f} s ({cpu / args.count:.2f} s per photo); load average now {os.getloadavg()[0]:.1f}"
    )
    print(f"upload path (check + re-encode for storage): {with_store:.1f} s")
    print(f"verdict: {len(report.accepted)} accepted; {report.summary}")


if __name__ == "__main__":
    main()
