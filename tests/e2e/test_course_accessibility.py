"""The course in a real browser: axe-core's WCAG 2 A/AA audit over every course page, and the
lesson tools working through htmx."""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.quiz import service as quiz_service
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

AXE = (
    Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
)  # npm install puts it here
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SHOTS = os.environ.get("LORAFACE_SHOTS")  # a folder for screenshots, when someone wants to look


@pytest.fixture
def audit_page(browser, live_server):
    """A browser page that may run axe-core: CSP allows only our scripts, so the audit bypasses it."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}; run npm install (make install does)")
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


def sign_in(page, db, *, passed: int = 0):
    user = factories.make_user(db, role="learner")
    factories.pass_lessons(db, user, passed)
    db.commit()
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    return user


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical WCAG 2 A/AA violations on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_course_pages_have_no_serious_accessibility_violations(audit_page, db):
    page = audit_page
    sign_in(page, db)  # a new learner: the map shows seven locked nodes
    found = {}
    page.goto("/lessons")
    found["course map (new learner)"] = serious_violations(page)
    page.goto("/glossary")
    found["glossary"] = serious_violations(page)
    page.context.clear_cookies()
    sign_in(page, db, passed=7)
    page.goto("/lessons")
    found["course map (step 8)"] = serious_violations(page)
    for number in range(1, 9):
        page.goto(f"/lessons/{number}")
        found[f"lesson {number}"] = serious_violations(page)
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/lesson-{number}-1280.png", full_page=True)
    # a check after an attempt: the feedback state, with right and wrong answers marked
    page.goto("/lessons/6")
    page.get_by_role("button", name="Check my answers").click()
    expect(page.locator("#check-result")).to_contain_text("Not yet")
    found["lesson 6 check with feedback"] = serious_violations(page)
    page.goto("/lessons/tools/steps?images=20&repeats=10&epochs=50&batch_size=1&base=sdxl")
    found["steps calculator page"] = serious_violations(page)
    problems = {where: v for where, v in found.items() if v}
    assert not problems, json.dumps(problems, indent=1)


def test_lesson_tools_update_in_place_with_htmx(page, db):
    sign_in(page, db, passed=5)
    page.goto("/lessons/6")
    result = page.get_by_test_id("steps-result")
    expect(result).to_contain_text("1,500 steps")
    page.get_by_test_id("tool-steps").get_by_label("Epochs").fill("50")
    expect(result).to_contain_text("7,500 steps")
    expect(result).to_contain_text("Over the SDXL face budget")
    assert page.url.endswith("/lessons/6")  # htmx swapped the result; the page stayed

    page.goto("/lessons/3")
    checker = page.get_by_test_id("tool-trigger")
    checker.get_by_label("Trigger").fill("AEXStyle")
    checker.get_by_role("button", name="Check it").click()
    expect(page.get_by_test_id("trigger-result")).to_contain_text("3 tokens")
    assert page.url.endswith("/lessons/3")
    checker.get_by_label("Trigger").fill("   ")  # passes the browser's own check, not ours
    checker.get_by_role("button", name="Check it").click()
    expect(page.get_by_test_id("trigger-result")).to_contain_text(
        "Type a trigger to check."
    )  # the 400's message
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/lesson-3-tool-1280.png")
        page.set_viewport_size({"width": 390, "height": 844})
        for number in (3, 6):
            page.goto(f"/lessons/{number}")
            page.screenshot(path=f"{SHOTS}/lesson-{number}-390.png", full_page=True)


def test_a_check_shows_its_choices_in_the_attempt_order(page, db):
    user = sign_in(page, db, passed=1)
    question = quiz_service.list_questions(db=db, lesson_number=2)[0]
    key = quiz_service.order_key(db=db, user_id=user.id, lesson_number=2)
    expected = [c.id for c in quiz_service.shown_choices(question, key=key)]
    page.goto("/lessons/2")
    shown = page.locator(f'input[name="q{question.id}"]').evaluate_all("els => els.map(e => Number(e.value))")
    assert shown == expected
