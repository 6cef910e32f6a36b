"""Real face photos that ship inside installed packages (no download): two different people."""

from pathlib import Path

from PIL import Image


def astronaut() -> Image.Image:
    """Eileen Collins, from scikit-image's sample data."""
    from skimage import data

    return Image.fromarray(data.astronaut()).convert("RGB")


def grace_hopper() -> Image.Image:
    """Grace Hopper, from matplotlib's sample data."""
    import matplotlib.cbook as cbook

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
        return im.convert("RGB")


def square(im: Image.Image, size: int) -> Image.Image:
    """A centred square crop resized to size x size."""
    side = min(im.size)
    left, top = (im.width - side) // 2, (im.height - side) // 2
    return im.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)


def write_face_set(folder: Path, size: int = 512) -> list[Path]:
    """Four photos of two real people (plus mirror images), as files."""
    folder.mkdir(parents=True, exist_ok=True)
    a, g = astronaut(), grace_hopper()
    shots = [a, g, a.transpose(Image.FLIP_LEFT_RIGHT), g.transpose(Image.FLIP_LEFT_RIGHT)]
    paths = []
    for i, im in enumerate(shots):
        path = folder / f"photo_{i}.jpg"
        square(im, size).save(path, quality=92)
        paths.append(path)
    return paths
