"""JSON shapes of the course API (see CONTRACT.md)."""

from pydantic import BaseModel, Field

from app.lessons.catalog import Lesson, Term
from app.lessons.service import Node, Progress
from app.lessons.tools import TokenReport


class LessonSummaryOut(BaseModel):
    number: int
    slug: str
    title: str
    summary: str
    unlocked: bool
    passed: bool
    state: str  # passed | current | locked
    milestone: str | None = None

    @classmethod
    def of(cls, node: Node) -> "LessonSummaryOut":
        """A node of the track."""
        lesson = node.lesson
        return cls(
            number=lesson.number,
            slug=lesson.slug,
            title=lesson.title,
            summary=lesson.summary,
            unlocked=node.unlocked,
            passed=node.state == "passed",
            state=node.state,
            milestone=node.milestone,
        )


class CardOut(BaseModel):
    file: str
    text: str
    preview_url: str
    alt: str
    caption: str


class LessonOut(BaseModel):
    number: int
    slug: str
    title: str
    summary: str
    minutes: int
    instructor: str
    body_html: str
    cards: list[CardOut]
    passed: bool
    pass_mark: int
    check_url: str

    @classmethod
    def of(cls, lesson: Lesson, *, passed: bool, pass_mark: int) -> "LessonOut":
        """An unlocked lesson in full."""
        return cls(
            number=lesson.number,
            slug=lesson.slug,
            title=lesson.title,
            summary=lesson.summary,
            minutes=lesson.minutes,
            instructor=lesson.instructor,
            body_html=lesson.body_html,
            cards=[CardOut(**c.__dict__) for c in lesson.cards],
            passed=passed,
            pass_mark=pass_mark,
            check_url=f"/api/lessons/{lesson.number}/check",
        )


class ProgressOut(BaseModel):
    passed: int
    total: int
    step: int
    current: int | None

    @classmethod
    def of(cls, progress: Progress) -> "ProgressOut":
        """The learner's place on the track."""
        return cls(passed=progress.passed, total=progress.total, step=progress.step, current=progress.current)


class TermOut(BaseModel):
    slug: str
    term: str
    definition: str
    example: str
    lesson: int

    @classmethod
    def of(cls, term: Term) -> "TermOut":
        """A glossary entry."""
        return cls(**term.__dict__)


class TokenizeOut(BaseModel):
    text: str
    base: str
    tokens: list[str] = Field(description="the CLIP tokens, without the end-of-word mark")
    count: int
    common_word: bool = Field(description="one whole-word token the base model has read very often")
    known_word: bool = Field(description="one whole-word token: it may already mean something")
    message: str

    @classmethod
    def of(cls, report: TokenReport) -> "TokenizeOut":
        """A trigger checker report."""
        return cls(**report.__dict__)
