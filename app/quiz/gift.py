"""GIFT (Moodle's quiz text format): parse into plain question records (app.quiz.gift_writer
writes them back).

We support the kinds LoRAFace has: single choice (= and ~, where a ~%50% wrong answer earns
partial credit, as Moodle writes it), multiple answers (~%50% weights and no = answer),
true/false ({T}/{F}), and image choice, written as Markdown images in the answers
(`=![a clear, well-lit face](/static/...)`). Everything else GIFT can express (numeric,
matching, short answer, essay) is reported with its line number, never silently dropped:
as an error, or, when the caller asks to skip unsupported kinds, in a list of what was skipped.
"""

from dataclasses import dataclass, field

SPECIALS = "~=#{}:"
FORMATS = ("[html]", "[moodle]", "[plain]", "[markdown]")


@dataclass
class GiftChoice:
    text: str
    weight: float  # fraction of the marks, -1..1; > 0 means a right answer
    feedback: str = ""
    image_url: str | None = None

    @property
    def is_correct(self) -> bool:
        return self.weight > 0


@dataclass
class GiftQuestion:
    kind: str  # single | multiple | true_false | image_choice
    prompt: str
    choices: list[GiftChoice]
    title: str = ""
    general_feedback: str = ""
    category: str = ""
    line: int = 0


@dataclass(frozen=True)
class GiftError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class _Block:
    text: str
    line: int
    # line number of each character, so errors deep inside a block point at the right line
    lines: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class GiftSkipped:
    """A question of a kind LoRAFace does not ask, left out of an import on request."""

    line: int
    kind: str  # essay | numerical | matching | short answer
    title: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}" + (f" ({self.title})" if self.title else "")


@dataclass
class GiftRead:
    """What a GIFT file holds: the questions we can take, syntax errors, and skipped kinds."""

    questions: list["GiftQuestion"]
    errors: list[GiftError]
    skipped: list[GiftSkipped]


class _Problem(Exception):
    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset = offset
        self.message = message


class _Unsupported(_Problem):
    """A well-formed question of a kind we do not have."""

    def __init__(self, offset: int, kind: str, message: str):
        super().__init__(offset, message)
        self.kind = kind


# ---- reading ----


def _strip_comments(text: str) -> list[tuple[int, str]]:
    """Lines with their 1-based numbers; `//` comment lines become blank (they end a question too)."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        out.append((number, "" if line.lstrip().startswith("//") else line))
    return out


def _blocks(lines: list[tuple[int, str]]) -> list[_Block]:
    """Questions are separated by blank lines (so an unclosed brace cannot swallow the file)."""
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, line in lines:
        if not line.strip():
            if current is not None:
                blocks.append(current)
                current = None
            continue
        if current is None:
            current = _Block(text="", line=number)
        elif current.text:
            current.text += "\n"
            current.lines.append(number)
        current.text += line
        current.lines.extend([number] * len(line))
    if current is not None:
        blocks.append(current)
    return blocks


def _find(text: str, target: str, start: int = 0) -> int:
    """Index of the first unescaped `target` at or after start, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(target, i):
            return i
        i += 1
    return -1


def unescape(text: str) -> str:
    """Undo GIFT escapes (\\: \\= \\~ \\# \\{ \\} \\\\ and \\n)."""
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _clean(text: str) -> str:
    """Unescape and fold the source's own line breaks into spaces (\\n keeps a real break)."""
    folded = " ".join(part.strip() for part in text.split("\n"))
    return unescape(folded.strip())


def _split_answers(body: str) -> list[tuple[int, str, str]]:
    """(offset, marker, raw text) for each answer starting with an unescaped = or ~."""
    answers = []
    i = 0
    start = None
    marker = ""
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "=~" and not (ch == "=" and i > 0 and body[i - 1] == "-"):
            # "->" inside matching answers is not a new answer
            if start is not None:
                answers.append((start, marker, body[start + 1 : i]))
            start, marker = i, ch
        i += 1
    if start is not None:
        answers.append((start, marker, body[start + 1 :]))
    return answers


def _parse_weight(raw: str, offset: int) -> tuple[float | None, str]:
    """A leading %n% weight (percent) and the rest of the answer."""
    if not raw.startswith("%"):
        return None, raw
    end = raw.find("%", 1)
    if end == -1:
        raise _Problem(offset, "bad weight: a weight looks like %50% (the closing % is missing)")
    number = raw[1:end].strip()
    try:
        value = float(number)
    except ValueError:
        raise _Problem(offset, f"bad weight %{number}%: it must be a number between -100 and 100") from None
    if not -100 <= value <= 100:
        raise _Problem(offset, f"bad weight %{number}%: it must be between -100 and 100")
    return value / 100, raw[end + 1 :]


def _split_feedback(raw: str) -> tuple[str, str]:
    cut = _find(raw, "#")
    if cut == -1:
        return raw, ""
    return raw[:cut], raw[cut + 1 :]


def _image(text: str) -> tuple[str, str | None]:
    """`![alt](url)` -> (alt, url); anything else -> (text, None)."""
    if text.startswith("![") and text.endswith(")") and "](" in text:
        alt, _, rest = text[2:].partition("](")
        return alt, rest[:-1]
    return text, None


def _parse_true_false(body: str, offset: int) -> tuple[list[GiftChoice], str] | None:
    head, _, rest = body.partition("#")
    word = head.strip().upper()
    if word not in ("T", "TRUE", "F", "FALSE"):
        return None
    answer = word.startswith("T")
    parts = _split_on_hash(body[len(head) + 1 :]) if rest or body.endswith("#") else []
    # Moodle: the first feedback is shown for a wrong answer, the second for a right one.
    wrong_fb = _clean(parts[0]) if len(parts) > 0 else ""
    right_fb = _clean(parts[1]) if len(parts) > 1 else ""
    choices = [
        GiftChoice("True", 1.0 if answer else 0.0, right_fb if answer else wrong_fb),
        GiftChoice("False", 0.0 if answer else 1.0, wrong_fb if answer else right_fb),
    ]
    return choices, ""


def _split_on_hash(text: str) -> list[str]:
    parts, start = [], 0
    while True:
        cut = _find(text, "#", start)
        if cut == -1:
            parts.append(text[start:])
            return parts
        parts.append(text[start:cut])
        start = cut + 1


def _parse_answers(body: str) -> tuple[str, list[GiftChoice]]:
    """Kind and choices of a choice question; raises _Problem for what we cannot take."""
    stripped = body.strip()
    lead = len(body) - len(body.lstrip())
    if not stripped:
        raise _Unsupported(0, "essay", "essay questions ({}) are not supported")
    if stripped.startswith("#"):
        raise _Unsupported(lead, "numerical", "numeric questions ({#...}) are not supported")
    tf = _parse_true_false(stripped, lead)
    if tf is not None:
        return "true_false", tf[0]
    answers = _split_answers(body)
    if not answers or body[: answers[0][0]].strip():
        raise _Problem(lead, f"unknown question type: answers start with = or ~, not {stripped[:12]!r}")
    choices: list[GiftChoice] = []
    weighted = False
    for offset, marker, raw in answers:
        if _find(raw, "->") != -1:
            raise _Unsupported(offset, "matching", "matching questions (a -> b) are not supported")
        weight, rest = _parse_weight(raw.strip(), offset)
        weighted = weighted or weight is not None
        if weight is None:
            weight = 1.0 if marker == "=" else 0.0
        text, feedback = _split_feedback(rest)
        text, image = _image(_clean(text))
        if not text and not image:
            raise _Problem(offset, "an answer is empty")
        choices.append(GiftChoice(text=text, weight=weight, feedback=_clean(feedback), image_url=image))
    markers = {m for _, m, _ in answers}
    if markers == {"="}:
        if len(answers) > 1 or not weighted:
            raise _Unsupported(
                answers[0][0], "short answer", "short-answer questions (only = answers) are not supported"
            )
    right = [c for c in choices if c.weight > 0]
    if not right:
        raise _Problem(answers[0][0], "no right answer: mark one with = or give it a positive %weight%")
    if "=" in markers:
        # Moodle's single choice: = is the full-credit answer; ~%50% answers earn partial credit.
        if sum(1 for _, m, _ in answers if m == "=") > 1:
            raise _Problem(
                answers[0][0], "more than one = answer: give several right answers %weights% instead"
            )
        if not any(c.weight >= 0.995 for c in choices):
            raise _Problem(answers[0][0], "bad weight: the = answer of a single choice earns 100%")
        if any(c.weight >= 0.995 for c, (_, m, _) in zip(choices, answers, strict=True) if m == "~"):
            raise _Problem(answers[0][0], "bad weight: only the = answer of a single choice earns 100%")
        kind = "single"
    elif weighted:
        total = sum(c.weight for c in right)
        if abs(total - 1.0) > 0.005:
            raise _Problem(
                answers[0][0], f"bad weight: the right answers add up to {total * 100:g}%, not 100%"
            )
        kind = "multiple"
    else:
        if len(right) > 1:
            raise _Problem(
                answers[0][0], "more than one = answer: give several right answers %weights% instead"
            )
        kind = "single"
    if any(c.image_url for c in choices):
        if not all(c.image_url for c in choices):
            raise _Problem(answers[0][0], "mix of image and text answers: give every answer an image or none")
        if kind != "single":
            raise _Problem(answers[0][0], "image choice questions have exactly one right image")
        kind = "image_choice"
    return kind, choices


def _parse_block(block: _Block, category: str) -> GiftQuestion:
    text = block.text
    i = 0
    title = ""
    lead = len(text) - len(text.lstrip())
    if text.lstrip().startswith("::"):
        start = lead + 2
        end = _find(text, "::", start)
        if end == -1:
            raise _Problem(lead, "the title is not closed: write ::title:: before the question")
        title = _clean(text[start:end])
        i = end + 2
    rest = text[i:].lstrip()
    i = len(text) - len(rest)
    for marker in FORMATS:
        if rest.lower().startswith(marker):
            i += len(marker)
            break
    open_at = _find(text, "{", i)
    if open_at == -1:
        raise _Problem(i, "no answer block: a question needs {...} with its answers")
    close_at = _find(text, "}", open_at + 1)
    if close_at == -1:
        raise _Problem(open_at, "unclosed brace: the answer block opened here is never closed with }")
    nested = _find(text, "{", open_at + 1)
    if nested != -1 and nested < close_at:
        raise _Problem(nested, "a { inside an answer block must be escaped as \\{")
    before = _clean(text[i:open_at])
    after = _clean(text[close_at + 1 :])
    if _find(text, "{", close_at + 1) != -1:
        raise _Problem(close_at + 1, "a question can have only one answer block")
    prompt = f"{before} _____ {after}".strip() if after else before
    if not prompt:
        raise _Problem(open_at, "the question has no text")
    body = text[open_at + 1 : close_at]
    general = ""
    cut = _find(body, "####")
    if cut != -1:
        general = _clean(body[cut + 4 :])
        body = body[:cut]
    try:
        kind, choices = _parse_answers(body)
    except _Problem as problem:
        problem.offset += open_at + 1  # from the answer block to the whole question
        raise
    return GiftQuestion(
        kind=kind,
        prompt=prompt,
        choices=choices,
        title=title,
        general_feedback=general,
        category=category,
        line=block.line,
    )


def parse_gift(text: str) -> tuple[list[GiftQuestion], list[GiftError]]:
    """Every question we can take and every error, each with its line; callers import nothing
    when the error list is not empty."""
    read = read_gift(text)
    return read.questions, read.errors


def read_gift(text: str, *, skip_unsupported: bool = False) -> GiftRead:
    """Like parse_gift; with skip_unsupported, kinds we lack (essay, numerical, matching, short
    answer) are listed as skipped instead of being errors. Syntax errors stay errors."""
    questions: list[GiftQuestion] = []
    errors: list[GiftError] = []
    skipped: list[GiftSkipped] = []
    category = ""
    for block in _blocks(_strip_comments(text.replace("\r\n", "\n").lstrip("\ufeff"))):
        body = block.text
        if body.lstrip().startswith("$CATEGORY:"):
            first, _, remainder = body.partition("\n")
            category = first.split(":", 1)[1].strip()
            if not remainder.strip():
                continue
            skipped = len(first) + 1
            block = _Block(
                text=remainder,
                line=block.lines[skipped] if skipped < len(block.lines) else block.line,
                lines=block.lines[skipped:],
            )
        try:
            questions.append(_parse_block(block, category))
        except _Problem as problem:
            offset = min(problem.offset, len(block.lines) - 1)
            line = block.lines[offset] if block.lines and offset >= 0 else block.line
            if skip_unsupported and isinstance(problem, _Unsupported):
                skipped.append(GiftSkipped(line=block.line, kind=problem.kind, title=_title_of(block.text)))
            else:
                errors.append(GiftError(line=line, message=problem.message))
    return GiftRead(questions=questions, errors=errors, skipped=skipped)


def _title_of(text: str) -> str:
    """The ::title:: of a question block, or the start of its text."""
    text = text.strip()
    if text.startswith("::"):
        end = _find(text, "::", 2)
        if end != -1:
            return _clean(text[2:end])
    open_at = _find(text, "{")
    return _clean(text[: open_at if open_at != -1 else len(text)])[:80]
