"""What learners see of a check (never which answer is right) and what they send back."""

from pydantic import BaseModel, Field, field_validator

from app.quiz.models import Attempt, Choice, Question


class ChoiceOut(BaseModel):
    id: int
    text: str
    image_url: str | None = None


class QuestionOut(BaseModel):
    id: int
    kind: str
    title: str
    prompt: str
    choices: list[ChoiceOut]

    @classmethod
    def of(cls, question: Question, choices: list[Choice] | None = None) -> "QuestionOut":
        """The learner's view (choices in the order given, else as written): no weights, no feedback."""
        return cls(
            id=question.id,
            kind=question.kind.value,
            title=question.title,
            prompt=question.prompt,
            choices=[
                ChoiceOut(id=c.id, text=c.text, image_url=c.image_path) for c in (choices or question.choices)
            ],
        )


class CheckOut(BaseModel):
    lesson: int
    pass_mark: int = Field(description="percent needed to pass")
    questions: list[QuestionOut]


class CheckIn(BaseModel):
    answers: dict[str, list[int | str]] = Field(
        default_factory=dict, description='{"<question id>": ["<choice id>", ...]}'
    )

    @field_validator("answers")
    @classmethod
    def _ids_are_numbers(cls, value: dict[str, list[int | str]]) -> dict[str, list[int | str]]:
        for key, choices in value.items():
            if not str(key).isdigit() or not all(str(c).isdigit() for c in choices):
                raise ValueError("question and choice ids are numbers")
        return value

    def as_ids(self) -> dict[int, list[int]]:
        """The answers keyed by question id, as integers."""
        return {int(k): [int(c) for c in v] for k, v in self.answers.items()}


class QuestionResultOut(BaseModel):
    question_id: int | None
    correct: bool
    score: float = Field(description="0..1")
    chosen: list[int]
    feedback: str


class AttemptOut(BaseModel):
    attempt_id: int
    passed: bool
    score: float = Field(description="percent, 0..100")
    pass_mark: int
    results: list[QuestionResultOut]

    @classmethod
    def of(cls, attempt: Attempt) -> "AttemptOut":
        """An attempt as its results."""
        return cls(
            attempt_id=attempt.id,
            passed=attempt.passed,
            score=round(attempt.score * 100, 1),
            pass_mark=attempt.pass_mark,
            results=[
                QuestionResultOut(
                    question_id=a.question_id,
                    correct=a.correct,
                    score=round(a.score, 4),
                    chosen=a.chosen_choice_ids,
                    feedback=a.feedback,
                )
                for a in attempt.answers
            ],
        )
