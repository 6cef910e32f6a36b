"""Is the web app still quick while it trains? And does serving slow training down?

Starts the real server (`uvicorn app.main:create_app`, worker thread inside it unless
--separate-worker runs `loraface worker` beside it) on its own data dir and SQLite (or
--database-url). It trains the same tiny job twice: once alone (the reference, measured in the
same run), once while --pollers signed-in browsers each poll GET /api/jobs/{id} every
--interval seconds, as the lab page does. Prints the status endpoint's latency percentiles and
the training slowdown. Goals: p95 < 100 ms, slowdown <= 5 %.

    python benchmarks/web_during_training.py --pollers 200 --steps 40
"""

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMAIL, PASSWORD = "bench@example.com", "benchmark password 1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_python(code: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def prepare(env: dict[str, str]) -> None:
    """Migrate and create the learner (through the real services)."""
    run_python(
        "from app.config import get_settings; from app.migrate import upgrade;"
        "from app.db import make_engine, make_sessionmaker; from app.auth import service as s;"
        "from app.seed import seed_all; from app.models import import_all_models; import_all_models();"
        "st=get_settings(); st.ensure_data_dir(); upgrade(st.database_url);"
        "db=make_sessionmaker(make_engine(st.database_url))(); seed_all(db=db, settings=st);"
        f"s.create_user(db=db, email={EMAIL!r}, password={PASSWORD!r}); db.commit()",
        env,
    )


def enqueue(env: dict[str, str], steps: int, resolution: int) -> int:
    """Queue a tiny job on four real face crops through the queue's own enqueue."""
    code = f"""
import json
from PIL import Image
from skimage import data
import matplotlib.cbook as cbook
from app.config import get_settings
from app.db import make_engine, make_sessionmaker
from app.models import import_all_models
from app.auth import service as auth_service
from app.lab import job_store
from app.trainer.config import TrainConfig, plan
import_all_models()
st = get_settings()
db = make_sessionmaker(make_engine(st.database_url))()
user = auth_service.get_user_by_email(db=db, email={EMAIL!r})
folder = st.data_dir / "users" / str(user.id) / "bench-crops"
folder.mkdir(parents=True, exist_ok=True)
with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as g:
    faces = [Image.fromarray(data.astronaut()).convert("RGB"), g.convert("RGB")]
faces += [f.transpose(Image.FLIP_LEFT_RIGHT) for f in faces]
images = []
for i, im in enumerate(faces):
    side = min(im.size)
    crop = im.crop(((im.width - side) // 2, (im.height - side) // 2, (im.width + side) // 2, (im.height + side) // 2))
    path = folder / f"{{i}}.png"
    crop.resize(({resolution}, {resolution})).save(path)
    images.append({{"path": str(path.relative_to(st.data_dir)), "caption": "sks woman"}})
cfg = TrainConfig(trigger="sks", class_word="woman", resolution={resolution}, rank=4, alpha=4.0, epochs=None,
                  max_steps={steps}, learning_rate=1e-3, sample_steps=2, save_every_epochs=1000)
_, total, epochs = plan(cfg, len(images))
job = job_store.enqueue(db=db, user_id=user.id, dataset_id=None, config=json.loads(cfg.to_json()), images=images,
                   base_model=None, total_steps=total, total_epochs=epochs)
db.commit()
print(job.id)
"""
    return int(run_python(code, env))


def job_times(env: dict[str, str], job_id: int) -> dict:
    code = (
        "import json; from app.config import get_settings; from app.db import make_engine, make_sessionmaker;"
        "from app.models import import_all_models; import_all_models(); from app.lab.models import TrainingJob;"
        "st=get_settings(); db=make_sessionmaker(make_engine(st.database_url))();"
        f"j=db.get(TrainingJob, {job_id});"
        "print(json.dumps({'status': j.status.value, 'error': j.error, 'step': j.step,"
        "'seconds': (j.finished_at - j.started_at).total_seconds() if j.finished_at and j.started_at else None,"
        "'ips': j.images_per_second}))"
    )
    return json.loads(run_python(code, env))


async def sign_in(client) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text


async def wait_for_job(client, job_id: int, timeout: float = 1800) -> dict:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = (await client.get(f"/api/jobs/{job_id}")).json()
        except httpx.TransportError:  # a keep-alive connection the server closed; ask again
            await asyncio.sleep(0.2)
            continue
        if body["status"] in ("succeeded", "failed", "cancelled"):
            return body
        await asyncio.sleep(1.0)
    raise RuntimeError(f"job {job_id} did not finish")


async def poller(
    base: str, cookies, job_id: int, interval: float, stop: asyncio.Event, latencies: list, errors: list
):
    import httpx

    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
        await asyncio.sleep(interval * random.random())  # spread the first requests over one interval
        while not stop.is_set():
            started = time.perf_counter()
            try:
                r = await client.get(f"/api/jobs/{job_id}")
                if r.status_code != 200:
                    errors.append(r.status_code)
            except Exception as exc:  # counted, not fatal: the figure is what matters
                errors.append(type(exc).__name__)
            elapsed = time.perf_counter() - started
            latencies.append(elapsed)
            await asyncio.sleep(max(0.0, interval - elapsed))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def measure(base: str, env: dict[str, str], args) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await sign_in(client)
        # Warm-up: builds the tiny base model once, so neither timed run pays for it.
        warm = enqueue(env, 2, args.resolution)
        await wait_for_job(client, warm)

        alone_id = enqueue(env, args.steps, args.resolution)
        await wait_for_job(client, alone_id)
        alone = job_times(env, alone_id)

        loaded_id = enqueue(env, args.steps, args.resolution)
        while (await client.get(f"/api/jobs/{loaded_id}")).json()["status"] == "queued":
            await asyncio.sleep(0.2)
        stop, latencies, errors = asyncio.Event(), [], []
        tasks = [
            asyncio.create_task(
                poller(base, client.cookies, loaded_id, args.interval, stop, latencies, errors)
            )
            for _ in range(args.pollers)
        ]
        started = time.perf_counter()
        await wait_for_job(client, loaded_id)
        window = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*tasks)
        loaded = job_times(env, loaded_id)

    for name, run in (("alone", alone), ("under load", loaded)):
        if run["status"] != "succeeded":
            raise SystemExit(f"the {name} job ended {run['status']}: {run['error']}")
    slowdown = (loaded["seconds"] / alone["seconds"] - 1) * 100
    print(
        f"mode: {'separate worker process' if args.separate_worker else 'worker thread in the web process'}, "
        f"database: {env['LORAFACE_DATABASE_URL'].split(':')[0]}, cpus: {os.cpu_count()}"
    )
    print(f"training job: {args.steps} steps at {args.resolution}px on the tiny base")
    print(f"  alone (reference): {alone['seconds']:.1f} s")
    print(
        f"  with {args.pollers} pollers: {loaded['seconds']:.1f} s  -> slowdown {slowdown:+.1f} % (goal <= 5 %)"
    )
    print(
        f"status endpoint under load: {len(latencies)} requests in {window:.1f} s ({len(latencies) / window:.0f} req/s), "
        f"{len(errors)} errors"
    )
    print(
        f"  p50 {percentile(latencies, 50) * 1000:.1f} ms  p95 {percentile(latencies, 95) * 1000:.1f} ms "
        f"(goal < 100 ms)  p99 {percentile(latencies, 99) * 1000:.1f} ms  mean {statistics.mean(latencies) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pollers", type=int, default=200, help="concurrent signed-in pollers")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between one poller's requests")
    parser.add_argument("--steps", type=int, default=40, help="training steps of the measured job")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary data dir")
    parser.add_argument("--separate-worker", action="store_true", help="train in a `loraface worker` process")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="loraface-bench-"))
    env = {
        **os.environ,
        "LORAFACE_DATA_DIR": str(data_dir),
        "LORAFACE_DATABASE_URL": args.database_url or f"sqlite:///{data_dir / 'bench.db'}",
        "LORAFACE_SECRET_KEY": "benchmark-secret",
        "LORAFACE_WORKER": "off" if args.separate_worker else "thread",
    }
    env.pop("LORAFACE_BASE_MODEL", None)
    # A SIGTERM (e.g. from `timeout`) still runs the clean-up below and stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    prepare(env)
    port = free_port()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            cwd=ROOT,
        )
    ]
    if args.separate_worker:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker", "--poll", "0.2"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        asyncio.run(measure(base, env, args))
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
