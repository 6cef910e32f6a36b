"""A sweep is a job on the training queue: a server that runs no worker (LORAFACE_WORKER=off)
queues it, and a separate `loraface worker` process runs it to the end."""

import pytest

from tests import factories
from tests.faults import harness

pytestmark = pytest.mark.slow


def test_a_sweep_queued_on_a_server_without_worker_is_run_by_a_loraface_worker_process(
    api_as, db, settings, tiny_lora, tmp_path
):
    assert settings.worker == "off"
    owner = api_as("learner")
    model = factories.make_lora_model(db, settings.data_dir, owner.user, *tiny_lora)
    r = owner.post(
        f"/api/models/{model.id}/sweeps",
        json={
            "epochs": 1,
            "strengths": [0.8],
            "prompts": ["photo of sks woman", "sks woman, painting"],
            "steps": 1,
        },
    )
    assert r.status_code == 201, r.text
    sweep_id = r.json()["id"]
    assert owner.get(f"/api/sweeps/{sweep_id}").json()["status"] == "queued"

    workers = harness.Workers(settings, tmp_path)
    proc = workers.start("worker", "--exit-when-idle", "--device", "cpu")
    try:
        proc.wait(timeout=600)
    finally:
        workers.stop_all()
    log = harness.log_tail(proc)

    done = owner.get(f"/api/sweeps/{sweep_id}").json()
    assert done["status"] == "succeeded", (done["error"], log)
    assert done["done"] == done["total"] == 4  # base and one cell, for each of two prompts
    assert done["result"]["recommendation"]["epoch"] == 3
    assert owner.get(done["grid_url"]).headers["content-type"] == "image/png"
    assert "worker stopped after 1 job(s)" in log
    shown = owner.get(f"/api/models/{model.id}").json()
    assert shown["recommended_epoch"] == 3 and shown["recommended_strength"] == 0.8
