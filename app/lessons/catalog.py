"""The course content: lessons, glossary and articles, read once from app/lessons/content/.

Lessons are Markdown with YAML front matter (the instructor's note, the worked-example cards and
the calibration check, which seeding copies into the quiz tables). The files are ours and
trusted, so their Markdown may carry small bits of HTML (a picture gallery, the formula).
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from app.lessons import images

CONTENT_DIR = Path(__file__).resolve().parent / "content"
TOTAL_LESSONS = 8


@dataclass(frozen=True)
class Card:
    """A worked example: a `prompt_gen.txt` card with an AI Preview picture beside it."""

    text: str
    preview_url: str
    alt: str
    caption: str
    file: str = "prompt_gen.txt"


@dataclass(frozen=True)
class Lesson:
    number: int
    slug: str
    title: str
    summary: str
    minutes: int
    instructor: str
    body_html: str
    cards: tuple[Card, ...]
    check: dict  # {"pass_mark": int, "questions": [...]} as written in the front matter

    @property
    def url(self) -> str:
        """The lesson's page."""
        return f"/lessons/{self.number}"


@dataclass(frozen=True)
class Term:
    slug: str
    term: str
    definition: str
    example: str
    lesson: int


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    byline: str
    summary: str
    minutes: int
    body_html: str
    sections: tuple[Section, ...]


# ---- Markdown ----


def slugify(text: str) -> str:
    """A URL fragment for a heading."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(["table", "replacements"])

    def heading_open(self, tokens, idx, options, env):
        # Ids on headings so articles get a table of contents with working links.
        tokens[idx].attrSet("id", slugify(tokens[idx + 1].content))
        return self.renderToken(tokens, idx, options, env)

    def table_open(self, tokens, idx, options, env):
        return '<div class="table-scroll"><table class="table">\n'

    def table_close(self, tokens, idx, options, env):
        return "</table></div>\n"

    md.add_render_rule("heading_open", heading_open)
    md.add_render_rule("table_open", table_open)
    md.add_render_rule("table_close", table_close)
    return md


MARKDOWN = _markdown()


def _split_front_matter(text: str, path: Path) -> tuple[dict, str]:
    if not text.startswith("---\n"):
        raise ValueError(f"{path.name}: missing front matter")
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head) or {}, body


# ---- loading ----


def _load_lesson(path: Path) -> Lesson:
    meta, body = _split_front_matter(path.read_text(encoding="utf-8"), path)
    cards = tuple(
        Card(
            text=c["text"].rstrip("\n"),
            preview_url=images.url(c["preview"]),
            alt=c["alt"],
            caption=c["caption"],
        )
        for c in meta.get("cards", [])
    )
    return Lesson(
        number=int(meta["number"]),
        slug=meta["slug"],
        title=meta["title"],
        summary=meta["summary"],
        minutes=int(meta.get("minutes", 5)),
        instructor=meta["instructor"].strip(),
        body_html=MARKDOWN.render(body),
        cards=cards,
        check=meta.get("check") or {"questions": []},
    )


@cache
def lessons() -> tuple[Lesson, ...]:
    """The eight lessons in order."""
    found = sorted(
        (_load_lesson(p) for p in CONTENT_DIR.glob("[0-9][0-9]-*.md")), key=lambda lesson: lesson.number
    )
    numbers = [lesson.number for lesson in found]
    if numbers != list(range(1, TOTAL_LESSONS + 1)):
        raise ValueError(f"lesson files must be numbered 1..{TOTAL_LESSONS}, found {numbers}")
    return tuple(found)


def lesson(number: int) -> Lesson | None:
    """The lesson with that number, or None."""
    return lessons()[number - 1] if 1 <= number <= TOTAL_LESSONS else None


@cache
def glossary() -> tuple[Term, ...]:
    """Every glossary term, alphabetically."""
    raw = yaml.safe_load((CONTENT_DIR / "glossary.yaml").read_text(encoding="utf-8"))
    terms = [
        Term(
            slug=t["slug"],
            term=t["term"],
            definition=" ".join(t["definition"].split()),
            example=t["example"].rstrip("\n"),
            lesson=int(t["lesson"]),
        )
        for t in raw
    ]
    return tuple(sorted(terms, key=lambda t: t.term.lower()))


def search_glossary(query: str) -> list[Term]:
    """Terms whose name, definition or example contain every word of the query (any case)."""
    words = query.lower().split()
    return [t for t in glossary() if all(w in f"{t.term} {t.definition} {t.example}".lower() for w in words)]


@cache
def _articles() -> dict[str, Article]:
    found = {}
    for path in sorted((CONTENT_DIR / "articles").glob("*.md")):
        meta, body = _split_front_matter(path.read_text(encoding="utf-8"), path)
        tokens = MARKDOWN.parse(body)
        sections = tuple(
            Section(slugify(tokens[i + 1].content), tokens[i + 1].content)
            for i, tok in enumerate(tokens)
            if tok.type == "heading_open" and tok.tag == "h2"
        )
        found[meta["slug"]] = Article(
            slug=meta["slug"],
            title=meta["title"],
            byline=meta["byline"],
            summary=meta.get("summary", ""),
            minutes=int(meta.get("minutes", 5)),
            body_html=MARKDOWN.render(body),
            sections=sections,
        )
    return found


def article(slug: str) -> Article | None:
    """The long-form article with that slug, or None."""
    return _articles().get(slug)
