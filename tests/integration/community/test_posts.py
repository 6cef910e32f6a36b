"""Posts over the JSON API: create, read, edit and delete, and who may do which."""

from app.community.models import Post

HELP = {"kind": "help", "title": "My face looks distorted?", "body": "At strength **1.0** the eyes melt."}


def test_a_learner_posts_a_help_thread_and_it_leads_the_feed(api_as, post_by):
    author, reader = api_as("learner"), api_as("learner")
    post_by(reader.user, title="An older question")

    created = author.post("/api/posts", json={**HELP, "lesson": 7})
    feed = reader.get("/api/feed")

    assert created.status_code == 201
    body = created.json()
    assert body["kind"] == "help" and body["author"] == author.user.display_name and body["lesson"] == 7
    assert "<strong>1.0</strong>" in body["body_html"]
    assert feed.status_code == 200
    assert [p["title"] for p in feed.json()] == ["My face looks distorted?", "An older question"]
    first = feed.json()[0]
    assert {"id", "kind", "title", "author", "created_at"} <= first.keys()
    assert first["excerpt"] == "At strength 1.0 the eyes melt."


def test_bad_posts_are_refused_with_a_reason_and_nothing_is_written(api_as, db):
    learner = api_as("learner")

    blank = learner.post("/api/posts", json={**HELP, "title": "   "})
    odd_kind = learner.post("/api/posts", json={**HELP, "kind": "poll"})
    no_title = learner.post("/api/posts", json={"kind": "help", "body": "x"})
    model_without_model = learner.post("/api/posts", json={**HELP, "kind": "model"})
    samples_on_help = learner.post("/api/posts", json={**HELP, "samples": ["epoch-1", "epoch-2"]})

    assert blank.status_code == 400 and "title" in blank.json()["detail"]
    assert odd_kind.status_code == 422 and no_title.status_code == 422
    assert model_without_model.status_code == 400 and "model" in model_without_model.json()["detail"]
    assert samples_on_help.status_code == 400
    assert db.query(Post).count() == 0


def test_anonymous_callers_get_401(client):
    assert client.get("/api/feed").status_code == 401
    assert client.post("/api/posts", json=HELP).status_code == 401


def test_the_author_edits_and_deletes_their_post(api_as, post_by, db):
    author = api_as("learner")
    post_id = post_by(author.user).id

    edited = author.patch(
        f"/api/posts/{post_id}", json={"title": "Solved: distorted face", "body": "_thanks_"}
    )
    deleted = author.delete(f"/api/posts/{post_id}")

    assert edited.status_code == 200
    assert (
        edited.json()["title"] == "Solved: distorted face"
        and edited.json()["body_html"] == "<p><em>thanks</em></p>\n"
    )
    assert edited.json()["edited_at"] is not None
    assert deleted.status_code == 204
    assert author.get(f"/api/posts/{post_id}").status_code == 404
    db.expire_all()
    assert db.get(Post, post_id) is None


def test_a_learner_cannot_edit_or_delete_anothers_post(api_as, client_as, post_by, db):
    author, other = api_as("learner"), api_as("learner")
    browser = client_as("learner")
    post = post_by(author.user, title="Mine")

    patch = other.patch(f"/api/posts/{post.id}", json={"title": "Hijacked"})
    delete = other.delete(f"/api/posts/{post.id}")
    form_delete = browser.post(f"/community/posts/{post.id}/delete")
    form_edit = browser.post(f"/community/posts/{post.id}/edit", data={"title": "Hijacked", "body": ""})
    edit_page = browser.get(f"/community/posts/{post.id}/edit")

    assert patch.status_code == 403 and "author" in patch.json()["detail"]
    assert delete.status_code == 403
    assert form_delete.status_code == 403 and form_edit.status_code == 403 and edit_page.status_code == 403
    db.expire_all()
    assert db.get(Post, post.id).title == "Mine"


def test_moderators_may_edit_and_delete_any_post(api_as, post_by, db):
    author, reviewer, admin = api_as("learner"), api_as("reviewer"), api_as("admin")
    first, second = post_by(author.user, title="One").id, post_by(author.user, title="Two").id

    edited = reviewer.patch(f"/api/posts/{first}", json={"body": "Removed a phone number."})
    deleted = admin.delete(f"/api/posts/{second}")

    assert edited.status_code == 200 and edited.json()["body"] == "Removed a phone number."
    assert deleted.status_code == 204
    db.expire_all()
    assert db.get(Post, second) is None


def test_an_unknown_post_is_404(api_as):
    learner = api_as("learner")

    assert learner.get("/api/posts/999999").status_code == 404
    assert learner.patch("/api/posts/999999", json={"title": "x"}).status_code == 404
    assert learner.post("/api/posts/999999/comments", json={"body": "x"}).status_code == 404


def test_erasing_an_account_erases_its_posts(api_as, post_by, db):
    author, reader = api_as("learner"), api_as("learner")
    post_id = post_by(author.user).id

    assert author.delete("/api/me").status_code in (200, 204)

    assert reader.get(f"/api/posts/{post_id}").status_code == 404
    assert reader.get("/api/feed").json() == []
