"""Comments and reactions through the API and the post page."""

from app.community.models import Comment


def test_comments_are_listed_in_order_and_counted_in_the_feed(api_as, post_by):
    asker, helper = api_as("learner"), api_as("learner")
    post = post_by(asker.user)

    first = helper.post(f"/api/posts/{post.id}/comments", json={"body": "Try **0.7**."})
    helper.post(f"/api/posts/{post.id}/comments", json={"body": "And fewer epochs."})
    empty = helper.post(f"/api/posts/{post.id}/comments", json={"body": "   "})

    assert first.status_code == 201 and first.json()["body_html"] == "<p>Try <strong>0.7</strong>.</p>\n"
    assert empty.status_code == 400
    listed = asker.get(f"/api/posts/{post.id}/comments").json()
    assert [c["body"] for c in listed] == ["Try **0.7**.", "And fewer epochs."]
    assert asker.get("/api/feed").json()[0]["comment_count"] == 2


def test_only_the_author_or_a_moderator_edits_or_deletes_a_comment(api_as, post_by, db):
    asker, helper, reviewer = api_as("learner"), api_as("learner"), api_as("reviewer")
    post = post_by(asker.user)
    comment_id = helper.post(f"/api/posts/{post.id}/comments", json={"body": "Mine"}).json()["id"]

    by_asker = asker.patch(f"/api/comments/{comment_id}", json={"body": "Changed"})
    deleted_by_asker = asker.delete(f"/api/comments/{comment_id}")
    by_helper = helper.patch(f"/api/comments/{comment_id}", json={"body": "Fixed a typo"})
    by_reviewer = reviewer.delete(f"/api/comments/{comment_id}")

    assert by_asker.status_code == deleted_by_asker.status_code == 403
    assert by_helper.status_code == 200 and by_helper.json()["body"] == "Fixed a typo"
    assert by_reviewer.status_code == 204
    assert db.query(Comment).count() == 0


def test_reactions_come_from_a_fixed_set_and_count_once_per_person(api_as, post_by):
    author, fan, other = api_as("learner"), api_as("learner"), api_as("learner")
    post = post_by(author.user)

    first = fan.post(f"/api/posts/{post.id}/reactions", json={"kind": "helpful"})
    again = fan.post(f"/api/posts/{post.id}/reactions", json={"kind": "helpful"})
    other.post(f"/api/posts/{post.id}/reactions", json={"kind": "helpful"})
    other.post(f"/api/posts/{post.id}/reactions", json={"kind": "love"})
    odd = fan.post(f"/api/posts/{post.id}/reactions", json={"kind": "angry"})

    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == {"reactions": {"like": 0, "helpful": 1, "love": 0, "wow": 0}, "mine": ["helpful"]}
    assert odd.status_code == 422
    assert author.get("/api/feed").json()[0]["reactions"] == {"like": 0, "helpful": 2, "love": 1, "wow": 0}
    taken_back = other.delete(f"/api/posts/{post.id}/reactions/love")
    assert taken_back.json()["reactions"]["love"] == 0 and taken_back.json()["mine"] == ["helpful"]


def test_the_post_page_toggles_reactions_and_adds_comments_with_htmx(client_as, post_by):
    author, reader = client_as("learner"), client_as("learner")
    post = post_by(author.user, body="Body with <script>alert(1)</script>")
    htmx = {"HX-Request": "true"}

    page = reader.get(f"/community/posts/{post.id}")
    on = reader.post(f"/community/posts/{post.id}/reactions/like", headers=htmx)
    off = reader.post(f"/community/posts/{post.id}/reactions/like", headers=htmx)
    comment = reader.post(
        f"/community/posts/{post.id}/comments", data={"body": "Use a lower *rank*."}, headers=htmx
    )
    blank = reader.post(f"/community/posts/{post.id}/comments", data={"body": ""}, headers=htmx)

    assert page.status_code == 200 and "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text
    assert (
        'data-testid="count-like">1<' in on.text
        and 'aria-pressed="true"' in on.text
        and "<html" not in on.text
    )
    assert 'data-testid="count-like">0<' in off.text
    assert "Use a lower <em>rank</em>." in comment.text and 'id="comments"' in comment.text
    assert blank.status_code == 200 and 'data-testid="comment-error"' in blank.text
    assert "Use a lower <em>rank</em>." in author.get(f"/community/posts/{post.id}").text


def test_a_comment_form_without_javascript_redirects_back(client_as, post_by):
    reader = client_as("learner")
    post = post_by(reader.user)

    posted = reader.post(
        f"/community/posts/{post.id}/comments", data={"body": "Plain form", "csrf_token": reader.csrf}
    )

    assert posted.status_code == 303 and posted.headers["location"] == f"/community/posts/{post.id}#comments"
