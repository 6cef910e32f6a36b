"""What the lessons teach, as the API serves it: the facts a good face LoRA needs."""

import re

from app.lessons import catalog
from tests import factories

STATEMENTS = {
    6: ["about\n1e-4 is the common start", "5e-5 to 3e-4", "Prodigy", "AdamW8bit", "Adafactor", "warm-up"],
    3: ["class images", "prior preservation", "SKS", "guns into images", "splits them into several tokens"],
    4: ["never caption the face's\nown traits", "describe what changes", "aspect buckets", "half-body"],
    7: ["The loss does not show over-fitting.", "NaN", "fp16"],
    8: [
        "Pick the last epoch before copying or frying begins",
        "face embeddings",
        "0.6",
        "0.5, 0.7,\n0.9 and 1.1",
    ],
    1: ["Train only on a person who\nhas agreed to it"],
    2: ["changing alpha or rank acts like changing the learning rate"],
    5: [
        "guidance-distilled",
        "not\nclassifier-free guidance",
        "step-distilled",
        "T5 encoder",
        "our app does not offer those yet",
        "non-commercial licence",
        "Apache 2.0",
        "read the licence of the exact checkpoint",
        "loraface train --family flux",
    ],
}


def _text(html: str) -> str:
    """The words of the HTML, with the typographer's curly quotes made straight again."""
    text = re.sub(r"<[^>]+>", "", html).replace("&quot;", '"').replace("&amp;", "&")
    return text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"}))


def test_body_html_states_what_a_good_face_lora_needs(api_as, db):
    api = api_as("learner")
    factories.pass_lessons(db, api.user, 7)
    for number, phrases in STATEMENTS.items():
        body = api.get(f"/api/lessons/{number}").json()["body_html"]
        text = " ".join(_text(body).split())
        for phrase in phrases:
            assert " ".join(phrase.split()) in text, f"lesson {number} does not say {phrase!r}"


def test_the_sdxl_learning_rate_range_and_regularisation_are_explained(api_as, db):
    api = api_as("learner")
    factories.pass_lessons(db, api.user, 7)
    six = " ".join(_text(api.get("/api/lessons/6").json()["body_html"]).split())
    assert "For an SDXL LoRA with AdamW, about 1e-4 is the common start" in six
    three = " ".join(_text(api.get("/api/lessons/3").json()["body_html"]).split())
    assert 'pictures of "a woman" that the base model generated itself' in three


def test_reading_time_comes_from_the_words():
    for lesson in catalog.lessons():
        assert 700 <= lesson.words <= 1300, f"lesson {lesson.number} has {lesson.words} words"
        assert lesson.minutes == -(-lesson.words // catalog.WORDS_PER_MINUTE)
