"""review submissions and reviews

Revision ID: 0006_review
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_review"
down_revision = "0001"
branch_labels = None
depends_on = ("0004_training",)

OPEN = "status IN ('waiting', 'claimed')"


def upgrade() -> None:
    op.create_table(
        "review_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "claimed",
                "approved",
                "changes_requested",
                name="submission_status",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("folder", sa.String(length=1000), nullable=False),
        sa.Column("lora_file", sa.String(length=300), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verdict_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_review_submission_user_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["lora_models.id"],
            name=op.f("fk_review_submission_model_id_lora_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user.id"],
            name=op.f("fk_review_submission_reviewer_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_submission")),
        sa.UniqueConstraint("user_id", "round", name="uq_review_submission_user_id_round"),
    )
    op.create_index(op.f("ix_review_submission_user_id"), "review_submission", ["user_id"], unique=False)
    op.create_index(op.f("ix_review_submission_model_id"), "review_submission", ["model_id"], unique=False)
    op.create_index(
        op.f("ix_review_submission_reviewer_id"), "review_submission", ["reviewer_id"], unique=False
    )
    op.create_index("ix_review_submission_status_id", "review_submission", ["status", "id"], unique=False)
    op.create_index(
        "uq_review_submission_one_open_per_model",
        "review_submission",
        ["model_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_table(
        "review_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_name", sa.String(length=80), nullable=False),
        sa.Column("likeness", sa.Integer(), nullable=False),
        sa.Column("consistency", sa.Integer(), nullable=False),
        sa.Column("flexibility", sa.Integer(), nullable=False),
        sa.Column("image_quality", sa.Integer(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column(
            "verdict",
            sa.Enum("approved", "changes_requested", name="review_verdict", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["review_submission.id"],
            name=op.f("fk_review_review_submission_id_review_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["user.id"], name=op.f("fk_review_review_reviewer_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_review")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_review_review_submission_id")),
    )
    op.create_index(op.f("ix_review_review_reviewer_id"), "review_review", ["reviewer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_review_review_reviewer_id"), table_name="review_review")
    op.drop_table("review_review")
    op.drop_index("uq_review_submission_one_open_per_model", table_name="review_submission")
    op.drop_index("ix_review_submission_status_id", table_name="review_submission")
    op.drop_index(op.f("ix_review_submission_reviewer_id"), table_name="review_submission")
    op.drop_index(op.f("ix_review_submission_model_id"), table_name="review_submission")
    op.drop_index(op.f("ix_review_submission_user_id"), table_name="review_submission")
    op.drop_table("review_submission")
