"""The memory estimate knows an fp8 base: FLUX.1's weights figure halves, a UNet's shrinks less
(its convolutions stay bf16), and a FLUX.1 face job that is over a 24 GB budget in bf16 fits."""

import dataclasses

import pytest

from app.trainer import limits
from app.trainer.config import TrainConfig

FLUX_1024 = TrainConfig(trigger="sks", class_word="woman", resolution=1024, rank=16, max_steps=1000)


def _estimate(cfg, family):
    return limits.estimate_memory(limits.job_size(cfg, 20, family))


def test_fp8_halves_flux_weights_and_shrinks_a_unet_less():
    fp8 = dataclasses.replace(FLUX_1024, base_precision="fp8")
    assert _estimate(fp8, "flux").weights * 2 == pytest.approx(_estimate(FLUX_1024, "flux").weights, abs=2)
    sdxl, sdxl_fp8 = _estimate(FLUX_1024, "sdxl").weights, _estimate(fp8, "sdxl").weights
    assert sdxl / 2 < sdxl_fp8 < sdxl
    assert _estimate(fp8, "flux").activations == _estimate(FLUX_1024, "flux").activations


def test_a_flux_job_over_24_gb_in_bf16_fits_with_an_fp8_base():
    bf16 = dataclasses.replace(FLUX_1024, gradient_checkpointing=True)
    with pytest.raises(limits.JobTooCostly, match="GB of memory"):
        limits.check_job(limits.job_size(bf16, 20, "flux"))
    fp8 = dataclasses.replace(bf16, base_precision="fp8")
    assert limits.check_job(limits.job_size(fp8, 20, "flux")).total < 24 * limits.GB
