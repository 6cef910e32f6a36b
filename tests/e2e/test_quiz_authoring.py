"""A real browser: an instructor adds an image choice question to lesson 3 with uploaded pictures,
previews it, and a learner then finds it in lesson 3's check."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, make_user, pass_lessons
from tests.integration.quiz.authoring_helpers import picture_bytes

pytestmark = pytest.mark.e2e

PROMPT = "Which of these crops is ready for SDXL training?"


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def loaded_pictures(page, selector: str) -> list[int]:
    page.wait_for_load_state("networkidle")
    return page.locator(selector).evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")


def test_instructor_adds_image_question_learner_sees_it(page, db):
    instructor = make_user(db, role="instructor")
    learner = make_user(db)
    db.commit()
    pass_lessons(db, learner, upto=2)

    sign_in(page, instructor.email)
    page.get_by_role("link", name="Authoring").click()
    page.get_by_role("link", name="3. The trigger word").click()
    page.get_by_role("link", name="Image choice").click()
    page.get_by_label("Question").fill(PROMPT)
    rows = page.get_by_test_id("choice-row")
    page.get_by_role("button", name="Add a choice").click()  # htmx appends a fifth row
    expect(rows).to_have_count(5)
    descriptions = [
        "A square crop centred on the face",
        "A wide shot with the face in a corner",
        "A tiny thumbnail",
    ]
    for i, text in enumerate(descriptions):
        row = rows.nth(i)
        row.get_by_label("Description (alt text)").fill(text)
        row.locator('input[type="file"]').set_input_files(
            {
                "name": f"crop{i}.png",
                "mimeType": "image/png",
                "buffer": picture_bytes((60 * i, 100, 160), (300, 300)),
            }
        )
        row.get_by_label("Feedback for this answer").fill(
            "Yes: square and centred." if i == 0 else "Not this one."
        )
    rows.nth(0).get_by_label("Right answer").check()
    page.get_by_label("General feedback").fill("SDXL trains on 1024x1024 crops centred on the subject.")
    page.get_by_role("button", name="Add question").click()
    page.wait_for_url("**/instructor/lessons/3*")
    expect(page.get_by_text("Question added.")).to_be_visible()
    item = page.locator(".question-item").filter(has_text=PROMPT)
    expect(item.locator("img")).to_have_count(3)

    item.get_by_role("link", name="Preview").click()
    page.wait_for_url("**/preview")
    expect(page.get_by_test_id("preview-banner")).to_be_visible()
    expect(page.get_by_text(PROMPT)).to_be_visible()
    assert all(width > 0 for width in loaded_pictures(page, '.check img[src^="/quiz/images/"]'))
    page.locator(".choice").nth(0).click()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_text("Passed with 100.0%")).to_be_visible()
    expect(page.get_by_text("Yes: square and centred.")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/")
    sign_in(page, learner.email)
    page.goto("/lessons/3")
    question = page.locator("fieldset.question").filter(has_text=PROMPT)
    expect(question).to_be_visible()
    pictures = loaded_pictures(page, 'fieldset.question img[src^="/quiz/images/"]')
    assert len(pictures) == 3 and all(width > 0 for width in pictures)
    alts = question.locator("img").evaluate_all("imgs => imgs.map(i => i.alt)")
    assert sorted(alts) == sorted(descriptions)  # learners see the choices shuffled per attempt
