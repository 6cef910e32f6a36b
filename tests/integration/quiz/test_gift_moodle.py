"""GIFT as Moodle writes it: partial credit on single choice, and banks that hold kinds we lack.

The banks below are our own, written the way Moodle's GIFT examples are laid out."""

from app.quiz import service as quiz_service
from app.quiz.gift import read_gift
from app.quiz.models import QuestionKind

# The kinds we have, in Moodle's own notation.
SUPPORTED = """// A bank in Moodle's style
$CATEGORY: $course$/LoRA basics

::Partial credit::Which optimizer learning rate fits Prodigy? {
  ~1e-6#Far too small for anything.
  ~%50%1e-4#Half right: fine for AdamW, but Prodigy works out its own step size.
  =1.0#Right: Prodigy takes 1.0.
}

::Weighted answers::Which of these change how strongly a LoRA's update lands? {
  ~%50%alpha
  ~%50%rank
  ~%-100%the seed
}

::Loss::The diffusion loss curve shows over-fitting.{FALSE#It does not; judge by samples.#Right.}

Who trains a LoRA of a real person without asking? {=Nobody should ~Anyone with the photos ~%25%Only friends}
"""

# A mixed bank: two of ours among four kinds we do not ask.
MIXED = """::Essay::Describe your ideal dataset in a paragraph. {}

::Numerical::How many steps are 15 images x 10 repeats x 10 epochs? {#1500:0}

::Matching::Match each base with its crop size. {
  =SDXL -> 1024
  =SD 1.5 -> 512
}

::Short answer::Which token is also the name of a rifle? {=sks =SKS}

::Single::Which crop size suits SDXL? {=1024x1024 ~512x512 ~%30%768x768#Close, but SDXL trained around 1024.}

::True or false::SDXL was trained on many aspect ratios. {T}
"""


def _by_title(db, lesson: int) -> dict:
    db.expire_all()
    return {q.title: q for q in quiz_service.list_questions(db=db, lesson_number=lesson)}


def test_single_choice_with_partial_credit_parses_as_single():
    read = read_gift(SUPPORTED)
    assert read.errors == [] and read.skipped == []
    partial = read.questions[0]
    assert partial.kind == "single"
    assert [c.weight for c in partial.choices] == [0.0, 0.5, 1.0]
    assert [q.kind for q in read.questions] == ["single", "multiple", "true_false", "single"]


def test_moodle_style_bank_imports_with_partial_credit(api_as, db):
    api = api_as("instructor")
    response = api.post("/api/quiz/import?lesson=6", content=SUPPORTED.encode())
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 4 and response.json()["skipped"] == []
    questions = _by_title(db, 6)
    partial = questions["Partial credit"]
    assert partial.kind == QuestionKind.single
    weights = {c.text: c.weight for c in partial.choices}
    assert weights == {"1e-6": 0.0, "1e-4": 0.5, "1.0": 1.0}
    assert questions["Weighted answers"].kind == QuestionKind.multiple
    # grading: the half-credit answer earns half the marks and is not called right
    half = next(c for c in partial.choices if c.text == "1e-4")
    assert quiz_service.score_answer(partial, [half.id]) == (0.5, False)
    full = next(c for c in partial.choices if c.text == "1.0")
    assert quiz_service.score_answer(partial, [full.id]) == (1.0, True)
    assert quiz_service.right_answers(partial) == [full.id]


def test_partial_credit_round_trips_through_export(api_as, db):
    api = api_as("instructor")
    api.post("/api/quiz/import?lesson=6&replace=true", content=SUPPORTED.encode())
    exported = api.get("/api/quiz/export?lesson=6").text
    assert "~%50%1e-4#" in exported and "=1.0#" in exported
    again = read_gift(exported)
    assert again.errors == []
    assert [c.weight for c in again.questions[0].choices] == [0.0, 0.5, 1.0]


def test_a_mixed_bank_is_refused_without_skip_and_changes_nothing(api_as, db):
    api = api_as("instructor")
    before = list(_by_title(db, 5))
    response = api.post("/api/quiz/import?lesson=5", content=MIXED.encode())
    assert response.status_code == 400
    messages = " ".join(e["message"] for e in response.json()["errors"])
    for kind in ("essay", "numeric", "matching", "short-answer"):
        assert kind in messages
    assert list(_by_title(db, 5)) == before


def test_a_mixed_bank_imports_with_the_unsupported_kinds_skipped_and_listed(api_as, db):
    api = api_as("instructor")
    before = len(_by_title(db, 5))
    response = api.post("/api/quiz/import?lesson=5&skip_unsupported=true", content=MIXED.encode())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["imported"] == 2
    assert [(s["line"], s["kind"], s["title"]) for s in body["skipped"]] == [
        (1, "essay", "Essay"),
        (3, "numerical", "Numerical"),
        (5, "matching", "Matching"),
        (10, "short answer", "Short answer"),
    ]
    questions = _by_title(db, 5)
    assert len(questions) == before + 2
    assert [c.weight for c in questions["Single"].choices] == [1.0, 0.0, 0.3]


def test_syntax_errors_still_change_nothing_when_skipping(api_as, db):
    api = api_as("instructor")
    before = list(_by_title(db, 5))
    broken = MIXED + "\n::Broken::An unclosed block {=a ~b\n"
    response = api.post("/api/quiz/import?lesson=5&skip_unsupported=true", content=broken.encode())
    assert response.status_code == 400
    assert "unclosed brace" in response.text
    assert list(_by_title(db, 5)) == before


def test_a_bank_of_only_unsupported_kinds_imports_nothing(api_as, db):
    api = api_as("instructor")
    response = api.post("/api/quiz/import?lesson=5&skip_unsupported=true", content=b"Write an essay. {}\n")
    assert response.status_code == 400
    assert "every one is of a kind we lack" in response.text


def test_the_instructor_page_previews_what_comes_in_and_what_does_not(client_as, db):
    c = client_as("instructor")
    before = list(_by_title(db, 4))
    preview = c.post(
        "/instructor/lessons/4/import",
        data={"text": MIXED, "skip_unsupported": "1", "action": "preview"},
        headers={"HX-Request": "true"},
    )
    assert preview.status_code == 200
    assert "2 questions would come in" in preview.text and "(with partial credit)" in preview.text
    assert "4 would not" in preview.text and "Line 5: matching (Matching)" in preview.text
    assert list(_by_title(db, 4)) == before  # a preview writes nothing
    done = c.post(
        "/instructor/lessons/4/import", data={"text": MIXED, "skip_unsupported": "1", "action": "import"}
    )
    assert done.status_code == 303
    assert "Single" in _by_title(db, 4)


def test_the_editor_keeps_partial_credit(client_as, api_as, db):
    api_as("instructor").post("/api/quiz/import?lesson=6", content=SUPPORTED.encode())
    partial = _by_title(db, 6)["Partial credit"]
    editor = client_as("instructor").get(f"/instructor/questions/{partial.id}/edit")
    assert editor.status_code == 200
    assert "Partial credit %" in editor.text and 'value="50"' in editor.text
