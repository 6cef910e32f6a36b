"""Load benchmark: drive the real server over HTTP/1.1 keep-alive and print req/s and latencies.

Starts `loraface serve` (its own data dir and SQLite unless --database-url is given), creates a
learner with an API token, then for each target path runs a fixed-duration closed loop of
--concurrency connections. A reference in the same run: GET /healthz (the cheapest route through
the same middleware and auth), so the ratio shows what a page costs beyond the framework.

    python benchmarks/web_load.py --duration 10 --concurrency 64 --web-workers 2
"""

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(env: dict[str, str]) -> str:
    """Migrate, create a learner and return an API token for it (through the real services)."""
    code = (
        "from app.config import get_settings; from app.migrate import upgrade;"
        "from app.db import make_engine, make_sessionmaker; from app.auth import service as s;"
        "from app.seed import seed_all;"
        "st=get_settings(); st.ensure_data_dir(); upgrade(st.database_url);"
        "db=make_sessionmaker(make_engine(st.database_url))();"
        "seed_all(db=db, settings=st);"
        "u=s.create_user(db=db, email='load@example.com', password='load test password');"
        "_, raw=s.create_api_token(db=db, user=u, name='load');"
        # A waiting job to poll, as the lab page and scripts do while a run trains.
        "from app.lab import job_store;"
        "job_store.enqueue(db=db, user_id=u.id, dataset_id=None, config={'trigger': 'sks', 'class_word': 'person'},"
        " images=[], base_model=None, total_steps=40, total_epochs=10);"
        "db.commit(); print(raw)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


async def one_connection(
    host, port, request: bytes, stop_at: float, latencies: list[float], errors: list[str]
):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                errors.append("connection closed")
                return
            length = 0
            chunked = False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                key, _, value = line.decode("latin-1").partition(":")
                if key.lower() == "content-length":
                    length = int(value.strip())
                elif key.lower() == "transfer-encoding" and "chunked" in value.lower():
                    chunked = True
            if chunked:
                while True:
                    size = int((await reader.readline()).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(status_line.split()[1])
            if status >= 400:
                errors.append(str(status))
    finally:
        writer.close()


async def drive(host, port, path, token, duration, concurrency):
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + duration
    started = time.perf_counter()
    await asyncio.gather(
        *(one_connection(host, port, request, stop_at, latencies, errors) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per target")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--web-workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary data dir")
    parser.add_argument(
        "--paths", nargs="*", default=["/healthz", "/lessons/1", "/community", "/api/feed", "/api/jobs/1"]
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="loraface-load-"))
    env = {**os.environ, "LORAFACE_DATA_DIR": str(data_dir), "LORAFACE_WORKER": "off"}
    if args.database_url:
        env["LORAFACE_DATABASE_URL"] = args.database_url
    token = prepare_database(env)
    port = free_port()
    server = subprocess.Popen(
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
            "--workers",
            str(args.web_workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start") from None
                time.sleep(0.2)
        time.sleep(1.0)
        print(
            f"{'path':<22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}  (x{args.concurrency} conns, {args.web_workers} web procs, {os.cpu_count()} cores)"
        )
        reference = None
        for path in args.paths:
            asyncio.run(drive("127.0.0.1", port, path, token, 1.0, 8))  # warm-up
            latencies, errors, elapsed = asyncio.run(
                drive("127.0.0.1", port, path, token, args.duration, args.concurrency)
            )
            rps = len(latencies) / elapsed
            reference = reference or rps
            print(
                f"{path:<22} {rps:>8.0f} {percentile(latencies, 0.5) * 1e3:>8.1f} {percentile(latencies, 0.95) * 1e3:>8.1f} "
                f"{percentile(latencies, 0.99) * 1e3:>8.1f} {len(errors):>7}  ratio to first {rps / reference:.2f}"
                + (f"  statuses {sorted(set(errors))[:3]}" if errors else "")
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
