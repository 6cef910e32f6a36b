"""which attempt wrote each epoch row

Revision ID: 0011_epoch_attempt
Revises: 0001
Create Date: 2026-11-23 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_epoch_attempt"
down_revision = "0001"
branch_labels = None
depends_on = ("0004_training",)


def upgrade() -> None:
    with op.batch_alter_table("lora_model_epoch") as batch:
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("lora_model_epoch") as batch:
        batch.drop_column("attempt")
