"""A server killed with SIGKILL during a multi-photo upload, at three points: while photos are
being staged, right after the rows committed, and half-way through moving files into place.
After a restart (whose start-up sweep runs) there is no orphan file and no half dataset."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.datasets import staging
from app.datasets.models import Dataset
from app.lab import paths
from app.trainer.faults import UPLOAD_POINTS
from tests import dataset_photos as dp
from tests import factories

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings, port: int, log: Path, **env) -> subprocess.Popen:
    environment = {
        **os.environ,
        "LORAFACE_DATABASE_URL": settings.database_url,
        "LORAFACE_DATA_DIR": str(settings.data_dir),
        "LORAFACE_WORKER": "off",
        "LORAFACE_SECRET_KEY": settings.secret_key,
        "OMP_NUM_THREADS": "1",
        **env,
    }
    cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"the server did not start: {log.read_text()[-2000:]}")


def _files(settings, user) -> set[str]:
    root = paths.datasets_dir(settings.data_dir, user.id)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _expected_files(db, settings, user) -> set[str]:
    """Every file the user's dataset rows name: photo, crop and thumbnail of each image."""
    names = set()
    for dataset in db.scalars(select(Dataset).where(Dataset.user_id == user.id)):
        for image in dataset.images:
            names.add(f"photos/{image.sha256}.jpg")
            names.update(staging.crop_names(image, dataset.resolution))
    return names


@pytest.mark.parametrize("point", UPLOAD_POINTS)
def test_a_killed_upload_leaves_no_orphan_and_no_half_dataset(app, db, settings, tmp_path, point):
    user = factories.make_user(db)
    token = factories.make_token(db, user)
    db.commit()
    photos = [(f"me_{i}.jpg", dp.jpeg_bytes(im), "image/jpeg") for i, im in enumerate(dp.good_set(6))]
    marker = tmp_path / "marker"
    port = _free_port()
    server = _serve(
        settings, port, tmp_path / "first.log", LORAFACE_FAULT_POINT=point, LORAFACE_FAULT_MARKER=str(marker)
    )

    def upload() -> None:
        try:
            httpx.post(
                f"http://127.0.0.1:{port}/api/datasets",
                headers={"Authorization": f"Bearer {token}"},
                files=[("files", p) for p in photos],
                timeout=120,
            )
        except httpx.HTTPError:
            pass  # the server dies under it

    sender = threading.Thread(target=upload, daemon=True)
    sender.start()
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), (tmp_path / "first.log").read_text()[-3000:]
    files_at_kill = _files(settings, user)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    sender.join(timeout=30)

    restarted = _serve(settings, _free_port(), tmp_path / "second.log")
    restarted.terminate()
    restarted.wait(timeout=30)

    db.expire_all()
    datasets = list(db.scalars(select(Dataset).where(Dataset.user_id == user.id)))
    left = _files(settings, user)
    assert files_at_kill, "the kill landed before any file was written"
    assert left == _expected_files(db, settings, user), (point, sorted(left))
    assert not any(name.startswith(".staging") for name in left)
    if point == "upload_staging":
        assert datasets == [] and left == set()
    else:  # the rows committed: the sweep finished the move, the dataset is whole
        assert len(datasets) == 1 and len(datasets[0].images) == len(photos)
