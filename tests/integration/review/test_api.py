"""The review API through HTTP: submit and freeze, roles and ownership, claims, rubric rules, rounds."""

import threading

import pytest

from app.review import prompts, queue, submissions
from app.review.hints import rubric_hints
from app.review.models import Review, Submission, SubmissionStatus

pytestmark = pytest.mark.slow  # one tiny LoRA is trained for the session

GOOD = {"likeness": 4, "consistency": 4, "flexibility": 4, "image_quality": 4}


def _submit(client, model, **extra):
    return client.post("/api/submissions", json={"model_id": model.id, "note": "round one", **extra})


def test_submitting_freezes_the_epoch_file_samples_and_settings(api_as, model_for, settings):
    learner = api_as("learner")
    model = model_for(learner.user)

    created = _submit(learner, model, epoch=1)
    body = learner.get(f"/api/submissions/{created.json()['id']}").json()

    assert created.status_code == 201 and created.json()["status"] == "waiting"
    assert body["epoch"] == 1 and body["round"] == 1 and body["note"] == "round one"
    assert body["settings"]["ss_network_dim"] == "4" and body["settings"]["ss_trigger_word"] == "sks"
    assert [s["epoch"] for s in body["snapshot"]["samples"]] == [1, 2]
    assert len(body["snapshot"]["crops"]) == 4
    frozen = learner.get(body["lora_url"])
    epoch_file = settings.data_dir / model.job.epochs[0].kohya_path
    assert frozen.status_code == 200 and frozen.content == epoch_file.read_bytes()
    folder = settings.data_dir / "users" / str(learner.user.id) / "review" / f"submission-{body['id']}"
    assert (folder / "samples" / "epoch-001.png").is_file()
    sample = learner.get(f"/submissions/{body['id']}/files/samples/epoch-002.png")
    assert sample.status_code == 200 and sample.content[:4] == b"\x89PNG"
    assert learner.get(f"/submissions/{body['id']}/crops/0").status_code == 200


def test_one_open_submission_per_model_and_a_clear_epoch_error(api_as, model_for, db, settings):
    learner = api_as("learner")
    model = model_for(learner.user)

    no_epoch = learner.post("/api/submissions", json={"model_id": model.id, "epoch": 9})
    first = _submit(learner, model)
    second = _submit(learner, model)

    assert no_epoch.status_code == 422 and "no epoch 9" in no_epoch.json()["detail"]
    assert first.status_code == 201
    assert second.status_code == 409 and "already has a submission in review" in second.json()["detail"]
    assert db.query(Submission).count() == 1
    # the refused ones left no frozen files behind
    review_dir = settings.data_dir / "users" / str(learner.user.id) / "review"
    assert [p.name for p in review_dir.iterdir()] == [f"submission-{first.json()['id']}"]


def test_a_learner_cannot_reach_the_queue_or_review(api_as, client_as, model_for):
    learner, other = api_as("learner"), api_as("learner")
    sub_id = _submit(learner, model_for(learner.user)).json()["id"]
    review = {"scores": GOOD, "verdict": "approved", "comment": "fine"}

    assert other.get("/api/review/queue").status_code == 403
    assert other.post(f"/api/submissions/{sub_id}/claim").status_code == 403
    assert other.post(f"/api/submissions/{sub_id}/reviews", json=review).status_code == 403
    # the owner is a learner too: no reviewing one's own work
    assert learner.post(f"/api/submissions/{sub_id}/reviews", json=review).status_code == 403
    page = client_as("learner")
    assert page.get("/review").status_code == 403
    assert page.get(f"/review/{sub_id}").status_code == 403


def test_a_learner_cannot_see_another_learners_submission(api_as, client_as, model_for):
    owner, other = api_as("learner"), api_as("learner")
    model = model_for(owner.user)
    sub_id = _submit(owner, model).json()["id"]
    browser = client_as("learner")

    assert other.get(f"/api/submissions/{sub_id}").status_code == 404
    assert other.get(f"/api/submissions/{sub_id}/lora").status_code == 404
    assert other.get(f"/submissions/{sub_id}/files/samples/epoch-001.png").status_code == 404
    assert other.post("/api/submissions", json={"model_id": model.id}).status_code == 404
    assert browser.get(f"/submissions/{sub_id}").status_code == 404
    assert owner.get(f"/api/submissions/{sub_id}").status_code == 200
    assert api_as("reviewer").get(f"/api/submissions/{sub_id}").status_code == 200


def test_two_reviewers_claiming_the_same_submission_one_wins(api_as, model_for):
    learner = api_as("learner")
    sub_id = _submit(learner, model_for(learner.user)).json()["id"]
    first, second = api_as("reviewer"), api_as("reviewer")

    won = first.post(f"/api/submissions/{sub_id}/claim")
    lost = second.post(f"/api/submissions/{sub_id}/claim")
    late_review = second.post(
        f"/api/submissions/{sub_id}/reviews", json={"scores": GOOD, "verdict": "approved", "comment": ""}
    )

    assert won.status_code == 200 and won.json()["status"] == "claimed"
    assert won.json()["reviewer"] == first.user.display_name
    assert lost.status_code == 409 and first.user.display_name in lost.json()["detail"]
    assert late_review.status_code == 409
    assert [i["id"] for i in first.get("/api/review/queue?filter=mine").json()] == [sub_id]
    assert second.get("/api/review/queue?filter=mine").json() == []
    assert second.get("/api/review/queue").json() == []  # no longer waiting


def test_simultaneous_claims_leave_exactly_one_winner(app, api_as, model_for):
    learner = api_as("learner")
    sub_id = _submit(learner, model_for(learner.user)).json()["id"]
    reviewers = [api_as("reviewer").user for _ in range(4)]
    barrier, outcomes = threading.Barrier(len(reviewers)), []

    def claim(user):
        with app.state.sessionmaker() as db:
            sub = db.get(Submission, sub_id)
            barrier.wait()
            try:
                queue.claim(db=db, user=user, submission=sub)
                db.commit()
                outcomes.append(("won", user.id))
            except Exception as error:  # the losers see the winner's claim
                db.rollback()
                outcomes.append((type(error).__name__, user.id))

    threads = [threading.Thread(target=claim, args=(u,)) for u in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    winners = [uid for kind, uid in outcomes if kind == "won"]
    assert len(outcomes) == 4 and len(winners) == 1
    assert {kind for kind, _ in outcomes} - {"won"} == {"AlreadyClaimed"}
    with app.state.sessionmaker() as db:
        assert db.get(Submission, sub_id).reviewer_id == winners[0]


def test_a_verdict_without_required_comments_is_refused_with_a_message(api_as, model_for, db):
    learner, reviewer = api_as("learner"), api_as("reviewer")
    sub_id = _submit(learner, model_for(learner.user)).json()["id"]
    reviewer.post(f"/api/submissions/{sub_id}/claim")

    low_mark = reviewer.post(
        f"/api/submissions/{sub_id}/reviews",
        json={"scores": {**GOOD, "likeness": 2}, "verdict": "approved", "comment": "ok"},
    )
    no_overall = reviewer.post(
        f"/api/submissions/{sub_id}/reviews",
        json={"scores": GOOD, "verdict": "changes_requested", "comment": "  "},
    )
    out_of_range = reviewer.post(
        f"/api/submissions/{sub_id}/reviews",
        json={"scores": {**GOOD, "flexibility": 6}, "verdict": "approved"},
    )

    assert low_mark.status_code == 422 and "Likeness got 2/5" in low_mark.json()["detail"]
    assert no_overall.status_code == 422 and "overall comment" in no_overall.json()["detail"]
    assert out_of_range.status_code == 422
    assert db.query(Review).count() == 0
    assert learner.get(f"/api/submissions/{sub_id}").json()["status"] == "claimed"


def test_the_review_form_shows_what_is_missing(client_as, api_as, model_for):
    learner = api_as("learner")
    sub_id = _submit(learner, model_for(learner.user)).json()["id"]
    reviewer = client_as("reviewer")

    response = reviewer.post(
        f"/review/{sub_id}/verdict",
        data={
            "likeness": "4",
            "consistency": "1",
            "flexibility": "4",
            "image_quality": "4",
            "verdict": "changes_requested",
            "comment": "",
            "csrf_token": reviewer.csrf,
        },
    )

    assert response.status_code == 422
    assert "Consistency across angles and lighting got 1/5" in response.text
    assert "needs an overall comment" in response.text
    assert learner.get(f"/api/submissions/{sub_id}").json()["review"] is None


def test_changes_requested_then_resubmitted_then_approved_keeps_every_round(api_as, model_for, db):
    learner, reviewer = api_as("learner"), api_as("reviewer")
    model = model_for(learner.user)
    first = _submit(learner, model, epoch=2).json()["id"]

    sent_back = reviewer.post(
        f"/api/submissions/{first}/reviews",
        json={
            "scores": {**GOOD, "consistency": 2},
            "comments": {"consistency": "The profile shots lose the face."},
            "verdict": "changes_requested",
            "comment": "Try the earlier epoch at a lower strength.",
        },
    )
    verdict_page = learner.get(f"/submissions/{first}")
    assert 'data-testid="verdict-train-again"' in verdict_page.text
    assert f'href="/lab?based_on={model.job_id}"' in verdict_page.text
    second = _submit(learner, model, epoch=1, note="earlier epoch").json()["id"]
    approved = reviewer.post(
        f"/api/submissions/{second}/reviews",
        json={"scores": GOOD, "verdict": "approved", "comment": "Consistent now."},
    )
    again = _submit(learner, model)
    body = learner.get(f"/api/submissions/{second}").json()

    assert sent_back.status_code == 201 and sent_back.json()["comments"]["consistency"].startswith(
        "The profile"
    )
    assert approved.status_code == 201 and body["status"] == "approved"
    assert [(r["round"], r["status"], r["epoch"]) for r in body["rounds"]] == [
        (1, "changes_requested", 2),
        (2, "approved", 1),
    ]
    assert body["rounds"][0]["comment"] == "Try the earlier epoch at a lower strength."
    assert again.status_code == 409 and "already approved" in again.json()["detail"]
    assert submissions.is_approved(db=db, model_id=model.id)
    assert submissions.learner_status(db=db, user_id=learner.user.id) == "approved"
    node8 = next(n for n in learner.get("/api/lessons").json() if n["number"] == 8)
    assert node8["milestone"] == "approved"
    done = reviewer.get("/api/review/queue?filter=done").json()
    assert [i["id"] for i in done] == [first, second]


def test_queue_is_oldest_first_with_contract_fields(api_as, model_for):
    a, b = api_as("learner"), api_as("learner")
    first = _submit(a, model_for(a.user)).json()["id"]
    second = _submit(b, model_for(b.user)).json()["id"]

    items = api_as("reviewer").get("/api/review/queue").json()

    assert [i["id"] for i in items] == [first, second]
    assert {"id", "model_id", "learner", "submitted_at", "status"} <= set(items[0])
    assert items[0]["learner"] == a.user.display_name and items[0]["status"] == "waiting"


def test_nav_counts_for_reviewers_and_new_verdicts_for_learners(client_as, api_as, model_for):
    learner = client_as("learner")
    model = model_for(learner.user)
    created = learner.post("/api/submissions", json={"model_id": model.id})
    sub_id = created.json()["id"]
    reviewer = client_as("reviewer")
    nav = {"HX-Request": "true"}

    assert 'Queue <span class="nav-count">1</span>' in reviewer.get("/review/nav", headers=nav).text
    reviewer.post(
        f"/review/{sub_id}/verdict",
        data={
            **{k: str(v) for k, v in GOOD.items()},
            "verdict": "approved",
            "comment": "",
            "csrf_token": reviewer.csrf,
        },
    )
    assert 'Verdicts <span class="nav-count">1</span>' in learner.get("/review/nav", headers=nav).text
    page = learner.get(f"/submissions/{sub_id}")
    assert page.status_code == 200 and "approved" in page.text
    assert "Verdicts" not in learner.get("/review/nav", headers=nav).text


def test_model_page_panel_offers_submission_and_then_shows_the_verdict(client_as, api_as, model_for):
    learner = client_as("learner")
    model = model_for(learner.user)

    panel = learner.get(f"/models/{model.id}/review")
    submitted = learner.post(
        f"/models/{model.id}/submissions",
        data={"epoch": "2", "note": "first try", "csrf_token": learner.csrf},
    )
    sub_id = int(submitted.headers["location"].rsplit("/", 1)[1])
    api_as("reviewer").post(
        f"/api/submissions/{sub_id}/reviews",
        json={"scores": GOOD, "verdict": "approved", "comment": "Lovely."},
    )
    after = learner.get(f"/models/{model.id}/review")

    assert panel.status_code == 200 and "Submit your First Face LoRA" in panel.text
    assert submitted.status_code == 303
    assert 'data-testid="model-verdict">approved' in after.text and "Submit for review" not in after.text


def test_erasing_the_account_erases_submissions_and_frozen_files(client_as, model_for, settings, db):
    learner = client_as("learner")
    sub_id = learner.post("/api/submissions", json={"model_id": model_for(learner.user).id}).json()["id"]
    folder = settings.data_dir / "users" / str(learner.user.id) / "review" / f"submission-{sub_id}"
    assert folder.is_dir()

    assert learner.delete("/api/me").status_code in (200, 204)

    db.expire_all()
    assert db.get(Submission, sub_id) is None and not folder.exists()


def test_review_screen_shows_evidence_scores_and_hints_from_a_real_sweep(
    client_as, api_as, model_for, sweep_for
):
    learner = api_as("learner")
    model = model_for(learner.user)
    sweep = sweep_for(model)
    assert sweep.status.value == "succeeded", sweep.error
    sub_id = _submit(learner, model, epoch=2).json()["id"]
    reviewer = client_as("reviewer")

    body = learner.get(f"/api/submissions/{sub_id}").json()
    page = reviewer.get(f"/review/{sub_id}")

    frozen = body["snapshot"]["sweep"]
    assert frozen["grid"] == "sweep/grid.png" and [c["strength"] for c in frozen["row"]] == [0.6, 1.0]
    assert page.status_code == 200
    for text in (
        "Training crops",
        "Strength × epoch grid",
        "Recommended: epoch",
        "rank",
        "Try your own prompts",
        'data-testid="demo-note"',
        "Send verdict",
    ):
        assert text in page.text, text
    assert 'data-testid="hint-' not in page.text  # the demo base's noise pre-fills no mark
    assert reviewer.get(f"/submissions/{sub_id}/files/sweep/grid.png").status_code == 200
    for name in frozen["row"][0]["images"] + frozen["base_images"]:
        assert reviewer.get(f"/submissions/{sub_id}/files/{name}").status_code == 200, name
    assert rubric_hints(frozen) == {}  # nothing was measured on the demo base
    assert all(s["value"] is None and s["sentence"] for s in frozen["row"][0]["scores"].values())
    assert SubmissionStatus.waiting.value == body["status"]


def test_a_reviewer_generates_from_the_submitted_epoch_on_the_fixed_seed(client_as, api_as, model_for):
    learner = api_as("learner")
    sub_id = _submit(learner, model_for(learner.user), epoch=1).json()["id"]
    reviewer = client_as("reviewer")

    made = reviewer.post(
        f"/review/{sub_id}/generate",
        data={
            "prompt": "photo of sks woman, profile, rim light",
            "strength": "0.9",
            "csrf_token": reviewer.csrf,
        },
    )
    page = reviewer.get(f"/review/{sub_id}")
    blank = reviewer.post(f"/review/{sub_id}/generate", data={"prompt": "   ", "csrf_token": reviewer.csrf})

    assert made.status_code == 303
    assert 'data-testid="review-generation"' in page.text and "profile, rim light" in page.text
    gens = learner.get(
        f"/api/models/{learner.get(f'/api/submissions/{sub_id}').json()['model_id']}/generations"
    ).json()
    assert gens[0]["seed"] == prompts.GENERATE_SEED and gens[0]["epoch"] == 1
    assert blank.status_code == 422
