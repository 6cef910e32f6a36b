"""Generation with the exported LoRA file on CPU: strength 0 is the base model, a seed repeats."""

import numpy as np
import pytest

from app.trainer import sampling
from tests.integration.evaluate.conftest import RES

pytestmark = pytest.mark.slow
PROMPT = ["photo of sks woman, on a beach"]


def _pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_strength_zero_gives_the_base_models_image(tiny_lora, model_cache):
    outcome, _ = tiny_lora
    pipe = sampling.cached_pipeline(None, model_cache, "cpu")
    base = sampling.generate_with(
        pipe, lora_path=None, prompts=PROMPT, strength=0.0, seed=123456, steps=3, resolution=RES
    )
    zero = sampling.generate_with(
        pipe, lora_path=outcome.lora_path, prompts=PROMPT, strength=0.0, seed=123456, steps=3, resolution=RES
    )
    full = sampling.generate_with(
        pipe, lora_path=outcome.lora_path, prompts=PROMPT, strength=1.0, seed=123456, steps=3, resolution=RES
    )
    assert np.array_equal(_pixels(zero[0]), _pixels(base[0]))
    assert np.abs(_pixels(full[0]) - _pixels(base[0])).mean() > 0.5, "the LoRA at 1.0 should change the image"


def test_generation_is_deterministic_for_a_fixed_seed(tiny_lora, model_cache):
    outcome, _ = tiny_lora
    pipe = sampling.cached_pipeline(None, model_cache, "cpu")
    kwargs = dict(lora_path=outcome.lora_path, prompts=PROMPT, strength=0.8, steps=3, resolution=RES)
    first = sampling.generate_with(pipe, seed=123456, **kwargs)[0]
    again = sampling.generate_with(pipe, seed=123456, **kwargs)[0]
    other = sampling.generate_with(pipe, seed=7, **kwargs)[0]
    assert np.array_equal(_pixels(first), _pixels(again))
    assert not np.array_equal(_pixels(first), _pixels(other))
