"""training jobs, lora models and their epochs

Revision ID: 0004_training
Revises: 0001
Create Date: 2026-11-23 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_training"
down_revision = "0001"
branch_labels = None
depends_on = ("0003_datasets",)

JOB_STATUS = sa.Enum(
    "queued", "running", "succeeded", "failed", "cancelled", name="job_status", native_enum=False, length=20
)


def upgrade() -> None:
    op.create_table(
        "training_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("status", JOB_STATUS, nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("base_model", sa.String(length=1000), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("total_steps", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("total_epochs", sa.Integer(), nullable=False),
        sa.Column("loss", sa.Float(), nullable=True),
        sa.Column("learning_rate", sa.Float(), nullable=True),
        sa.Column("images_per_second", sa.Float(), nullable=True),
        sa.Column("eta_seconds", sa.Float(), nullable=True),
        sa.Column("losses", sa.JSON(), nullable=False),
        sa.Column("resumed_from_step", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_training_jobs_user_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_training_jobs_dataset_id_dataset"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_jobs")),
    )
    with op.batch_alter_table("training_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_jobs_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_jobs_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index("ix_training_jobs_status_id", ["status", "id"], unique=False)
        batch_op.create_index(
            "uq_training_jobs_one_running_per_user",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        )

    op.create_table(
        "lora_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.String(length=60), nullable=False),
        sa.Column("class_word", sa.String(length=60), nullable=False),
        sa.Column("family", sa.String(length=20), nullable=False),
        sa.Column("base_model", sa.String(length=1000), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("final_loss", sa.Float(), nullable=True),
        sa.Column("kohya_path", sa.String(length=1000), nullable=False),
        sa.Column("diffusers_path", sa.String(length=1000), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("recommended_strength", sa.Float(), nullable=True),
        sa.Column("recommended_epoch", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_lora_models_user_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["training_jobs.id"],
            name=op.f("fk_lora_models_job_id_training_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lora_models")),
        sa.UniqueConstraint("job_id", name=op.f("uq_lora_models_job_id")),
    )
    with op.batch_alter_table("lora_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lora_models_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lora_model_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("loss", sa.Float(), nullable=True),
        sa.Column("diffusers_path", sa.String(length=1000), nullable=False),
        sa.Column("kohya_path", sa.String(length=1000), nullable=False),
        sa.Column("sample_path", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["training_jobs.id"],
            name=op.f("fk_lora_model_epoch_job_id_training_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["lora_models.id"],
            name=op.f("fk_lora_model_epoch_model_id_lora_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lora_model_epoch")),
        sa.UniqueConstraint("job_id", "epoch", name="uq_lora_model_epoch_job_epoch"),
    )
    with op.batch_alter_table("lora_model_epoch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lora_model_epoch_job_id"), ["job_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lora_model_epoch_model_id"), ["model_id"], unique=False)


def downgrade() -> None:
    op.drop_table("lora_model_epoch")
    op.drop_table("lora_models")
    op.drop_table("training_jobs")
