"""privacy: consent and photo retention on the user, photos_deleted_at on the dataset

Revision ID: 0010_privacy
Revises: 0001
Create Date: 2026-11-23 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_privacy"
down_revision = "0001"
branch_labels = None
depends_on = ("0003_datasets",)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): recreating "user" on SQLite would fire its cascades.
    op.add_column("user", sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("user", sa.Column("consent_version", sa.Integer(), nullable=True))
    op.add_column("user", sa.Column("keep_photos", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("dataset", sa.Column("photos_deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("dataset", "photos_deleted_at")
    op.drop_column("user", "keep_photos")
    op.drop_column("user", "consent_version")
    op.drop_column("user", "consented_at")
