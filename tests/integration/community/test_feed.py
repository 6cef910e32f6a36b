"""The feed: newest first, cursor pages that stay exact while posts arrive, filters, polling."""

import re


def test_cursor_pages_return_every_post_exactly_once_while_new_posts_arrive(api_as, post_by, db):
    reader, writer = api_as("learner"), api_as("learner")
    existing = [post_by(writer.user, title=f"Post {i}").id for i in range(23)]

    seen, pages, cursor = [], 0, None
    while True:
        response = reader.get("/api/feed", params={"limit": 5, **({"before": cursor} if cursor else {})})
        assert response.status_code == 200
        page = response.json()
        seen += [p["id"] for p in page]
        pages += 1
        # Someone posts between every two pages; the cursor keeps the older pages stable.
        post_by(writer.user, title=f"Arrived after page {pages}")
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
        assert f"before={cursor}" in response.headers["Link"]

    assert len(seen) == len(set(seen)), "a post was returned twice"
    assert sorted(seen) == sorted(existing), "a post was skipped"
    assert seen == sorted(seen, reverse=True), "not newest first"
    assert pages == 5


def test_polling_after_the_newest_id_returns_only_new_posts(api_as, post_by):
    reader, writer = api_as("learner"), api_as("learner")
    first = post_by(writer.user, title="First")
    top = reader.get("/api/feed").json()[0]["id"]

    second = post_by(writer.user, title="Second")
    third = post_by(writer.user, title="Third")

    newer = reader.get("/api/feed", params={"after": top}).json()
    assert top == first.id
    assert [p["id"] for p in newer] == [third.id, second.id]
    assert reader.get("/api/feed", params={"after": third.id}).json() == []


def test_the_feed_filters_models_and_help_threads(api_as, post_by, model_for):
    learner = api_as("learner")
    model = model_for(learner.user)
    post_by(learner.user, title="Help me")
    post_by(learner.user, kind="model", title="My LoRA", model_id=model.id, samples=["epoch-1", "epoch-2"])

    only_models = learner.get("/api/feed", params={"kind": "model"}).json()
    only_help = learner.get("/api/feed", params={"kind": "help"}).json()

    assert [p["title"] for p in only_models] == ["My LoRA"]
    assert [p["title"] for p in only_help] == ["Help me"]
    assert learner.get("/api/feed", params={"kind": "poll"}).status_code == 422


def test_the_feed_page_polls_for_newer_posts_and_pages_to_older_ones(client_as, post_by, db):
    reader = client_as("learner")
    posts = [post_by(reader.user, title=f"Thread {i}") for i in range(3)]

    page = reader.get("/community")
    assert page.status_code == 200
    assert f'hx-get="/community/newer?after={posts[-1].id}"' in page.text
    assert page.text.index("Thread 2") < page.text.index("Thread 1") < page.text.index("Thread 0")

    quiet = reader.get(f"/community/newer?after={posts[-1].id}", headers={"HX-Request": "true"})
    fresh = post_by(reader.user, title="Brand new thread")
    polled = reader.get(f"/community/newer?after={posts[-1].id}", headers={"HX-Request": "true"})

    assert "<html" not in quiet.text and 'data-testid="feed-item"' not in quiet.text
    assert "Brand new thread" in polled.text and "Thread 2" not in polled.text
    # The new poller asks only for posts above the one just shown.
    assert re.search(rf'hx-get="/community/newer\?after={fresh.id}"', polled.text)


def test_the_feed_page_loads_older_posts_with_a_cursor(client_as, post_by, db):
    reader = client_as("learner")
    ids = [post_by(reader.user, title=f"Thread {i:02d}").id for i in range(22)]

    first = reader.get("/community")
    older = reader.get(f"/community?before={ids[2]}", headers={"HX-Request": "true"})

    assert first.text.count('data-testid="feed-item"') == 20 and f"/community?before={ids[2]}" in first.text
    assert older.text.count('data-testid="feed-item"') == 2
    assert "Thread 01" in older.text and "Thread 00" in older.text and "Older posts" not in older.text
