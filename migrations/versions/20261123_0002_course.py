"""course: lesson checks (questions, choices, pass marks) and graded attempts

Revision ID: 0002_course
Revises: 0001
Create Date: 2026-11-23 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_course"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quiz_lesson_settings",
        sa.Column("lesson_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lesson_number", name=op.f("pk_quiz_lesson_settings")),
    )
    op.create_table(
        "quiz_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_number", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "single",
                "multiple",
                "true_false",
                "image_choice",
                name="question_kind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("general_feedback", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_question")),
    )
    op.create_index(
        "ix_quiz_question_lesson_position", "quiz_question", ["lesson_number", "position"], unique=False
    )
    op.create_table(
        "quiz_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("image_path", sa.String(length=500), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_question.id"],
            name=op.f("fk_quiz_choice_question_id_quiz_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_choice")),
    )
    op.create_index(op.f("ix_quiz_choice_question_id"), "quiz_choice", ["question_id"], unique=False)
    op.create_table(
        "quiz_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lesson_number", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_quiz_attempt_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempt")),
    )
    op.create_index("ix_quiz_attempt_user_lesson", "quiz_attempt", ["user_id", "lesson_number"], unique=False)
    op.create_table(
        "quiz_attempt_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("question_version", sa.Integer(), nullable=False),
        sa.Column("chosen_choice_ids", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quiz_attempt.id"],
            name=op.f("fk_quiz_attempt_answer_attempt_id_quiz_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["quiz_question.id"],
            name=op.f("fk_quiz_attempt_answer_question_id_quiz_question"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempt_answer")),
    )
    op.create_index(
        op.f("ix_quiz_attempt_answer_attempt_id"), "quiz_attempt_answer", ["attempt_id"], unique=False
    )
    op.create_index(
        op.f("ix_quiz_attempt_answer_question_id"), "quiz_attempt_answer", ["question_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_quiz_attempt_answer_question_id"), table_name="quiz_attempt_answer")
    op.drop_index(op.f("ix_quiz_attempt_answer_attempt_id"), table_name="quiz_attempt_answer")
    op.drop_table("quiz_attempt_answer")
    op.drop_index("ix_quiz_attempt_user_lesson", table_name="quiz_attempt")
    op.drop_table("quiz_attempt")
    op.drop_index(op.f("ix_quiz_choice_question_id"), table_name="quiz_choice")
    op.drop_table("quiz_choice")
    op.drop_index("ix_quiz_question_lesson_position", table_name="quiz_question")
    op.drop_table("quiz_question")
    op.drop_table("quiz_lesson_settings")
