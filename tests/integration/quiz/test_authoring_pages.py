"""The instructor pages: list, editor (all four kinds), htmx reorder/delete, preview, GIFT, pass mark."""

import re

from app.quiz import service as quiz_service
from app.quiz.models import Attempt
from tests.integration.quiz.authoring_helpers import picture_bytes

HTMX = {"HX-Request": "true"}
ROW_KEYS = re.compile(r'name="row" value="([0-9a-f]+)"')


def live(db, lesson: int):
    db.expire_all()
    return quiz_service.list_questions(db=db, lesson_number=lesson)


def no_inline_style(html: str) -> bool:
    return "style=" not in html and "<script>" not in html and " onclick=" not in html


def test_home_and_lesson_pages(client_as, db):
    c = client_as("instructor")
    home = c.get("/instructor")
    assert home.status_code == 200 and no_inline_style(home.text)
    assert home.text.count('href="/instructor/lessons/') >= 8
    page = c.get("/instructor/lessons/1")
    assert page.status_code == 200 and no_inline_style(page.text)
    for q in live(db, 1):
        assert f'id="question-{q.id}"' in page.text
    assert c.get("/instructor/lessons/9").status_code == 404


def test_move_and_delete_with_htmx(client_as, db):
    c = client_as("instructor")
    ids = [q.id for q in live(db, 2)]
    response = c.post(f"/instructor/questions/{ids[0]}/move?offset=1", headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<ol class="question-list" id="question-list"')
    assert [q.id for q in live(db, 2)] == [ids[1], ids[0], *ids[2:]]
    assert response.text.index(f'id="question-{ids[1]}"') < response.text.index(f'id="question-{ids[0]}"')

    no_js = c.post(f"/instructor/questions/{ids[0]}/move?offset=-1")
    assert no_js.status_code == 303 and no_js.headers["location"] == "/instructor/lessons/2"
    assert [q.id for q in live(db, 2)] == ids

    deleted = c.post(f"/instructor/questions/{ids[0]}/delete", headers=HTMX)
    assert deleted.status_code == 200 and f'id="question-{ids[0]}"' not in deleted.text
    assert [q.id for q in live(db, 2)] == ids[1:]


def editor_form(c, url: str) -> tuple[list[str], str]:
    page = c.get(url)
    assert page.status_code == 200 and no_inline_style(page.text), page.text[:500]
    return ROW_KEYS.findall(page.text), page.text


def test_create_single_choice_and_keep_input_on_error(client_as, db):
    c = client_as("instructor")
    keys, _ = editor_form(c, "/instructor/lessons/4/questions/new?kind=single")
    data = {"kind": "single", "title": "Crop size", "prompt": "Which crop size suits SDXL?", "row": keys}
    data |= {f"text-{keys[0]}": "1024x1024", f"feedback-{keys[0]}": "Yes, SDXL's native size."}
    data |= {f"text-{keys[1]}": "512x512", f"feedback-{keys[1]}": "That is SD 1.5's size."}
    missing_right = c.post("/instructor/lessons/4/questions", data=data)
    assert missing_right.status_code == 400
    assert "Mark at least one choice as right" in missing_right.text
    assert (
        "Which crop size suits SDXL?" in missing_right.text
        and "That is SD 1.5&#39;s size." in missing_right.text
    )

    data["right"] = keys[0]
    data["general_feedback"] = "Match the crop to the base model."
    saved = c.post("/instructor/lessons/4/questions", data=data)
    assert saved.status_code == 303, saved.text
    question = live(db, 4)[-1]
    assert saved.headers["location"] == f"/instructor/lessons/4#question-{question.id}"
    assert (question.kind.value, question.title, question.general_feedback) == (
        "single",
        "Crop size",
        "Match the crop to the base model.",
    )
    assert [(ch.text, ch.weight) for ch in question.choices] == [("1024x1024", 1.0), ("512x512", 0.0)]


def test_htmx_error_comes_back_as_the_editor_block(client_as):
    c = client_as("instructor")
    keys, _ = editor_form(c, "/instructor/lessons/4/questions/new?kind=single")
    response = c.post(
        "/instructor/lessons/4/questions", data={"kind": "single", "prompt": "", "row": keys}, headers=HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<form id="editor"') and "needs a prompt" in response.text


def test_multiple_answers_share_marks_unless_given(client_as, db):
    c = client_as("instructor")
    keys, _ = editor_form(c, "/instructor/lessons/6/questions/new?kind=multiple")
    data = {"kind": "multiple", "prompt": "Signs of over-fitting?", "row": keys[:4]}
    texts = ["Copies training shots", "Ignores the prompt", "Burnt colours", "Sharper faces"]
    for key, text in zip(keys[:4], texts, strict=True):
        data[f"text-{key}"] = text
    data |= {f"right-{k}": "1" for k in keys[:3]}
    data[f"weight-{keys[3]}"] = "-50"
    assert c.post("/instructor/lessons/6/questions", data=data).status_code == 303
    question = live(db, 6)[-1]
    assert [round(ch.weight, 4) for ch in question.choices] == [0.3333, 0.3333, 0.3333, -0.5]


def test_true_false_editor(client_as, db):
    c = client_as("instructor")
    keys, page = editor_form(c, "/instructor/lessons/2/questions/new?kind=true_false")
    assert len(keys) == 2 and "Add a choice" not in page
    data = {"kind": "true_false", "prompt": "A LoRA file is gigabytes.", "row": keys, "right": keys[1]}
    data |= {f"text-{keys[0]}": "True", f"text-{keys[1]}": "False", f"feedback-{keys[1]}": "Megabytes."}
    assert c.post("/instructor/lessons/2/questions", data=data).status_code == 303
    question = live(db, 2)[-1]
    assert [(ch.text, ch.weight, ch.feedback) for ch in question.choices] == [
        ("True", 0.0, ""),
        ("False", 1.0, "Megabytes."),
    ]


def test_image_choice_upload_edit_and_preview(client_as, db, settings):
    c = client_as("instructor")
    keys, _ = editor_form(c, "/instructor/lessons/3/questions/new?kind=image_choice")
    data = {
        "kind": "image_choice",
        "prompt": "Which caption image shows the trigger?",
        "row": keys[:3],
        "right": keys[1],
    }
    files = [
        (f"image-{key}", (f"p{i}.png", picture_bytes((40 * i, 120, 200)), "image/png"))
        for i, key in enumerate(keys[:3])
    ]
    data |= {f"text-{k}": f"Picture {i}" for i, k in enumerate(keys[:3])}
    files.append((f"image-{keys[3]}", ("bad.png", b"not a picture", "image/png")))
    data["row"] = keys[:4]
    data[f"text-{keys[3]}"] = "Broken"
    refused = c.post("/instructor/lessons/3/questions", data=data, files=files)
    assert refused.status_code == 400 and "bad.png" in refused.text
    kept = re.findall(r'name="image_path-[0-9a-f]+" value="(/quiz/images/[0-9a-f]{64}\.jpg)"', refused.text)
    assert len(kept) == 3  # the good pictures survive the error

    data["row"] = keys[:3]
    data |= {f"image_path-{k}": url for k, url in zip(keys[:3], kept, strict=True)}
    saved = c.post("/instructor/lessons/3/questions", data=data)
    assert saved.status_code == 303, saved.text
    question = live(db, 3)[-1]
    assert question.kind.value == "image_choice"
    assert [ch.image_path for ch in question.choices] == kept
    assert [ch.weight for ch in question.choices] == [0.0, 1.0, 0.0]
    assert all((settings.data_dir / "quiz_images" / u.rsplit("/", 1)[1]).is_file() for u in kept)

    # edit: the form names each stored choice, so ids survive and the version goes up
    keys, page = editor_form(c, f"/instructor/questions/{question.id}/edit")
    assert all(url in page for url in kept)
    row_ids = dict(re.findall(r'name="id-([0-9a-f]+)" value="(\d+)"', page))
    paths = dict(re.findall(r'name="image_path-([0-9a-f]+)" value="([^"]+)"', page))
    stored = [k for k in keys if k in row_ids]
    data = {"prompt": "Which picture shows the trigger?", "row": stored, "right": stored[1]}
    data |= {f"id-{k}": row_ids[k] for k in stored}
    data |= {f"image_path-{k}": paths[k] for k in stored}
    data |= {f"text-{k}": f"Picture {i}" for i, k in enumerate(stored)}
    data[f"remove-{stored[2]}"] = "1"
    old_ids = [ch.id for ch in question.choices]
    assert c.post(f"/instructor/questions/{question.id}", data=data).status_code == 303
    question = live(db, 3)[-1]
    assert question.version == 2 and question.prompt == "Which picture shows the trigger?"
    assert [ch.id for ch in question.choices] == old_ids[:2]

    preview = c.get(f"/instructor/questions/{question.id}/preview")
    assert preview.status_code == 200 and no_inline_style(preview.text)
    assert f'action="/instructor/questions/{question.id}/preview"' in preview.text
    assert all(f'src="{ch.image_path}"' in preview.text for ch in question.choices)
    graded = c.post(
        f"/instructor/questions/{question.id}/preview",
        data={f"q{question.id}": str(question.choices[1].id)},
        headers=HTMX,
    )
    assert graded.status_code == 200 and "Passed with 100.0%" in graded.text
    assert db.query(Attempt).count() == 0  # a preview records nothing


def test_lesson_preview_uses_the_learners_check(client_as, db):
    c = client_as("instructor")
    questions = live(db, 1)
    page = c.get("/instructor/lessons/1/preview")
    assert page.status_code == 200
    assert 'class="card check" id="check"' in page.text
    for q in questions:
        assert f'data-question="{q.id}"' in page.text and q.prompt in page.text
    wrong = c.post("/instructor/lessons/1/preview", data={}, headers=HTMX)
    assert (
        wrong.status_code == 200 and "Not yet: 0.0%" in wrong.text and "No answer was chosen." in wrong.text
    )
    assert c.post("/instructor/lessons/1/preview", data={"q999999": "1"}).status_code == 400
    assert db.query(Attempt).count() == 0


def test_import_and_export_pages(client_as, db):
    c = client_as("instructor")
    before = [q.id for q in live(db, 7)]
    broken = "Fine {=a ~b}\n\nBroken {\n=a\n~b\n\nAlso broken {=x}\n"
    response = c.post("/instructor/lessons/7/import", data={"text": broken})
    assert response.status_code == 400
    assert "Nothing was imported" in response.text
    assert "Line 3: unclosed brace" in response.text and "Line 7: short-answer" in response.text
    assert [q.id for q in live(db, 7)] == before

    partial = c.post("/instructor/lessons/7/import", data={"text": broken}, headers=HTMX)
    assert partial.status_code == 200 and partial.text.lstrip().startswith('<form id="import-form"')

    upload = c.post(
        "/instructor/lessons/7/import",
        data={"replace": "1"},
        files={"file": ("seven.gift", b"::Tiny::Training runs here. {T}\n", "text/plain")},
    )
    assert upload.status_code == 303
    assert [q.title for q in live(db, 7)] == ["Tiny"]

    export = c.get("/instructor/lessons/7/export")
    assert export.status_code == 200
    assert 'filename="loraface-lesson-7.gift.txt"' in export.headers["content-disposition"]
    assert "::Tiny::Training runs here. {TRUE}" in export.text


def test_pass_mark_form(client_as, db):
    c = client_as("instructor")
    assert c.post("/instructor/lessons/5/pass-mark", data={"pass_mark": "65"}).status_code == 303
    assert quiz_service.get_pass_mark(db=db, lesson_number=5) == 65
    assert c.post("/instructor/lessons/5/pass-mark", data={"pass_mark": "abc"}).status_code == 400
    assert c.post("/instructor/lessons/5/pass-mark", data={"pass_mark": "0"}).status_code == 400
    db.expire_all()
    assert quiz_service.get_pass_mark(db=db, lesson_number=5) == 65


def test_choice_row_fragment(client_as):
    c = client_as("instructor")
    one = c.get("/instructor/choice-row?kind=image_choice", headers=HTMX)
    two = c.get("/instructor/choice-row?kind=image_choice", headers=HTMX)
    assert one.status_code == 200 and 'type="file"' in one.text
    assert ROW_KEYS.findall(one.text) != ROW_KEYS.findall(two.text)
