"""Write question records back as GIFT text that Moodle and our own reader import."""

from app.quiz.gift import SPECIALS, GiftChoice, GiftQuestion


def escape(text: str) -> str:
    """Escape GIFT's special characters and keep line breaks as \\n."""
    out = text.replace("\\", "\\\\")
    for ch in SPECIALS:
        out = out.replace(ch, "\\" + ch)
    return out.replace("\r\n", "\n").replace("\n", "\\n")


def _weight(weight: float) -> str:
    return f"%{round(weight * 100, 5):g}%"


def _answer_line(choice: GiftChoice, kind: str) -> str:
    text = (
        f"![{escape(choice.text)}]({escape(choice.image_url)})" if choice.image_url else escape(choice.text)
    )
    if kind == "multiple":
        marker = "~" + _weight(choice.weight)
    elif choice.weight >= 0.995:
        marker = "="
    else:
        marker = "~" + (_weight(choice.weight) if choice.weight else "")  # partial credit, or none
    feedback = f"#{escape(choice.feedback)}" if choice.feedback else ""
    return f"\t{marker}{text}{feedback}"


def dump_question(question: GiftQuestion) -> str:
    """One question in GIFT."""
    head = f"::{escape(question.title)}::" if question.title else ""
    if question.kind == "image_choice":
        head += "[markdown]"
    head += escape(question.prompt)
    general = f"\t####{escape(question.general_feedback)}\n" if question.general_feedback else ""
    if question.kind == "true_false":
        true_choice = next(c for c in question.choices if c.text.lower() == "true")
        false_choice = next(c for c in question.choices if c.text.lower() == "false")
        answer = true_choice.weight > 0
        right, wrong = (true_choice, false_choice) if answer else (false_choice, true_choice)
        feedback = ""
        if right.feedback or wrong.feedback:
            feedback = f"#{escape(wrong.feedback)}#{escape(right.feedback)}"
        tail = f"####{escape(question.general_feedback)}" if question.general_feedback else ""
        return f"{head} {{{'TRUE' if answer else 'FALSE'}{feedback}{tail}}}\n"
    lines = "\n".join(_answer_line(c, question.kind) for c in question.choices)
    return f"{head} {{\n{lines}\n{general}}}\n"


def dump_gift(questions: list[GiftQuestion], *, category: str = "", header: str = "") -> str:
    """A GIFT file: an optional comment header, the category, then the questions."""
    parts = []
    if header:
        parts.extend(f"// {line}" for line in header.splitlines())
    if category:
        parts.append(f"$CATEGORY: {category}")
    text = "\n".join(parts) + ("\n\n" if parts else "")
    return text + "\n".join(dump_question(q) for q in questions)
