"""Shared bits for the quiz authoring tests: pictures made with Pillow and question bodies."""

import io

from PIL import Image


def picture_bytes(colour=(200, 40, 40), size=(64, 48), fmt="PNG", **save) -> bytes:
    """A small real picture."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt, **save)
    return out.getvalue()


def single_body(lesson: int = 2, prompt: str = "What does LoRA freeze?") -> dict:
    """A valid single-choice question for the API."""
    return {
        "lesson": lesson,
        "kind": "single",
        "title": "Frozen part",
        "prompt": prompt,
        "general_feedback": "LoRA trains small matrices beside a frozen base.",
        "choices": [
            {"text": "The base model's weights", "weight": 1, "feedback": "Right."},
            {"text": "Nothing", "weight": 0, "feedback": "It freezes the base."},
            {"text": "The adapter", "weight": 0, "feedback": "The adapter is what trains."},
        ],
    }
