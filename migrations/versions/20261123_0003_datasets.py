"""datasets and their photos

Revision ID: 0003_datasets
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_datasets"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("trigger", sa.String(length=60), nullable=False),
        sa.Column("class_word", sa.String(length=60), nullable=False),
        sa.Column("base", sa.String(length=10), nullable=False),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("usable", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_dataset_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
    )
    op.create_index(op.f("ix_dataset_user_id"), "dataset", ["user_id"], unique=False)
    op.create_table(
        "dataset_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("analysis", sa.JSON(), nullable=False),
        sa.Column("caption", sa.String(length=500), nullable=False),
        sa.Column("crop_left", sa.Integer(), nullable=False),
        sa.Column("crop_top", sa.Integer(), nullable=False),
        sa.Column("crop_size", sa.Integer(), nullable=False),
        sa.Column("nudge_dx", sa.Float(), nullable=False),
        sa.Column("nudge_dy", sa.Float(), nullable=False),
        sa.Column("nudge_zoom", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_dataset_image_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_image")),
        sa.UniqueConstraint("dataset_id", "sha256", name="uq_dataset_image_dataset_id_sha256"),
    )
    op.create_index(op.f("ix_dataset_image_dataset_id"), "dataset_image", ["dataset_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dataset_image_dataset_id"), table_name="dataset_image")
    op.drop_table("dataset_image")
    op.drop_index(op.f("ix_dataset_user_id"), table_name="dataset")
    op.drop_table("dataset")
