"""In a real browser: a learner shares a model, another comments and reacts, the first sees
both; a new thread appears in an open feed without a reload."""

import os

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.e2e


def _sign_in(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


@pytest.fixture
def two_learners(db, settings):
    sharer = factories.make_user(db, display_name="Ada Sharer")
    helper = factories.make_user(db, display_name="Ben Helper")
    db.commit()
    model = factories.make_model_with_samples(db, settings.data_dir, sharer, name="ada_portrait")
    return sharer, helper, model


def test_a_shared_model_gets_a_comment_and_a_reaction_that_its_author_sees(
    page, browser, live_server, two_learners
):
    sharer, helper, model = two_learners

    # The first learner shares the model with two of its samples.
    _sign_in(page, sharer.email)
    page.goto("/community")
    page.get_by_test_id("new-model").click()
    page.get_by_label("Title").fill("My first face LoRA")
    page.get_by_test_id("sample-epoch-1").check()
    page.get_by_test_id("sample-epoch-3").check()
    page.get_by_test_id("post-body-input").fill("Best at **0.8**; try `sks woman, portrait`.")
    page.get_by_test_id("post-submit").click()
    page.wait_for_url("**/community/posts/*")
    post_url = page.url
    assert page.get_by_test_id("share-trigger").inner_text() == "sks woman"
    assert page.get_by_test_id("post-image").count() == 2
    expect(page.get_by_test_id("demo-note")).to_be_visible()  # a tiny-base model: its samples are noise
    if shots := os.environ.get("LORAFACE_SCREENSHOTS"):
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=f"{shots}/community-post-{width}.png", full_page=True)

    # The second learner finds it in the feed, comments and reacts (htmx, no reload).
    other = browser.new_context(base_url=live_server)
    helper_page = other.new_page()
    _sign_in(helper_page, helper.email)
    helper_page.goto("/community?kind=model")
    helper_page.get_by_role("link", name="My first face LoRA", exact=True).click()
    helper_page.wait_for_url(post_url)
    helper_page.get_by_label("Your comment").fill("Lovely likeness. Did you try *0.7*?")
    helper_page.get_by_test_id("comment-submit").click()
    helper_page.get_by_test_id("comment-body").filter(has_text="Lovely likeness").wait_for()
    helper_page.get_by_test_id("react-love").click()
    expect(helper_page.get_by_test_id("count-love")).to_have_text("1")
    other.close()

    # The first learner sees both.
    page.reload()
    comment = page.get_by_test_id("comment").first
    assert "Ben Helper" in comment.inner_text() and "Lovely likeness" in comment.inner_text()
    assert comment.locator("em").inner_text() == "0.7"
    assert page.get_by_test_id("count-love").inner_text() == "1"
    page.goto("/community")
    card = page.get_by_test_id("feed-item").first
    assert "1 comment" in card.inner_text()
    # The reaction is an SVG icon (no emoji font needed) with its count beside it.
    love = card.locator(".reaction-count[title=Love]")
    assert love.locator("svg.icon-love").count() == 1 and love.inner_text().strip() == "1"


def test_a_new_help_thread_appears_in_an_open_feed_without_reload(page, db, settings, two_learners):
    sharer, helper, _ = two_learners
    factories.make_post(db, helper, title="Older thread", data_dir=settings.data_dir)
    db.commit()

    _sign_in(page, sharer.email)
    page.goto("/community")
    page.get_by_text("Older thread").wait_for()

    factories.make_post(db, helper, title="My face looks distorted?", data_dir=settings.data_dir)
    db.commit()

    page.get_by_role("link", name="My face looks distorted?", exact=True).wait_for(timeout=15000)
    titles = page.locator("[data-testid=feed-item] h2").all_inner_texts()
    assert titles == ["My face looks distorted?", "Older thread"]
