"""What instructors send and receive: whole questions with weights and feedback, and statistics."""

from pydantic import BaseModel, Field

from app.quiz.models import Question, QuestionKind
from app.quiz.service import ChoiceSpec, QuestionSpec
from app.quiz.stats import QuestionStats


class ChoiceIn(BaseModel):
    id: int | None = Field(default=None, description="an existing choice to edit; omit for a new one")
    text: str = Field(default="", max_length=2000)
    weight: float = Field(default=0.0, description="share of the marks, -1..1; > 0 is a right answer")
    feedback: str = Field(default="", max_length=4000)
    image_url: str | None = Field(default=None, max_length=500, description="from POST /api/quiz/images")


class QuestionIn(BaseModel):
    lesson: int = Field(description="lesson number, 1 to 8")
    kind: QuestionKind
    title: str = Field(default="", max_length=200)
    prompt: str = Field(max_length=4000)
    general_feedback: str = Field(default="", max_length=4000)
    fixed_order: bool = Field(default=False, description="show the choices as written instead of shuffled")
    choices: list[ChoiceIn] = Field(max_length=20)

    def spec(self) -> QuestionSpec:
        """The question as the engine's QuestionSpec."""
        return QuestionSpec(
            kind=self.kind,
            prompt=self.prompt.strip(),
            title=self.title.strip(),
            general_feedback=self.general_feedback.strip(),
            fixed_order=self.fixed_order,
            choices=[
                ChoiceSpec(
                    text=c.text.strip(),
                    weight=c.weight,
                    feedback=c.feedback.strip(),
                    image_path=c.image_url or None,
                )
                for c in self.choices
            ],
        )

    def choice_ids(self) -> list[int | None] | None:
        """Which stored choice each row edits; None (match by position) when no row names one."""
        ids = [c.id for c in self.choices]
        return ids if any(i is not None for i in ids) else None


class ChoiceDetailOut(BaseModel):
    id: int
    position: int
    text: str
    weight: float
    feedback: str
    image_url: str | None


class QuestionDetailOut(BaseModel):
    id: int
    lesson: int
    position: int
    kind: str
    title: str
    prompt: str
    general_feedback: str
    fixed_order: bool
    version: int
    choices: list[ChoiceDetailOut]

    @classmethod
    def of(cls, q: Question) -> "QuestionDetailOut":
        """The author's view: everything, answers included."""
        return cls(
            id=q.id,
            lesson=q.lesson_number,
            position=q.position,
            kind=q.kind.value,
            title=q.title,
            prompt=q.prompt,
            general_feedback=q.general_feedback,
            fixed_order=q.fixed_order,
            version=q.version,
            choices=[
                ChoiceDetailOut(
                    id=c.id,
                    position=c.position,
                    text=c.text,
                    weight=c.weight,
                    feedback=c.feedback,
                    image_url=c.image_path,
                )
                for c in q.choices
            ],
        )


class ReorderIn(BaseModel):
    lesson: int
    question_ids: list[int] = Field(max_length=200)


class PassMarkIn(BaseModel):
    pass_mark: int = Field(description="percent, 1 to 100")


class LessonSettingsOut(BaseModel):
    lesson: int
    pass_mark: int


class ImageOut(BaseModel):
    image_url: str


class ImportErrorOut(BaseModel):
    line: int
    message: str


class SkippedOut(BaseModel):
    line: int
    kind: str = Field(description="essay, numerical, matching or short answer")
    title: str


class ImportOut(BaseModel):
    lesson: int
    imported: int
    question_ids: list[int]
    skipped: list[SkippedOut] = Field(
        default_factory=list, description="questions of kinds we lack, left out (skip_unsupported=true)"
    )


class WrongAnswerOut(BaseModel):
    text: str
    image_url: str | None
    count: int
    share: float = Field(description="of all answers to the question, 0..1")


class QuestionStatsOut(BaseModel):
    question_id: int
    position: int
    title: str
    prompt: str
    kind: str
    attempts: int = Field(description="answers to the question, retries included")
    learners: int
    first_try_correct: float | None = Field(description="share of learners right on their first try, 0..1")
    correct_share: float | None = Field(description="share of all answers that were right, 0..1")
    most_chosen_wrong: WrongAnswerOut | None
    flag: str | None = Field(
        description='"easy" (nearly everyone right), "hard" (nearly everyone wrong) or null'
    )

    @classmethod
    def of(cls, s: QuestionStats) -> "QuestionStatsOut":
        """One row of the statistics."""
        wrong = s.most_chosen_wrong
        return cls(
            question_id=s.question.id,
            position=s.question.position,
            title=s.question.title,
            prompt=s.question.prompt,
            kind=s.question.kind.value,
            attempts=s.attempts,
            learners=s.learners,
            first_try_correct=s.first_try_correct,
            correct_share=s.correct_share,
            most_chosen_wrong=WrongAnswerOut(
                text=wrong.text, image_url=wrong.image_url, count=wrong.count, share=wrong.share
            )
            if wrong
            else None,
            flag=s.flag,
        )


class LessonStatsOut(BaseModel):
    lesson: int
    questions: list[QuestionStatsOut]
