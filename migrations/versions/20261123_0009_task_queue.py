"""procrastinate's tables on PostgreSQL (the delivery side of the training queue)

training_jobs stays the source of truth for status, lease and fencing; procrastinate only
tells a worker somewhere that a job is waiting. Its schema is the one shipped with the pinned
procrastinate release; a later release's SQL migrations become new revisions here.

Revision ID: 0009_task_queue
Revises: 0001
Create Date: 2026-11-23 12:00:00
"""

from alembic import op

revision = "0009_task_queue"
down_revision = "0001"
branch_labels = None
depends_on = ("0004_training",)

TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers")
TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite: one process, workers poll training_jobs directly
    from procrastinate.schema import SchemaManager

    # The driver treats % as a placeholder sign, so the schema's own % signs are doubled.
    bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in TABLES:
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    functions = bind.exec_driver_sql(
        "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proname LIKE 'procrastinate%'"
    ).scalars()
    for signature in list(functions):
        bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    for type_name in TYPES:
        bind.exec_driver_sql(f"DROP TYPE IF EXISTS {type_name} CASCADE")
