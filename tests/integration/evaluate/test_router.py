"""Generate and sweep through the HTTP API and the model page, on a real tiny LoRA."""

import pytest

from app.evaluate.models import Generation, Sweep
from app.lab.models import JobStatus
from app.lab.worker import Worker
from tests import factories

pytestmark = pytest.mark.slow
PROMPTS = ["photo of sks woman, on a beach at sunset", "oil painting of sks woman, in a forest"]


@pytest.fixture
def owner_and_model(api_as, db, settings, tiny_lora):
    owner = api_as("learner")
    model = factories.make_lora_model(db, settings.data_dir, owner.user, *tiny_lora)
    return owner, model


def test_generate_answers_image_url_and_seed_and_keeps_the_settings(owner_and_model, db, settings):
    owner, model = owner_and_model
    r = owner.post(
        f"/api/models/{model.id}/generate",
        json={"prompt": "photo of sks woman, smiling", "strength": 0.8, "seed": 123456, "steps": 2},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["seed"] == 123456 and body["image_url"] == f"/api/generations/{body['id']}/image"
    image = owner.get(body["image_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    row = db.get(Generation, body["id"])
    assert (row.prompt, row.strength, row.seed, row.steps, row.epoch) == (
        "photo of sks woman, smiling",
        0.8,
        123456,
        2,
        None,
    )
    assert (settings.data_dir / row.image_path).is_relative_to(
        settings.data_dir / "users" / str(owner.user.id)
    )
    listed = owner.get(f"/api/models/{model.id}/generations").json()
    assert [g["id"] for g in listed] == [body["id"]]


def test_the_same_seed_gives_the_same_image_and_an_epoch_can_be_chosen(owner_and_model):
    owner, model = owner_and_model
    ask = {"prompt": "photo of sks woman", "strength": 1.0, "seed": 42, "steps": 2}
    first = owner.post(f"/api/models/{model.id}/generate", json=ask).json()
    again = owner.post(f"/api/models/{model.id}/generate", json=ask).json()
    epoch1 = owner.post(f"/api/models/{model.id}/generate", json={**ask, "epoch": 1}).json()
    images = [owner.get(b["image_url"]).content for b in (first, again, epoch1)]
    assert images[0] == images[1]
    assert images[0] != images[2]
    assert epoch1["epoch"] == 1


@pytest.mark.parametrize(
    "body, status",
    [
        ({"prompt": "", "strength": 0.8}, 422),
        ({"prompt": "photo of sks woman", "strength": 5}, 422),
        ({"prompt": "photo of sks woman", "seed": -1}, 422),
        ({"prompt": "photo of sks woman", "epoch": 99, "steps": 1}, 404),
    ],
)
def test_bad_generate_input_is_a_clear_4xx(owner_and_model, db, body, status):
    owner, model = owner_and_model
    r = owner.post(f"/api/models/{model.id}/generate", json=body)
    assert r.status_code == status and "detail" in r.json()
    assert db.query(Generation).count() == 0


def test_another_learners_model_is_not_found_and_reviewers_may_generate(owner_and_model, api_as):
    _, model = owner_and_model
    stranger, reviewer = api_as("learner"), api_as("reviewer")
    ask = {"prompt": "photo of sks woman", "steps": 1}
    assert stranger.post(f"/api/models/{model.id}/generate", json=ask).status_code == 404
    assert reviewer.post(f"/api/models/{model.id}/generate", json=ask).status_code == 200
    assert stranger.post(f"/api/models/{model.id}/sweeps", json={}).status_code == 404
    assert reviewer.post(f"/api/models/{model.id}/sweeps", json={}).status_code == 403


def test_generate_needs_a_signed_in_user(owner_and_model, client):
    _, model = owner_and_model
    assert client.post(f"/api/models/{model.id}/generate", json={"prompt": "x"}).status_code == 401


def test_a_sweep_runs_in_the_background_and_gives_the_model_its_scores(
    owner_and_model, app, settings, db, api_as
):
    owner, model = owner_and_model
    r = owner.post(
        f"/api/models/{model.id}/sweeps",
        json={"epochs": 2, "strengths": [0.5, 1.1], "prompts": PROMPTS, "steps": 2},
    )
    assert r.status_code == 201, r.text
    sweep = r.json()
    assert sweep["status"] == "queued" and sweep["epochs"] == [2, 3] and sweep["total"] == 10
    assert owner.post(f"/api/models/{model.id}/sweeps", json={}).status_code == 409

    ran = Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu").run(exit_when_idle=True)

    assert ran == 1
    done = owner.get(f"/api/sweeps/{sweep['id']}").json()
    assert done["status"] == "succeeded", done["error"]
    assert done["done"] == done["total"] == 10
    rec = done["result"]["recommendation"]
    assert rec["epoch"] in (2, 3) and rec["strength"] in (0.5, 1.1) and rec["reasoning"]
    assert owner.get(done["grid_url"]).headers["content-type"] == "image/png"
    shown = owner.get(f"/api/models/{model.id}").json()
    assert shown["recommended_epoch"] == rec["epoch"] and shown["recommended_strength"] == rec["strength"]
    assert set(shown["scores"]) == {"likeness", "copying", "prompt_following", "deep_fried"}
    # Reviewers see the sweep (the art directors' view); other learners do not.
    assert api_as("reviewer").get(f"/api/sweeps/{sweep['id']}").status_code == 200
    assert api_as("learner").get(f"/api/sweeps/{sweep['id']}").status_code == 404
    assert owner.get(f"/api/sweeps/{sweep['id']}/images/..%2Fsecret.png").status_code == 404


def test_a_sweep_of_a_model_whose_epoch_file_is_gone_fails_with_a_message(owner_and_model, app, settings, db):
    owner, model = owner_and_model
    sweep = owner.post(
        f"/api/models/{model.id}/sweeps", json={"epochs": 1, "strengths": [0.8], "steps": 1}
    ).json()
    from app.lab.models import LoraModelEpoch

    last = db.query(LoraModelEpoch).filter_by(job_id=model.job_id, epoch=3).one()
    (settings.data_dir / last.diffusers_path).unlink()

    Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu").run(exit_when_idle=True)

    db.expire_all()
    row = db.get(Sweep, sweep["id"])
    assert row.status == JobStatus.failed and "missing" in row.error


def test_the_panel_prefills_the_trigger_and_shows_the_webui_snippet(client_as, db, settings, tiny_lora):
    learner = client_as("learner")
    model = factories.make_lora_model(db, settings.data_dir, learner.user, *tiny_lora)
    page = learner.get(f"/models/{model.id}/evaluate")
    assert page.status_code == 200
    assert (
        "photo of sks woman, " in page.text
        and "&lt;lora:sks_woman:<span data-webui-strength>0.8</span>&gt;" in page.text
    )
    assert 'value="123456"' in page.text and "Re-roll" in page.text and "epoch 3" in page.text
    model_page = learner.get(f"/models/{model.id}")
    assert f'hx-get="/models/{model.id}/evaluate"' in model_page.text


def test_the_form_generates_with_htmx_and_without(client_as, db, settings, tiny_lora):
    learner = client_as("learner")
    model = factories.make_lora_model(db, settings.data_dir, learner.user, *tiny_lora)
    form = {
        "prompt": "photo of sks woman, in a park",
        "strength": "0.7",
        "seed": "99",
        "epoch": "2",
        "steps": "1",
    }
    fragment = learner.post(f"/models/{model.id}/generations", data=form, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'data-testid="generation"' in fragment.text
    assert "strength 0.7 · seed 99 · epoch 2" in fragment.text and "<html" not in fragment.text
    plain = learner.post(f"/models/{model.id}/generations", data={**form, "strength": "9"})
    assert plain.status_code == 422 and "strength" in plain.text
    ok = learner.post(f"/models/{model.id}/generations", data=form)
    assert ok.status_code == 303 and ok.headers["location"].startswith(f"/models/{model.id}/evaluate")
    share = learner.get(f"/generations/{db.query(Generation).first().id}")
    assert share.status_code == 200 and "&lt;lora:sks_woman:0.7&gt;" in share.text
