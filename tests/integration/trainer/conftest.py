"""Shared pieces for the trainer's integration tests: one tiny-model cache and real face crops."""

from pathlib import Path

import pytest

from tests.photos import write_face_set

RES = 64  # the tiny model's latents are RES/2 wide; small keeps CPU training to seconds


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """One cache folder for the tiny demo SDXL, built once per test session."""
    import torch

    # The tiny model's ops gain nothing from threads, and on a busy runner spin-waiting threads
    # make every step many times slower (as `loraface train` does for the demo model).
    torch.set_num_threads(1)
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def face_images(tmp_path_factory):
    """Four RES x RES crops of two real people (astronaut, Grace Hopper, and their mirror images)."""
    from app.trainer.pipeline import TrainImage

    folder = tmp_path_factory.mktemp("faces")
    return [
        TrainImage(path=p, caption="sks woman", original_size=(RES, RES))
        for p in write_face_set(folder, size=RES)
    ]


def unet_inputs(pipe, seed: int = 0):
    """A fixed noisy latent, timestep and SDXL conditioning for comparing UNet outputs."""
    import torch

    g = torch.Generator().manual_seed(seed)
    size = RES // pipe.vae_scale_factor
    sample = torch.randn(1, 4, size, size, generator=g)
    dim = pipe.unet.config.cross_attention_dim
    enc = torch.randn(1, 77, dim, generator=g)
    pooled = torch.randn(1, pipe.text_encoder_2.config.projection_dim, generator=g)
    time_ids = torch.tensor([[RES, RES, 0, 0, RES, RES]], dtype=torch.float32)
    return sample, torch.tensor([500]), enc, {"text_embeds": pooled, "time_ids": time_ids}


def unet_output(pipe, seed: int = 0):
    """The UNet's prediction on unet_inputs()."""
    import torch

    sample, t, enc, added = unet_inputs(pipe, seed)
    with torch.no_grad():
        return pipe.unet(sample, t, enc, added_cond_kwargs=added).sample


def fresh_pipe(model_cache: Path):
    """The tiny base pipeline loaded from disk, with no adapters."""
    from app.trainer import base_models

    return base_models.load_pipeline(base_models.resolve(None, model_cache))


def write_photos(folder: Path, size: int = 256) -> Path:
    """A folder of four real photos (JPEG) for `loraface train`."""
    write_face_set(folder, size=size)
    return folder
