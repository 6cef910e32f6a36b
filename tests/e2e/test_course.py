"""A new learner in a real browser: refused lesson 2, fails lesson 1's check, passes it, sees node 2 open."""

import re

import pytest
from playwright.sync_api import expect

from app.quiz import service as quiz_service
from tests.outbox import newest_link

pytestmark = pytest.mark.e2e


def sign_up(page, data_dir, email: str) -> None:
    page.goto("/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a very long password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Check your inbox")).to_be_visible()
    page.goto(newest_link(data_dir, email))
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/")


def test_new_learner_unlocks_node_two(page, db, settings):
    sign_up(page, settings.data_dir, "ada@example.com")

    response = page.goto("/lessons/2")
    assert response.status == 403
    expect(page.get_by_text("Pass lesson 1 (The dataset) first.")).to_be_visible()

    page.goto("/lessons")
    expect(page.get_by_text("step 1 / 8")).to_be_visible()
    expect(page.locator("#node-2")).to_have_attribute("data-state", "locked")
    page.locator("#node-1").get_by_role("link", name="The dataset").click()
    page.wait_for_url("**/lessons/1")
    expect(page.get_by_text("AI Instructor")).to_be_visible()

    questions = quiz_service.list_questions(db=db, lesson_number=1)
    image_question = next(q for q in questions if q.kind.value == "image_choice")
    good_photo = next(c for c in image_question.choices if c.weight <= 0)

    # A wrong first try: the good photo picked as the bad one, nothing else answered.
    page.locator(f'input[name="q{image_question.id}"][value="{good_photo.id}"]').check()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.locator("#check-result")).to_contain_text("Not yet")
    expect(page.get_by_text(good_photo.feedback)).to_be_visible()
    expect(page.locator("#minitrack .mini-node[data-node='2']")).to_have_attribute("data-state", "locked")

    # The retry: every right answer.
    for q in questions:
        for choice_id in quiz_service.right_answers(q):
            page.locator(f'input[name="q{q.id}"][value="{choice_id}"]').check()
        for c in q.choices:
            if q.kind.value == "multiple" and c.weight <= 0:
                page.locator(f'input[name="q{q.id}"][value="{c.id}"]').uncheck()
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("#check-result")).to_contain_text("Passed with 100.0%")
    expect(page.locator("#minitrack")).to_contain_text("step 2 / 8")
    expect(page.locator("#minitrack .mini-node[data-node='2']")).to_have_attribute("data-state", "current")

    page.goto("/lessons")
    expect(page.get_by_text("step 2 / 8")).to_be_visible()
    expect(page.locator("#node-1")).to_have_attribute("data-state", "passed")
    expect(page.locator("#node-2")).to_have_attribute("data-state", "current")
    page.locator("#node-2").get_by_role("link", name="What a LoRA is").click()
    page.wait_for_url(re.compile(r".*/lessons/2$"))
    expect(page.get_by_role("heading", name="What a LoRA is", level=1)).to_be_visible()


def test_glossary_filters_as_you_type(page):
    page.goto("/glossary")
    expect(page.locator(".term")).to_have_count(16)
    page.get_by_label("Search 16 terms").press_sequentially("latent", delay=30)
    expect(page.locator(".term")).to_have_count(1)
    expect(page.locator(".term h2")).to_have_text("Latent space")
