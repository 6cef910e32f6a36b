"""Reports, the moderators' queue, hiding and restoring, and suspending accounts."""

from tests import factories


def _titles(client, **params):
    return [p["title"] for p in client.get("/api/feed", params=params).json()]


def test_a_hidden_post_disappears_from_the_feed_for_everyone_but_moderators(api_as, post_by):
    author, reader, reviewer, admin = (
        api_as("learner"),
        api_as("learner"),
        api_as("reviewer"),
        api_as("admin"),
    )
    post_by(author.user, title="Fine")
    bad = post_by(author.user, title="Buy followers")

    hidden = reviewer.post(f"/api/posts/{bad.id}/hide")

    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert _titles(reader) == ["Fine"] and _titles(author) == ["Fine"]
    assert _titles(reader, after=0) == ["Fine"] and _titles(reader, kind="help") == ["Fine"]
    assert reader.get(f"/api/posts/{bad.id}").status_code == 404
    assert reader.post(f"/api/posts/{bad.id}/comments", json={"body": "x"}).status_code == 404
    assert "Buy followers" not in reader.get("/community").text
    # Moderators still see it, marked; the author can still open it and read why.
    assert _titles(reviewer) == _titles(admin) == ["Buy followers", "Fine"]
    assert [p["hidden"] for p in reviewer.get("/api/feed").json()] == [True, False]
    assert author.get(f"/api/posts/{bad.id}").status_code == 200

    restored = admin.post(f"/api/posts/{bad.id}/restore")
    assert restored.json()["hidden"] is False and _titles(reader) == ["Buy followers", "Fine"]


def test_learners_cannot_moderate(api_as, client_as, post_by):
    learner, author = api_as("learner"), api_as("learner")
    browser = client_as("learner")
    post = post_by(author.user)

    assert learner.post(f"/api/posts/{post.id}/hide").status_code == 403
    assert learner.get("/api/moderation/reports").status_code == 403
    assert learner.post(f"/api/moderation/users/{author.user.id}/suspend").status_code == 403
    assert browser.get("/community/moderation").status_code == 403
    assert browser.post(f"/community/posts/{post.id}/hide", data={"hidden": "1"}).status_code == 403


def test_a_report_reaches_the_queue_and_hiding_resolves_it(api_as, client_as, post_by):
    author, reporter, reviewer = api_as("learner"), api_as("learner"), client_as("reviewer")
    post = post_by(author.user, title="Rude post")
    comment = reporter.post(f"/api/posts/{post.id}/comments", json={"body": "A rude comment"}).json()

    on_post = reporter.post(f"/api/posts/{post.id}/report", json={"reason": "abuse", "note": "insults"})
    twice = reporter.post(f"/api/posts/{post.id}/report", json={"reason": "abuse"})
    on_comment = author.post(f"/api/comments/{comment['id']}/report", json={"reason": "spam"})
    no_reason = reporter.post(f"/api/posts/{post.id}/report", json={"reason": "boring"})

    assert on_post.status_code == 201 and on_post.json()["status"] == "open"
    assert twice.status_code == 409 and on_comment.status_code == 201 and no_reason.status_code == 422
    queue = reviewer.get("/api/moderation/reports").json()
    assert [(r["post_id"], r["comment_id"], r["reason"]) for r in queue] == [
        (post.id, None, "abuse"), (post.id, comment["id"], "spam"),
    ]  # fmt: skip
    page = reviewer.get("/community/moderation")
    assert page.status_code == 200 and "Rude post" in page.text and "insults" in page.text

    hide = reviewer.post(f"/api/moderation/reports/{queue[1]['id']}", json={"action": "hide"})
    dismiss = reviewer.post(f"/api/moderation/reports/{queue[0]['id']}", json={"action": "dismiss"})

    assert hide.json()["status"] == "resolved" and hide.json()["target_hidden"] is True
    assert dismiss.json()["status"] == "dismissed"
    assert reviewer.get("/api/moderation/reports").json() == []
    assert [c["body"] for c in author.get(f"/api/posts/{post.id}/comments").json()] == []
    assert author.get("/api/feed").json()[0]["comment_count"] == 0


def test_a_moderator_suspends_an_account_and_it_can_no_longer_post(api_as, db):
    troll, reviewer = api_as("learner"), api_as("reviewer")

    suspended = reviewer.post(f"/api/moderation/users/{troll.user.id}/suspend")

    assert suspended.status_code == 200 and suspended.json()["suspended"] is True
    assert troll.post("/api/posts", json={"kind": "help", "title": "Still here?"}).status_code == 401
    assert reviewer.post(f"/api/moderation/users/{troll.user.id}/unsuspend").json()["suspended"] is False
    assert troll.post("/api/posts", json={"kind": "help", "title": "Back"}).status_code == 201


def test_who_may_suspend_whom(api_as, db):
    reviewer, other_reviewer, admin = api_as("reviewer"), api_as("reviewer"), api_as("admin")
    other_admin = factories.make_user(db, role="admin")
    db.commit()

    assert reviewer.post(f"/api/moderation/users/{other_reviewer.user.id}/suspend").status_code == 403
    assert reviewer.post(f"/api/moderation/users/{admin.user.id}/suspend").status_code == 403
    assert admin.post(f"/api/moderation/users/{other_admin.id}/suspend").status_code == 403
    assert admin.post(f"/api/moderation/users/{admin.user.id}/suspend").status_code == 400
    assert admin.post(f"/api/moderation/users/{other_reviewer.user.id}/suspend").status_code == 200
    assert admin.post("/api/moderation/users/999999/suspend").status_code == 404


def test_reporting_and_moderating_through_the_pages(client_as, post_by):
    author, reporter, reviewer = client_as("learner"), client_as("learner"), client_as("reviewer")
    post = post_by(author.user, title="Selling accounts")

    reported = reporter.post(f"/community/posts/{post.id}/report", data={"reason": "spam", "note": "ad"})
    report_id = reviewer.get("/api/moderation/reports").json()[0]["id"]
    hidden = reviewer.post(f"/community/moderation/reports/{report_id}", data={"action": "hide"})
    suspended = reviewer.post(
        f"/community/moderation/users/{author.user.id}/suspend", data={"suspended": "1"}
    )

    assert reported.status_code == hidden.status_code == suspended.status_code == 303
    assert "Selling accounts" not in reporter.get("/community").text
    assert "Selling accounts" in reviewer.get("/community").text
    assert author.get("/community").status_code == 303  # signed out everywhere
