"""sweeps run as jobs on the training queue: a kind on training_jobs, each sweep keyed to its job

Revision ID: 0012_sweeps_are_jobs
Revises: 0008_generations
Create Date: 2026-12-02 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_sweeps_are_jobs"
down_revision = "0008_generations"
branch_labels = None
depends_on = ("0004_training", "0011_epoch_attempt")

# The columns a sweep's job now holds (status, progress, claim, times).
MOVED = ("status", "done", "total", "error", "worker_id", "heartbeat_at", "started_at", "finished_at")


def upgrade() -> None:
    with op.batch_alter_table("training_jobs") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="train"))
    with op.batch_alter_table("sweep") as batch:
        batch.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
    _give_every_sweep_a_job()
    op.drop_index("ix_sweep_status_id", table_name="sweep")
    with op.batch_alter_table("sweep") as batch:
        batch.alter_column("job_id", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(op.f("uq_sweep_job_id"), ["job_id"])
        batch.create_foreign_key(
            op.f("fk_sweep_job_id_training_jobs"), "training_jobs", ["job_id"], ["id"], ondelete="CASCADE"
        )
        for column in MOVED:
            batch.drop_column(column)


def _give_every_sweep_a_job() -> None:
    """One job per existing sweep, carrying its status and progress; a running one waits again."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, user_id, status, done, total, error, created_at, started_at, finished_at FROM sweep"
        )
    ).all()
    jobs = sa.table(
        "training_jobs",
        *(
            sa.column(name)
            for name in (
                "user_id",
                "kind",
                "status",
                "config",
                "images",
                "attempt",
                "max_attempts",
                "cancel_requested",
                "step",
                "total_steps",
                "epoch",
                "total_epochs",
                "losses",
                "error",
                "created_at",
                "started_at",
                "finished_at",
            )
        ),  # fmt: skip
    )
    for row in rows:
        status = "queued" if row.status == "running" else row.status
        job_id = bind.execute(
            sa.insert(jobs)
            .values(
                user_id=row.user_id,
                kind="sweep",
                status=status,
                config=sa.text("'{}'"),
                images=sa.text("'[]'"),
                attempt=0,
                max_attempts=3,
                cancel_requested=False,
                step=row.done,
                total_steps=row.total,
                epoch=0,
                total_epochs=0,
                losses=sa.text("'[]'"),
                error=row.error,
                created_at=row.created_at,
                started_at=row.started_at,
                finished_at=row.finished_at,
            )  # fmt: skip
            .returning(sa.column("id"))
        ).scalar_one()
        bind.execute(sa.text("UPDATE sweep SET job_id = :job WHERE id = :id"), {"job": job_id, "id": row.id})


def downgrade() -> None:
    with op.batch_alter_table("sweep") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=False, server_default="failed"))
        batch.add_column(sa.Column("done", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("total", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("worker_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE sweep SET status = j.status, done = j.step, total = j.total_steps, error = j.error, "
        "started_at = j.started_at, finished_at = j.finished_at FROM training_jobs j WHERE j.id = sweep.job_id"
    )
    op.create_index("ix_sweep_status_id", "sweep", ["status", "id"])
    with op.batch_alter_table("sweep") as batch:
        batch.drop_constraint(op.f("fk_sweep_job_id_training_jobs"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_sweep_job_id"), type_="unique")
        batch.drop_column("job_id")
    op.execute("DELETE FROM training_jobs WHERE kind = 'sweep'")
    with op.batch_alter_table("training_jobs") as batch:
        batch.drop_column("kind")
