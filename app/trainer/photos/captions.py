"""Captions (lesson 3 and 4): "<trigger> <class>" plus what varies between photos, and a lint
that catches the mistakes that teach the model the wrong thing."""

from __future__ import annotations

import re

from app.trainer.photos.checks import LESSON_PREPARING, LESSON_TRIGGER, Problem

# Traits of the face itself: captioning them tells the model they are not part of the trigger.
_FACE_TRAITS = re.compile(
    r"\b(blue|brown|green|grey|gray|hazel|dark|light) eyes\b|\beye colou?r\b|\bfreckles?\b|\bmoles?\b|"
    r"\bdimples?\b|\b(big|small|long|pointed|wide|narrow|crooked) nose\b|\b(thin|full) lips\b|"
    r"\bjawline\b|\bcheekbones?\b|\bskin tone\b|\bcomplexion\b|\bface shape\b|\b(round|oval|square) face\b"
)


def default_caption(trigger: str, class_word: str, extras: list[str] | None = None) -> str:
    """'sks person' plus the variable parts, comma separated."""
    parts = [f"{trigger} {class_word}".strip(), *(e.strip() for e in extras or [] if e.strip())]
    return ", ".join(parts)


def variable_parts(*, lighting: str, pose: str) -> list[str]:
    """What differs from photo to photo and should stay out of the face: light and angle."""
    parts = []
    if lighting:
        parts.append(lighting if lighting != "daylight" else "in daylight")
    if pose and pose != "front":
        parts.append(f"{pose} view")
    return parts


def lint(caption: str, *, trigger: str, class_word: str) -> list[Problem]:
    """Caption mistakes: missing trigger, class word alone, the face's own traits described."""
    text = " ".join(caption.lower().split())
    problems = []
    trig, cls = trigger.lower().strip(), class_word.lower().strip()
    has_trigger = bool(trig) and re.search(rf"(?<!\w){re.escape(trig)}(?!\w)", text) is not None
    if not has_trigger:
        problems.append(
            Problem(
                "caption_missing_trigger",
                f"The caption lacks the trigger word '{trigger}': without it the face is not tied to a word you can prompt.",
                LESSON_TRIGGER,
            )
        )
    if cls:
        bare = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(cls)}(?!\w)", text)]
        paired = (
            {
                m.start() + len(trig) + 1
                for m in re.finditer(rf"(?<!\w){re.escape(trig)} {re.escape(cls)}(?!\w)", text)
            }
            if trig
            else set()
        )
        if any(pos not in paired for pos in bare):
            problems.append(
                Problem(
                    "caption_class_without_trigger",
                    f"'{class_word}' appears without the trigger in front: that would change every {class_word} the model draws. Write '{trigger} {class_word}'.",
                    LESSON_TRIGGER,
                )
            )
    trait = _FACE_TRAITS.search(text)
    if trait:
        problems.append(
            Problem(
                "caption_describes_face",
                f"'{trait.group(0)}' describes the face itself; captioned traits are left out of the trigger. Describe only what changes (light, background, clothes).",
                LESSON_PREPARING,
                "warning",
            )
        )
    if len(caption) > 300:
        problems.append(
            Problem(
                "caption_too_long",
                "Keep captions short: the trigger, the class and what varies.",
                LESSON_PREPARING,
                "warning",
            )
        )
    return problems
