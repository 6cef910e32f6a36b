"""The course content: lessons, glossary and articles, read once from app/lessons/content/.

Lessons are Markdown with YAML front matter (the instructor's note, the worked-example cards and
the calibration check, which seeding copies into the quiz tables). The files are ours and
trusted, so their Markdown may carry small bits of HTML (a picture gallery, the formula).
"""

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from app.lessons import images, recipes

CONTENT_DIR = Path(__file__).resolve().parent / "content"
TOTAL_LESSONS = 8
WORDS_PER_MINUTE = 200  # a careful reading pace for technical text
TOOL_MARK = re.compile(r"<!-- tool:([a-z]+) -->")  # where an interactive tool sits in a lesson
RECIPES_MARK = "<!-- recipes -->"


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
    words: int = 0  # of the instructor's note and the body

    @property
    def parts(self) -> list[tuple[str, str]]:
        """The body as ("html", markup) and ("tool", name) pieces, so a page can place the tools."""
        pieces = TOOL_MARK.split(self.body_html)
        return [("tool" if i % 2 else "html", piece) for i, piece in enumerate(pieces) if piece.strip()]

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


def count_words(html: str) -> int:
    """Words a reader reads in a piece of HTML (tags and comments left out)."""
    return len(re.sub(r"<!--.*?-->|<[^>]+>", " ", html).split())


def reading_minutes(words: int) -> int:
    """Minutes to read that many words, rounded up."""
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


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
    body_html = MARKDOWN.render(body).replace(RECIPES_MARK, recipes.table_html())
    words = count_words(body_html) + len(meta["instructor"].split())
    return Lesson(
        number=int(meta["number"]),
        slug=meta["slug"],
        title=meta["title"],
        summary=meta["summary"],
        minutes=reading_minutes(words),
        instructor=meta["instructor"].strip(),
        body_html=body_html,
        cards=cards,
        check=meta.get("check") or {"questions": []},
        words=words,
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
            minutes=reading_minutes(count_words(MARKDOWN.render(body))),
            body_html=MARKDOWN.render(body),
            sections=sections,
        )
    return found


def article(slug: str) -> Article | None:
    """The long-form article with that slug, or None."""
    return _articles().get(slug)
