"""The community pages render for the people who use them."""

from tests import factories


def test_the_help_form_offers_the_learners_jobs_and_a_lesson(client_as, db):
    learner = client_as("learner")
    job = factories.make_training_job(db, learner.user)
    db.commit()

    page = learner.get("/community/new?kind=help&lesson=4")

    assert page.status_code == 200
    assert f'<option value="{job.id}"' in page.text and '<option value="4" selected>' in page.text


def test_a_learner_without_models_is_sent_to_the_lab(client_as):
    page = client_as("learner").get("/community/new?kind=model")

    assert page.status_code == 200 and 'data-testid="no-models"' in page.text


def test_the_author_edits_through_the_form(client_as, post_by):
    author = client_as("learner")
    post = post_by(author.user, title="Before")

    form = author.get(f"/community/posts/{post.id}/edit")
    saved = author.post(
        f"/community/posts/{post.id}/edit", data={"title": "After", "body": "New *body*", "lesson": "2"}
    )
    blank = author.post(f"/community/posts/{post.id}/edit", data={"title": "", "body": ""})

    assert form.status_code == 200 and 'value="Before"' in form.text
    assert saved.status_code == 303
    page = author.get(f"/community/posts/{post.id}")
    assert "After" in page.text and "New <em>body</em>" in page.text and "lesson 2" in page.text
    assert blank.status_code == 422 and "title" in blank.text


def test_the_moderation_page_lists_past_reports(client_as, api_as, post_by):
    reviewer, reporter = client_as("reviewer"), api_as("learner")
    post = post_by(reporter.user, title="Old spam")
    other = api_as("learner")
    report_id = other.post(f"/api/posts/{post.id}/report", json={"reason": "spam"}).json()["id"]
    reviewer.post(f"/api/moderation/reports/{report_id}", json={"action": "dismiss"})

    open_page = reviewer.get("/community/moderation")
    dismissed = reviewer.get("/community/moderation?status=dismissed")

    assert 'data-testid="no-reports"' in open_page.text
    assert "Old spam" in dismissed.text and 'data-testid="report-hide"' not in dismissed.text


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/community")

    assert response.status_code == 303 and response.headers["location"].startswith("/login")
