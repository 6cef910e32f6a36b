"""Help threads: an attached job's settings and loss curve, pictures, answers, the accepted
answer, and the threads a lesson page links to."""

import io

from PIL import Image

from app.community import feed
from app.community.models import Post
from tests import factories


def _png(size=(80, 60), exif=False) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, (200, 120, 90))
    if exif:
        data = img.getexif()
        data[0x8825] = {2: (51.0, 30.0, 0.0)}  # a GPS position, which must not be republished
        data[0x010F] = "PhoneMaker"
        img.save(out, "JPEG", exif=data)
    else:
        img.save(out, "PNG")
    return out.getvalue()


def test_an_attached_job_shows_its_settings_and_loss_curve(client_as, db):
    learner = client_as("learner")
    job = factories.make_training_job(db, learner.user, rank=8, learning_rate=5e-4)
    job.losses = [[1, 0.4], [2, 0.3], [3, 0.35], [4, 0.1]]
    db.commit()

    posted = learner.post("/api/posts", json={"kind": "help", "title": "Overfitting?", "job_id": job.id})
    page = learner.get(f"/community/posts/{posted.json()['id']}")

    assert posted.status_code == 201
    assert posted.json()["settings"]["rank"] == 8 and posted.json()["losses"][-1] == [4, 0.1]
    assert 'data-testid="post-settings"' in page.text and "<polyline" in page.text
    assert "0.0005" in page.text  # learning rate as people write it


def test_pictures_on_a_help_thread_are_checked_and_stripped(client_as, settings):
    learner = client_as("learner")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'

    refused = learner.post(
        "/community/posts",
        data={"kind": "help", "title": "Eyes melt", "csrf_token": learner.csrf},
        files=[("images", ("face.svg", svg, "image/svg+xml"))],
    )
    accepted = learner.post(
        "/community/posts",
        data={"kind": "help", "title": "Eyes melt", "csrf_token": learner.csrf},
        files=[
            ("images", ("a.jpg", _png(exif=True), "image/jpeg")),
            ("images", ("b.png", _png(), "image/png")),
        ],
    )

    assert refused.status_code == 400 and "PNG, JPEG or WebP" in refused.text
    assert accepted.status_code == 303
    post = learner.get("/api/feed").json()[0]
    assert len(post["images"]) == 2
    served = learner.get(post["images"][0]["url"])
    assert served.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(served.content)).getexif()  # no GPS, no camera


def test_the_author_accepts_one_answer(api_as, post_by):
    asker, helper, other = api_as("learner"), api_as("learner"), api_as("learner")
    post = post_by(asker.user)
    first = helper.post(f"/api/posts/{post.id}/comments", json={"body": "Lower the strength to 0.7."}).json()
    second = other.post(f"/api/posts/{post.id}/comments", json={"body": "Use an earlier epoch."}).json()

    by_other = other.post(f"/api/comments/{first['id']}/accept")
    accept_first = asker.post(f"/api/comments/{first['id']}/accept")
    accept_second = asker.post(f"/api/comments/{second['id']}/accept")

    assert by_other.status_code == 403
    assert accept_first.status_code == accept_second.status_code == 200
    comments = asker.get(f"/api/posts/{post.id}/comments").json()
    assert [c["accepted"] for c in comments] == [False, True]
    assert asker.get("/api/feed").json()[0]["answered"] is True
    assert asker.delete(f"/api/comments/{second['id']}/accept").json()["accepted"] is False


def test_model_posts_have_no_accepted_answer(api_as, post_by, model_for):
    owner, other = api_as("learner"), api_as("learner")
    model = model_for(owner.user)
    post = post_by(owner.user, kind="model", title="LoRA", model_id=model.id, samples=["epoch-1", "epoch-2"])
    comment = other.post(f"/api/posts/{post.id}/comments", json={"body": "Nice!"}).json()

    assert owner.post(f"/api/comments/{comment['id']}/accept").status_code == 400


def test_related_threads_lists_visible_help_threads_of_a_lesson(db, client_as, post_by, api_as):
    learner = client_as("learner")
    reviewer = api_as("reviewer")
    a = post_by(learner.user, title="Captions in lesson 3", lesson=3)
    post_by(learner.user, title="Lesson 5 thing", lesson=5)
    hidden = post_by(learner.user, title="Spam about lesson 3", lesson=3)
    b = post_by(learner.user, title="Another lesson 3 question", lesson=3)
    reviewer.post(f"/api/posts/{hidden.id}/hide")

    threads = feed.related_threads(db=db, lesson_number=3, limit=5)
    fragment = learner.get("/community/related/3")

    assert [t.id for t in threads] == [b.id, a.id]
    assert "Another lesson 3 question" in fragment.text and "Spam" not in fragment.text
    assert "/community?kind=help&amp;lesson=3" in fragment.text
    assert learner.get("/api/community/related", params={"lesson": 3}).json()[0]["id"] == b.id
    assert db.query(Post).filter(Post.lesson_number == 3).count() == 3
