"""Sharing a model: the poster's own model, 2-4 chosen samples copied under their folder,
a snapshot of the settings, and nothing of the private training photos."""

import io
from pathlib import Path

from PIL import Image

from app.community.models import Post, PostImage
from app.lab.models import LoraModel


def _share(client, model_id, samples=("epoch-1", "epoch-3"), **extra):
    body = {"kind": "model", "title": "My first face LoRA", "body": "Works best at 0.8.", "model_id": model_id,
            "samples": list(samples), **extra}  # fmt: skip
    return client.post("/api/posts", json=body)


def test_a_learner_shares_their_model_with_chosen_samples(api_as, model_for, settings):
    owner, reader = api_as("learner"), api_as("learner")
    model = model_for(owner.user, name="ada_v1")

    choices = owner.get(f"/api/community/models/{model.id}/samples").json()
    created = _share(owner, model.id, samples=["epoch-3", "epoch-1"])

    assert [c["ref"] for c in choices] == ["epoch-1", "epoch-2", "epoch-3"]
    assert created.status_code == 201, created.text
    post = reader.get(f"/api/posts/{created.json()['id']}").json()
    assert post["model"] == {
        "model_id": model.id, "name": "ada_v1", "trigger": "sks", "class_word": "woman",
        "recommended_strength": 0.8, "recommended_epoch": 2, "approved": False,
    }  # fmt: skip
    assert post["author"] == owner.user.display_name
    assert [i["caption"] for i in post["images"]] == ["Epoch 3 sample", "Epoch 1 sample"]
    assert post["settings"]["rank"] == 4 and post["settings"]["learning_rate"] == 0.001
    assert len(post["losses"]) == 6
    # Another learner can open the samples; they are copies under the author's folder.
    image = reader.get(post["images"][0]["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (64, 64)
    folder = Path(settings.data_dir) / "users" / str(owner.user.id) / "community" / f"post-{post['id']}"
    assert sorted(p.name for p in folder.iterdir()) == ["1.png", "2.png"]


def test_the_training_photos_and_file_paths_stay_private(api_as, model_for):
    owner, reader = api_as("learner"), api_as("learner")
    model = model_for(owner.user)
    post_id = _share(owner, model.id).json()["id"]

    text = reader.get(f"/api/posts/{post_id}").text + reader.get(f"/community/posts/{post_id}").text

    assert "users/" not in text and "test-crops" not in text
    assert (
        model.diffusers_path not in text and model.kohya_path not in text
    )  # (the demo note names the format)
    assert f"/lab/jobs/{model.job_id}" not in text
    assert reader.get(f"/api/models/{model.id}").status_code == 404  # the model itself stays the owner's


def test_sharing_someone_elses_model_is_not_found(api_as, model_for, db):
    owner, thief = api_as("learner"), api_as("learner")
    model = model_for(owner.user)

    shared = _share(thief, model.id)
    choices = thief.get(f"/api/community/models/{model.id}/samples")
    attached = thief.post("/api/posts", json={"kind": "help", "title": "Look", "model_id": model.id})
    job = thief.post("/api/posts", json={"kind": "help", "title": "Look", "job_id": model.job_id})

    assert shared.status_code == choices.status_code == attached.status_code == job.status_code == 404
    assert db.query(Post).count() == 0


def test_two_to_four_real_samples_must_be_chosen(api_as, model_for, db):
    owner = api_as("learner")
    model = model_for(owner.user, epochs=5)

    one = _share(owner, model.id, samples=["epoch-1"])
    five = _share(owner, model.id, samples=[f"epoch-{i}" for i in range(1, 6)])
    unknown = _share(owner, model.id, samples=["epoch-1", "epoch-9"])
    training_photo = _share(owner, model.id, samples=["epoch-1", "../test-crops/000.png"])

    assert one.status_code == 400 and "2 to 4" in one.json()["detail"]
    assert five.status_code == 422
    assert unknown.status_code == 400 and "epoch-9" in unknown.json()["detail"]
    assert training_photo.status_code == 400
    assert db.query(Post).count() == 0 and db.query(PostImage).count() == 0


def test_the_post_keeps_its_snapshot_when_the_model_is_deleted(api_as, model_for, db):
    owner, reader = api_as("learner"), api_as("learner")
    model = model_for(owner.user, name="gone_model")
    post_id = _share(owner, model.id).json()["id"]

    db.delete(db.get(LoraModel, model.id))
    db.commit()

    post = reader.get(f"/api/posts/{post_id}").json()
    assert post["model"]["model_id"] is None and post["model"]["name"] == "gone_model"
    assert reader.get(post["images"][0]["url"]).status_code == 200


def test_sharing_through_the_form_with_checkboxes(client_as, model_for):
    owner = client_as("learner")
    model = model_for(owner.user, name="form_model")

    form = owner.get(f"/community/new?kind=model&model_id={model.id}")
    posted = owner.post(
        "/community/posts",
        data={"kind": "model", "title": "Shared from the form", "model_id": str(model.id),
              "samples": ["epoch-2", "epoch-3"], "body": "", "csrf_token": owner.csrf},
    )  # fmt: skip

    assert form.status_code == 200 and 'value="epoch-2"' in form.text
    assert posted.status_code == 303
    page = owner.get(posted.headers["location"])
    assert "form_model" in page.text and page.text.count('data-testid="post-image"') == 2


def test_a_model_of_the_demo_base_says_its_samples_are_noise(api_as, model_for, db):
    owner, reader = api_as("learner"), api_as("learner")
    demo = model_for(owner.user)
    real = model_for(owner.user, name="on_sdxl")
    real.base_model = "checkpoints/sdxl-base.safetensors"
    db.commit()
    demo_post, real_post = _share(owner, demo.id).json()["id"], _share(owner, real.id).json()["id"]

    assert reader.get(f"/api/posts/{demo_post}").json()["settings"]["base"] == "demo"
    assert reader.get(f"/api/posts/{real_post}").json()["settings"]["base"] == "SDXL"
    assert 'data-testid="demo-note"' in reader.get(f"/community/posts/{demo_post}").text
    page = reader.get(f"/community/posts/{real_post}").text
    assert 'data-testid="demo-note"' not in page and "sdxl-base" not in page  # the path stays private
