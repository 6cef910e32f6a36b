"""course: a question may fix the order of its choices (others are shuffled per attempt)

Revision ID: 0012_quiz_fixed_order
Revises: 0002_course
Create Date: 2026-12-02 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_quiz_fixed_order"
down_revision = "0002_course"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quiz_question") as batch:
        batch.add_column(sa.Column("fixed_order", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("quiz_question") as batch:
        batch.drop_column("fixed_order")
