"""Fault benchmark: real `loraface worker` processes killed -9 at every named point of a job's
life, a SIGSTOP/SIGCONT zombie, and many workers on many short jobs; prints lost, stuck and
repeated jobs, stale writes and requeue times.

Runs on a brand-new PostgreSQL database (dropped afterwards) unless --sqlite is given:

    python benchmarks/faults.py --rounds 2 --lease 5 --jobs 24 --workers 4
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from app.config import Settings  # noqa: E402
from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.models import import_all_models  # noqa: E402
from app.seed import seed_all  # noqa: E402
from tests import factories  # noqa: E402
from tests.databases import fresh_database  # noqa: E402
from tests.faults import harness  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="SQLite and polling workers instead")
    parser.add_argument("--rounds", type=int, default=1, help="times to kill at every point")
    parser.add_argument("--lease", type=float, default=5.0, help="the victims' lease in seconds")
    parser.add_argument("--jobs", type=int, default=24, help="short jobs for the many-workers run")
    parser.add_argument("--workers", type=int, default=4, help="workers for the many-workers run")
    args = parser.parse_args()

    import_all_models()
    with tempfile.TemporaryDirectory(prefix="loraface-faults-") as tmp:
        data_dir = Path(tmp) / "data"
        with fresh_database(
            pg_admin_url=None if args.sqlite else args.pg_url, data_dir=Path(tmp), prefix="loraface_faults"
        ) as url:
            settings = Settings(
                data_dir=data_dir, database_url=url, worker="off", secret_key="fault-benchmark"
            )
            settings.ensure_data_dir()
            engine = make_engine(url)
            sessions = make_sessionmaker(engine)
            with sessions() as db:
                seed_all(db=db, settings=settings)
                db.commit()

            def make_job(
                epochs: int = 3, repeats: int = 1, max_steps: int | None = None, photos: int = 4
            ) -> int:
                with sessions() as db:
                    user = factories.make_user(db)
                    images = factories.training_images(settings.data_dir, user)[:photos]
                    config = (
                        {"epochs": None, "max_steps": max_steps, "sample_steps": 1}
                        if max_steps
                        else {"epochs": epochs}
                    )
                    job = factories.make_training_job(db, user, images=images, repeats=repeats, **config)
                    db.commit()
                    return job.id

            backend = "SQLite, polling workers" if args.sqlite else "PostgreSQL, procrastinate workers"
            print(f"fault benchmark on {backend}; victims' lease {args.lease:g} s, sweep 0.5 s")

            kills = []
            for round_number in range(args.rounds):
                kills += harness.kill_at_points(
                    settings=settings,
                    sessions=sessions,
                    make_job=make_job,
                    folder=Path(tmp) / f"kill-{round_number}",
                    lease=args.lease,
                )
            print(f"\nkill -9 at {len(harness.POINTS)} points x {args.rounds} round(s): {len(kills)} jobs")
            print(f"{'point':<20} {'requeue s':>10} {'attempts':>9}  result")
            for k in kills:
                requeue = f"{k.requeue_seconds:.2f}" if k.requeue_seconds is not None else "never"
                print(
                    f"{k.point:<20} {requeue:>10} {k.attempt:>9}  {'ok' if not k.problems else '; '.join(k.problems)}"
                )
            times = [k.requeue_seconds for k in kills if k.requeue_seconds is not None]
            lost = sum(k.status != "succeeded" for k in kills)
            stale = sum(any("dead attempt" in p for p in k.problems) for k in kills)
            repeated = sum(k.attempt > 2 for k in kills)
            print(
                f"lost {lost}, stuck {harness.unfinished(sessions)}, stale writes {stale}, "
                f"claimed more than twice {repeated}; requeue time median {statistics.median(times):.2f} s, "
                f"max {max(times):.2f} s (lease {args.lease:g} s)"
            )

            z = harness.zombie(
                settings=settings,
                sessions=sessions,
                make_job=lambda: make_job(epochs=3, repeats=5),
                folder=Path(tmp) / "zombie",
                lease=args.lease,
            )
            print(
                f"\nSIGSTOP zombie: taken over after {z.takeover_seconds:.2f} s, "
                f"{z.refused_writes} write(s) refused after SIGCONT, "
                f"{'ok' if not z.problems else '; '.join(z.problems)}"
            )

            many = harness.many_workers(
                settings=settings,
                sessions=sessions,
                make_job=lambda: make_job(max_steps=1, photos=1),
                folder=Path(tmp) / "many",
                jobs=args.jobs,
                workers=args.workers,
            )
            runs = sorted(set(many.runs_per_job.values()))
            print(
                f"\n{many.workers} workers x {many.jobs} short jobs: {many.seconds:.1f} s, "
                f"runs per job {runs}, {'ok' if not many.problems else '; '.join(many.problems)}"
            )
            engine.dispose()


if __name__ == "__main__":
    main()
