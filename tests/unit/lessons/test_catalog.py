"""The content files: eight lessons with cards and valid checks, sixteen glossary terms, the article."""

from app.lessons import catalog, images, service
from app.quiz import service as quiz_service


def test_eight_lessons_each_with_a_card_and_a_valid_check():
    lessons = catalog.lessons()
    assert [lesson.number for lesson in lessons] == list(range(1, 9))
    assert len({lesson.slug for lesson in lessons}) == 8
    for lesson in lessons:
        assert lesson.instructor and lesson.body_html and lesson.cards
        for card in lesson.cards:
            assert card.preview_url.removeprefix(images.URL_PREFIX) in images.PICTURES
        questions = lesson.check["questions"]
        assert len(questions) >= 3
        for raw in questions:
            quiz_service.validate_question(service.question_spec(raw))


def test_lesson_one_asks_the_image_question_with_generated_pictures():
    raw = next(q for q in catalog.lesson(1).check["questions"] if q["kind"] == "image_choice")
    assert raw["prompt"] == "Which image would be BAD for a face training dataset?"
    spec = service.question_spec(raw)
    assert all(c.image_path.startswith(images.URL_PREFIX) for c in spec.choices)
    assert [c.image_path for c in spec.choices if c.weight > 0] == [images.url("check-sunglasses.jpg")]


def test_glossary_has_the_sixteen_course_terms():
    terms = catalog.glossary()
    assert len(terms) == 16
    assert {t.term for t in terms} == {
        "LoRA",
        "Instance prompt / trigger word",
        "Class token",
        "Epoch",
        "Step",
        "Batch size",
        "Repeats",
        "Learning rate",
        "Rank and alpha",
        "Overfitting and underfitting",
        "Base model / checkpoint",
        "Inference",
        "Seed",
        "Model strength (LoRA weight)",
        "Caption",
        "Latent space",
    }
    assert all(catalog.lesson(t.lesson) for t in terms)


def test_glossary_search_matches_every_word():
    assert [t.term for t in catalog.search_glossary("SEED")][:1] == ["Seed"] or any(
        t.term == "Seed" for t in catalog.search_glossary("SEED")
    )
    assert {t.term for t in catalog.search_glossary("batch size")} >= {"Batch size"}
    assert catalog.search_glossary("no such word anywhere") == []
    assert len(catalog.search_glossary("")) == 16


def test_article_has_byline_and_sections():
    article = catalog.article("what-makes-a-face-lora-consistent")
    assert article.byline == "AI art director"
    assert len(article.sections) >= 4
    assert all(f'id="{s.anchor}"' in article.body_html for s in article.sections)
