"""FLUX.1 in the lab: a job records the family it trains; a model or epoch may have no kohya file

Revision ID: 0013_flux_lab
Revises: 0012_sweeps_are_jobs
Create Date: 2026-12-02 19:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_flux_lab"
down_revision = "0012_sweeps_are_jobs"
branch_labels = None
depends_on = ("0012_iteration",)

TABLES = ("lora_models", "lora_model_epoch")
NOT_NULL = "kohya_path VARCHAR(1000) NOT NULL"
NULLABLE = "kohya_path VARCHAR(1000)"


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): recreating a table on SQLite would fire its cascades.
    op.add_column("training_jobs", sa.Column("family", sa.String(length=20), nullable=True))
    _set_kohya_nullable(True)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"UPDATE {table} SET kohya_path = '' WHERE kohya_path IS NULL")
    _set_kohya_nullable(False)
    op.drop_column("training_jobs", "family")


def _set_kohya_nullable(nullable: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for table in TABLES:
            op.alter_column(table, "kohya_path", existing_type=sa.String(length=1000), nullable=nullable)
        return
    # SQLite cannot drop a NOT NULL in place, and the batch rebuild (copy, DROP, rename) would
    # cascade-delete every epoch, sweep and submission of each model, as foreign keys are on
    # and cannot be turned off inside the migration's transaction. A NOT NULL changes nothing on
    # disk, so the table's stored definition is edited instead, the way SQLite documents for it.
    before, after = (NOT_NULL, NULLABLE) if nullable else (NULLABLE, NOT_NULL)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    for table in TABLES:
        sql = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
        ).scalar_one()
        if before not in sql:
            raise RuntimeError(f"{table}: unexpected definition of kohya_path in {sql!r}")
        bind.execute(
            sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
            {"sql": sql.replace(before, after), "t": table},
        )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
