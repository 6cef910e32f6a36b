"""auth: sign-up requests waiting for their emailed link

Revision ID: 20261202_signup_request
Revises: 0001
Create Date: 2026-12-02 15:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261202_signup_request"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signup_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_request")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signup_request_token_hash")),
    )
    op.create_index(op.f("ix_signup_request_email"), "signup_request", ["email"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_signup_request_email"), table_name="signup_request")
    op.drop_table("signup_request")
