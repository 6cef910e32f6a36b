"""POST /api/jobs with a preset and with prior images: the preset fills what the request leaves
unset, a preset for another base family or an unknown one is a 422, class images count as steps."""

from app.lab.models import TrainingJob

JOB = {"trigger": "sks", "class_word": "woman", "epochs": 3, "repeats": 2, "rank": 4, "resolution": 64}


def _learner(api_as, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    return learner, dataset_for(db, learner.user)


def test_a_preset_fills_only_the_settings_left_out(api_as, db, dataset_for, may_train):
    learner, dataset_id = _learner(api_as, db, dataset_for, may_train)
    asked = {"trigger": "sks", "class_word": "woman", "dataset_id": dataset_id, "rank": 8, "resolution": 64}

    created = learner.post("/api/jobs", json={**asked, "preset": "Demo (CPU)"})

    assert created.status_code == 201, created.text
    config = db.get(TrainingJob, created.json()["id"]).config
    assert config["preset"] == "Demo (CPU)"
    assert (config["rank"], config["alpha"], config["resolution"]) == (8, 8.0, 64)  # as asked
    assert (config["max_steps"], config["learning_rate"], config["sample_steps"]) == (
        12,
        1e-3,
        8,
    )  # the preset's
    assert learner.get(f"/api/jobs/{created.json()['id']}").json()["total_steps"] == 12


def test_a_memory_preset_brings_its_trainer_settings(api_as, db, dataset_for, may_train):
    learner, dataset_id = _learner(api_as, db, dataset_for, may_train)

    created = learner.post(
        "/api/jobs", json={**JOB, "steps": 2, "dataset_id": dataset_id, "preset": "SDXL face, 12 GB"}
    )

    assert created.status_code == 201, created.text
    config = db.get(TrainingJob, created.json()["id"]).config
    assert config["gradient_checkpointing"] and config["vae_tiling"]
    assert (config["optimizer"], config["batch_size"], config["resolution"]) == ("adamw8bit", 1, 64)


def test_an_unknown_preset_or_one_for_another_family_is_refused(api_as, db, dataset_for, may_train):
    learner, dataset_id = _learner(api_as, db, dataset_for, may_train)

    unknown = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id, "preset": "SDXL 6 GB"})
    other = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id, "preset": "SD 1.5 face, 8 GB"})

    assert unknown.status_code == 422 and "unknown preset" in str(unknown.json()["detail"])
    assert other.status_code == 422 and "for sd15 bases" in other.json()["detail"]
    assert db.query(TrainingJob).count() == 0


def test_prior_images_are_accepted_and_count_in_the_steps(api_as, db, dataset_for, may_train):
    learner, dataset_id = _learner(api_as, db, dataset_for, may_train)

    created = learner.post("/api/jobs", json={**JOB, "dataset_id": dataset_id, "prior_images": 4})

    assert created.status_code == 201, created.text
    assert db.get(TrainingJob, created.json()["id"]).config["prior_images"] == 4
    # (4 photos + 4 class images) x 2 repeats x 3 epochs / batch 1
    assert learner.get(f"/api/jobs/{created.json()['id']}").json()["total_steps"] == 48
