"""The lab's JSON API and pages through HTTP: the lesson gate, validation, ownership, cancel."""

from app.lab import job_store
from app.lab.models import JobStatus, TrainingJob

JOB = {
    "trigger": "sks",
    "class_word": "woman",
    "epochs": 3,
    "repeats": 2,
    "rank": 4,
    "resolution": 64,
    "sample_steps": 2,
}


def test_starting_a_job_needs_lesson_6(api_as, db, dataset_for):
    learner = api_as("learner")
    dataset_id = dataset_for(db, learner.user)

    response = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id})

    assert response.status_code == 403
    assert "lesson 6" in response.json()["detail"]


def test_a_learner_who_passed_lesson_6_queues_a_job(api_as, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    dataset_id = dataset_for(db, learner.user)

    created = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id})
    status = learner.get(f"/api/jobs/{created.json()['id']}")

    assert created.status_code == 201 and created.json()["status"] == "queued"
    body = status.json()
    # 4 photos x 2 repeats x 3 epochs / batch 1
    assert body["total_steps"] == 24 and body["total_epochs"] == 3
    assert body["status"] == "queued" and body["queue_position"] == 1
    assert body["step"] == 0 and body["samples"] == [] and body["model_id"] is None and body["error"] is None


def test_steps_win_over_epochs(api_as, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    dataset_id = dataset_for(db, learner.user)

    job_id = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id, "steps": 10}).json()["id"]

    body = learner.get(f"/api/jobs/{job_id}").json()
    assert body["total_steps"] == 10 and body["total_epochs"] == 2  # 8 steps per epoch


def test_bad_settings_are_refused_with_a_reason(api_as, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    dataset_id = dataset_for(db, learner.user)

    same_words = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id, "trigger": "woman"})
    odd_size = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id, "resolution": 100})
    zero_rank = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id, "rank": 0})

    assert same_words.status_code == odd_size.status_code == zero_rank.status_code == 422
    assert "differ" in same_words.text and "multiple of 8" in odd_size.text
    assert db.query(TrainingJob).count() == 0


def test_another_learners_dataset_is_not_found(api_as, db, dataset_for, may_train):
    owner, other = api_as("learner"), api_as("learner")
    may_train(db, other.user)
    dataset_id = dataset_for(db, owner.user)

    response = other.post("/api/jobs", json={**JOB, "dataset_id": dataset_id})

    assert response.status_code == 404


def test_another_learners_job_is_not_found(api_as, db, dataset_for, may_train):
    owner, other = api_as("learner"), api_as("learner")
    may_train(db, owner.user)
    job_id = owner.post("/api/jobs", json={**JOB, "dataset_id": dataset_for(db, owner.user)}).json()["id"]

    assert other.get(f"/api/jobs/{job_id}").status_code == 404
    assert other.post(f"/api/jobs/{job_id}/cancel").status_code == 404
    assert owner.get(f"/api/jobs/{job_id}").status_code == 200
    assert owner.get("/api/jobs/999999").status_code == 404


def test_the_queue_per_learner_is_small(api_as, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    dataset_id = dataset_for(db, learner.user)
    for _ in range(job_store.MAX_QUEUED_PER_USER):
        assert learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id}).status_code == 201

    response = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id})

    assert response.status_code == 429 and "waiting" in response.json()["detail"]


def test_cancel_a_waiting_job_then_again(api_as, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    job_id = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_for(db, learner.user)}).json()["id"]

    first = learner.post(f"/api/jobs/{job_id}/cancel")
    again = learner.post(f"/api/jobs/{job_id}/cancel")

    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    assert again.status_code == 409


def test_cancel_a_running_job_asks_its_worker(api_as, app, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    job_id = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_for(db, learner.user)}).json()["id"]
    with app.state.sessionmaker() as s:
        claim = job_store.claim_next(db=s, worker_id="w")

    response = learner.post(f"/api/jobs/{job_id}/cancel")
    with app.state.sessionmaker() as s:
        told = job_store.report(db=s, claim=claim)
        s.commit()

    assert response.json()["status"] == "running" and response.json()["cancel_requested"] is True
    assert told is True


def test_unknown_model_is_not_found(api_as):
    learner = api_as("learner")
    assert learner.get("/api/models/12345").status_code == 404
    assert learner.get("/api/models/12345/download?format=kohya").status_code == 404


# ---- pages ----


def test_the_lab_is_locked_until_lesson_6(client_as):
    browser = client_as("learner")
    page = browser.get("/lab")
    assert page.status_code == 200
    assert "The trainer is locked" in page.text and "/lessons/6" in page.text
    assert 'data-testid="trainer-form"' not in page.text


def test_the_lab_page_shows_the_form_and_the_steps_arithmetic(client_as, db, dataset_for, may_train):
    browser = client_as("learner")
    may_train(db, browser.user)
    dataset_id = dataset_for(db, browser.user)

    page = browser.get("/lab")
    plan = browser.get(
        "/lab/plan",
        params={"dataset_id": dataset_id, "epochs": 7, "repeats": 3, "batch_size": 2},
        headers={"HX-Request": "true"},
    )

    assert 'data-testid="trainer-form"' in page.text and 'hx-trigger="input' in page.text
    # 4 photos x 3 repeats = 12 per epoch / batch 2 = 6 steps per epoch, x 7 epochs
    assert "42 steps" in plan.text and plan.text.lstrip().startswith("<output")
    assert "<html" not in plan.text


def test_the_form_starts_a_job_and_its_page_polls_until_it_ends(client_as, db, dataset_for, may_train):
    browser = client_as("learner")
    may_train(db, browser.user)
    dataset_id = dataset_for(db, browser.user)
    form = {k: str(v) for k, v in JOB.items()} | {
        "dataset_id": str(dataset_id),
        "steps": "",
        "csrf_token": browser.csrf,
    }

    started = browser.post("/lab/jobs", data=form)
    job_id = int(started.headers["location"].rsplit("/", 1)[1])
    page = browser.get(f"/lab/jobs/{job_id}")
    fragment = browser.get(f"/lab/jobs/{job_id}", headers={"HX-Request": "true"})
    cancelled = browser.post(
        f"/lab/jobs/{job_id}/cancel", data={"csrf_token": browser.csrf}, headers={"HX-Request": "true"}
    )

    assert started.status_code == 303
    assert "Step" in page.text and 'hx-trigger="every 1s"' in page.text and "Cancel" in page.text
    assert fragment.text.lstrip().startswith("<section") and "<html" not in fragment.text
    assert 'data-status="cancelled"' in cancelled.text and 'hx-trigger="every 1s"' not in cancelled.text
    assert db.get(TrainingJob, job_id).status == JobStatus.cancelled


def test_the_form_shows_what_is_wrong(client_as, db, dataset_for, may_train):
    browser = client_as("learner")
    may_train(db, browser.user)
    dataset_id = dataset_for(db, browser.user)
    form = {k: str(v) for k, v in JOB.items()} | {
        "dataset_id": str(dataset_id),
        "rank": "0",
        "csrf_token": browser.csrf,
    }

    response = browser.post("/lab/jobs", data=form)

    assert response.status_code == 422
    assert 'data-testid="form-errors"' in response.text and "rank" in response.text
    assert db.query(TrainingJob).count() == 0


def test_another_learners_job_page_is_not_found(client_as, db, dataset_for, may_train, api_as):
    owner = api_as("learner")
    may_train(db, owner.user)
    job_id = owner.post("/api/jobs", json={**JOB, "dataset_id": dataset_for(db, owner.user)}).json()["id"]
    other = client_as("learner")

    assert other.get(f"/lab/jobs/{job_id}").status_code == 404
    assert other.get(f"/lab/jobs/{job_id}/samples/1").status_code == 404


def test_the_face_recipe_settings_reach_the_jobs_config(api_as, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    dataset_id = dataset_for(db, learner.user)
    recipe = {
        "mask": "head",
        "mask_background_weight": 0.0,
        "ema_decay": 0.99,
        "optimizer": "adafactor",
        "network": "dora",
    }

    created = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id, **recipe})
    unknown = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id, "optimizer": "sgd"})

    assert created.status_code == 201
    config = db.get(TrainingJob, created.json()["id"]).config
    assert {k: config[k] for k in recipe} == recipe
    assert unknown.status_code == 422 and "optimizer" in str(unknown.json()["detail"])
