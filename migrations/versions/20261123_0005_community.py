"""community posts, pictures, comments, reactions, reports, action log

Revision ID: 0005_community
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_community"
down_revision = "0001"
branch_labels = None
depends_on = ("0004_training",)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def _user_fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["user.id"], name=f"fk_{table}_{column}_user", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "community_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("post_kind", "model", "help"), nullable=False),
        sa.Column("title", sa.String(length=140), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("lesson_number", sa.Integer(), nullable=True),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("model_name", sa.String(length=100), nullable=True),
        sa.Column("trigger", sa.String(length=60), nullable=True),
        sa.Column("class_word", sa.String(length=60), nullable=True),
        sa.Column("recommended_strength", sa.Float(), nullable=True),
        sa.Column("recommended_epoch", sa.Integer(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("losses", sa.JSON(), nullable=True),
        sa.Column("total_steps", sa.Integer(), nullable=True),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        _user_fk("author_id", "community_post", "CASCADE"),
        _user_fk("hidden_by_id", "community_post", "SET NULL"),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["lora_models.id"],
            name="fk_community_post_model_id_lora_models",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["training_jobs.id"],
            name="fk_community_post_job_id_training_jobs",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_community_post"),
    )
    op.create_index("ix_community_post_author_id", "community_post", ["author_id"])
    op.create_index("ix_community_post_model_id", "community_post", ["model_id"])
    op.create_index("ix_community_post_job_id", "community_post", ["job_id"])
    op.create_index("ix_community_post_kind_id", "community_post", ["kind", "id"])
    op.create_index("ix_community_post_lesson_number_id", "community_post", ["lesson_number", "id"])

    op.create_table(
        "community_post_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("caption", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_post.id"],
            name="fk_community_post_image_post_id_community_post",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_community_post_image"),
        sa.UniqueConstraint("post_id", "position", name="uq_community_post_image_post_id_position"),
    )

    op.create_table(
        "community_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_post.id"],
            name="fk_community_comment_post_id_community_post",
            ondelete="CASCADE",
        ),
        _user_fk("author_id", "community_comment", "CASCADE"),
        _user_fk("hidden_by_id", "community_comment", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_community_comment"),
    )
    op.create_index("ix_community_comment_author_id", "community_comment", ["author_id"])
    op.create_index("ix_community_comment_post_id_id", "community_comment", ["post_id", "id"])

    op.create_table(
        "community_reaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("reaction_kind", "like", "helpful", "love", "wow"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_post.id"],
            name="fk_community_reaction_post_id_community_post",
            ondelete="CASCADE",
        ),
        _user_fk("user_id", "community_reaction", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_community_reaction"),
        sa.UniqueConstraint("post_id", "user_id", "kind", name="uq_community_reaction_post_id_user_id_kind"),
    )
    op.create_index("ix_community_reaction_user_id", "community_reaction", ["user_id"])

    op.create_table(
        "community_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column(
            "reason",
            _enum("report_reason", "spam", "abuse", "private_photos", "off_topic", "other"),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("status", _enum("report_status", "open", "resolved", "dismissed"), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user_fk("reporter_id", "community_report", "CASCADE"),
        _user_fk("resolved_by_id", "community_report", "SET NULL"),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_post.id"],
            name="fk_community_report_post_id_community_post",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["community_comment.id"],
            name="fk_community_report_comment_id_community_comment",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_community_report"),
    )
    op.create_index("ix_community_report_reporter_id", "community_report", ["reporter_id"])
    op.create_index("ix_community_report_post_id", "community_report", ["post_id"])
    op.create_index("ix_community_report_comment_id", "community_report", ["comment_id"])
    op.create_index("ix_community_report_status_id", "community_report", ["status", "id"])

    op.create_table(
        "community_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("action_kind", "post", "comment", "report"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user_fk("user_id", "community_action", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_community_action"),
    )
    op.create_index(
        "ix_community_action_user_id_kind_at", "community_action", ["user_id", "kind", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("community_action")
    op.drop_table("community_report")
    op.drop_table("community_reaction")
    op.drop_table("community_comment")
    op.drop_table("community_post_image")
    op.drop_table("community_post")
