"""Lesson tools over HTTP: the tokenizer API, and the calculators' no-JavaScript and htmx paths."""

import re

import pytest

from tests import factories


def test_tokenize_a_known_word_and_a_made_up_trigger(client):
    woman = client.get("/api/tokenize", params={"text": "woman", "base": "sdxl"})
    assert woman.status_code == 200
    assert woman.json()["tokens"] == ["woman"]
    assert (woman.json()["count"], woman.json()["common_word"]) == (1, True)
    made_up = client.get("/api/tokenize", params={"text": "AEXStyle", "base": "sdxl"}).json()
    assert made_up["tokens"] == ["a", "ex", "style"]
    assert (made_up["count"], made_up["common_word"]) == (3, False)
    assert "splits into 3 tokens" in made_up["message"]


def test_tokenize_a_rare_single_token_on_sd15(client):
    sks = client.get("/api/tokenize", params={"text": "sks", "base": "sd15"}).json()
    assert (sks["tokens"], sks["count"], sks["common_word"], sks["known_word"]) == (["sks"], 1, False, True)
    assert "rifle" in sks["message"]
    several = client.get("/api/tokenize", params={"text": "CustomCharV1", "base": "sd15"}).json()
    assert several["count"] == 4


@pytest.mark.parametrize(
    "params, message",
    [
        ({"text": "ohwx", "base": "flux9"}, "Unknown base"),
        ({"text": "   ", "base": "sdxl"}, "Type a trigger"),
        ({"text": "x" * 61, "base": "sdxl"}, "at most 60 characters"),
    ],
)
def test_tokenize_refuses_bad_input(client, params, message):
    response = client.get("/api/tokenize", params=params)
    assert response.status_code == 400
    assert message in response.text


def test_tokenize_needs_a_text(client):
    assert client.get("/api/tokenize").status_code == 422


# ---- the calculators without JavaScript: a plain GET form lands on the tool's page ----


def test_steps_calculator_without_javascript(client):
    page = client.get(
        "/lessons/tools/steps",
        params={"images": 15, "repeats": 10, "epochs": 10, "batch_size": 1, "base": "sdxl"},
    )
    assert page.status_code == 200
    assert "<html" in page.text and "Back to lesson 6" in page.text
    assert "1,500 steps" in page.text and "Inside the SDXL face budget of 1,000-3,000 steps" in page.text
    over = client.get(
        "/lessons/tools/steps",
        params={"images": 20, "repeats": 10, "epochs": 50, "batch_size": 1, "base": "sdxl"},
    )
    assert "10,000 steps" in over.text and "Over the SDXL face budget" in over.text
    under = client.get(
        "/lessons/tools/steps",
        params={"images": 15, "repeats": 1, "epochs": 10, "batch_size": 2, "base": "sd15"},
    )
    assert "80 steps" in under.text and "Under the SD 1.5 face budget" in under.text
    flux = client.get(
        "/lessons/tools/steps",
        params={"images": 20, "repeats": 10, "epochs": 12, "batch_size": 1, "base": "flux"},
    )
    assert "2,400 steps" in flux.text and "Over the FLUX.1 face budget of 1,000-2,000 steps" in flux.text
    unknown = client.get(
        "/lessons/tools/steps",
        params={"images": 15, "repeats": 10, "epochs": 10, "batch_size": 1, "base": "sd3"},
    )
    assert unknown.status_code == 400 and "choose one of sdxl, sd15, flux" in unknown.text


def test_steps_calculator_rounds_a_partial_batch_up(client):
    page = client.get(
        "/lessons/tools/steps",
        params={"images": 15, "repeats": 1, "epochs": 1, "batch_size": 2, "base": "sdxl"},
    )
    assert "8 steps" in page.text  # 15 images in batches of 2: seven full batches and one of one


def test_calculators_refuse_bad_values_with_a_message(client):
    page = client.get("/lessons/tools/steps", params={"images": "lots", "repeats": 10, "epochs": 10})
    assert page.status_code == 400
    assert "images must be a whole number" in page.text
    zero = client.get("/lessons/tools/alpha", params={"rank": 0, "alpha": 16})
    assert zero.status_code == 400 and "rank must be a whole number from 1 to 1024" in zero.text
    assert client.get("/lessons/tools/nope").status_code == 404


def test_alpha_calculator_without_javascript(client):
    page = client.get("/lessons/tools/alpha", params={"rank": 32, "alpha": 16})
    assert page.status_code == 200
    assert "alpha / r = 0.5" in page.text
    assert "At rank 64 with the same alpha it is 0.25, half as strong" in page.text


def test_trigger_checker_without_javascript(client):
    page = client.get("/lessons/tools/trigger", params={"text": "ohwx", "base": "sdxl"})
    assert page.status_code == 200
    assert re.search(r"<strong>1 token</strong>", page.text)
    assert "one rare token for SDXL" in page.text


# ---- htmx asks for the result alone ----


def test_calculators_answer_htmx_with_the_result_only(client):
    headers = {"HX-Request": "true"}
    steps = client.get(
        "/lessons/tools/steps",
        params={"images": 20, "repeats": 5, "epochs": 12, "batch_size": 2, "base": "sdxl"},
        headers=headers,
    )
    assert steps.status_code == 200
    assert steps.text.lstrip().startswith('<output id="steps-result"')
    assert "600 steps" in steps.text and "<html" not in steps.text
    bad = client.get("/lessons/tools/alpha", params={"rank": "x", "alpha": 16}, headers=headers)
    assert bad.status_code == 400 and bad.text.lstrip().startswith('<output id="alpha-result"')


# ---- the tools sit inside their lessons ----


def test_lessons_hold_their_tools_with_working_forms(client_as, db):
    learner = client_as("learner")
    factories.pass_lessons(db, learner.user, 5)
    expected = {
        2: ("tool-alpha", "alpha / r = 1"),
        3: ("tool-trigger", "Type a trigger"),
        6: ("tool-steps", "1,500 steps"),
    }
    for number, (tool_id, shown) in expected.items():
        page = learner.get(f"/lessons/{number}")
        assert page.status_code == 200
        assert f'id="{tool_id}"' in page.text and shown in page.text
        assert 'method="get" action="/lessons/tools/' in page.text


def test_lesson_six_shows_a_recipe_card_per_base(client_as, db):
    learner = client_as("learner")
    factories.pass_lessons(db, learner.user, 5)
    page = learner.get("/lessons/6").text
    assert (
        '<th scope="col">SDXL face</th><th scope="col">SD 1.5 face</th><th scope="col">FLUX.1 face</th>'
        in page
    )
    assert "1,000-3,000" in page and "1,000-2,000" in page and "5e-5 to 4e-4" in page
    assert "natural language (T5)" in page and 'value="flux"' in page
