"""iteration: a job records the job it started from and what changed; photo deletion on request
or on approval

Revision ID: 0012_iteration
Revises: 0010_privacy
Create Date: 2026-12-02 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_iteration"
down_revision = "0010_privacy"
branch_labels = None
depends_on = ("0004_training",)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): recreating a table on SQLite would fire its cascades.
    op.add_column("training_jobs", sa.Column("based_on_id", sa.Integer(), nullable=True))
    op.add_column("training_jobs", sa.Column("changes", sa.JSON(), nullable=True))
    op.create_index("ix_training_jobs_based_on_id", "training_jobs", ["based_on_id"])
    op.add_column("dataset", sa.Column("delete_requested_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "user", sa.Column("delete_photos_on_approval", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("user", "delete_photos_on_approval")
    op.drop_column("dataset", "delete_requested_at")
    op.drop_index("ix_training_jobs_based_on_id", table_name="training_jobs")
    op.drop_column("training_jobs", "changes")
    op.drop_column("training_jobs", "based_on_id")
