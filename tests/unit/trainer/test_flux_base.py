"""FLUX.1 bases: the shipped configs, recognising a folder or a transformer file with one-line
errors for each missing part, the demo T5 tokenizer and the flow-matching noise levels."""

import json

import pytest

from app.trainer import base_models
from app.trainer.errors import BaseModelError
from app.trainer.flux import configs as flux_configs
from app.trainer.flux import loop as flux_loop
from app.trainer.flux.base import PARTS

BFL_KEYS = [
    "model.diffusion_model.double_blocks.0.img_attn.qkv.weight",
    "model.diffusion_model.single_blocks.0.linear1.weight",
]


def _safetensors(path, names):
    import torch
    from safetensors.torch import save_file

    save_file({n: torch.zeros(1) for n in names}, str(path))
    return path


def _parts(folder, skip=()):
    for name, _ in PARTS:
        if name not in skip:
            (folder / name).mkdir(parents=True)
            (folder / name / "config.json").write_text("{}")


def test_shipped_configs_are_the_generators_and_the_published_numbers():
    for variant in flux_configs.VARIANTS:
        for rel, data in flux_configs.files(variant).items():
            assert json.loads((flux_configs.CONFIGS / variant / rel).read_text()) == data, rel
    dev = flux_configs.files("flux-dev")
    t = dev["transformer/config.json"]
    assert (t["num_layers"], t["num_single_layers"], t["num_attention_heads"], t["attention_head_dim"]) == (
        19,
        38,
        24,
        128,
    )
    assert (
        t["guidance_embeds"]
        and not flux_configs.files("flux-schnell")["transformer/config.json"]["guidance_embeds"]
    )
    assert dev["vae/config.json"]["latent_channels"] == 16
    assert dev["text_encoder_2/config.json"]["d_model"] == 4096
    assert dev["scheduler/scheduler_config.json"]["_class_name"] == "FlowMatchEulerDiscreteScheduler"


def test_a_transformer_file_without_its_text_encoders_is_a_one_line_error(tmp_path):
    file = _safetensors(tmp_path / "flux1-dev.safetensors", BFL_KEYS + ["guidance_in.in_layer.weight"])
    with pytest.raises(BaseModelError, match="without its text encoders") as err:
        base_models.resolve(file, tmp_path)
    assert "text_encoder/" in str(err.value) and "\n" not in str(err.value)
    _parts(tmp_path, skip=("text_encoder_2",))
    with pytest.raises(BaseModelError, match="T5-XXL"):
        base_models.resolve(file, tmp_path)
    (tmp_path / "text_encoder_2").mkdir()
    (tmp_path / "text_encoder_2" / "config.json").write_text("{}")
    model = base_models.resolve(file, tmp_path)
    assert (model.family, model.single_file, model.default_resolution) == ("flux", True, 1024)


def test_variants_and_other_families_from_tensor_names(tmp_path):
    from app.trainer.flux.base import is_flux_transformer, variant_of_transformer

    assert (
        variant_of_transformer(BFL_KEYS + ["model.diffusion_model.guidance_in.in_layer.weight"]) == "flux-dev"
    )
    assert variant_of_transformer(BFL_KEYS) == "flux-schnell"
    diffusers_keys = [
        "transformer_blocks.0.attn.add_q_proj.weight",
        "single_transformer_blocks.0.proj_mlp.weight",
    ]
    assert is_flux_transformer(diffusers_keys)
    assert not is_flux_transformer(BFL_KEYS + ["single_stream_modulation.lin.weight"])  # FLUX.2
    lora = _safetensors(
        tmp_path / "lora.safetensors", ["transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight"]
    )
    with pytest.raises(BaseModelError, match="is a LoRA"):
        base_models.resolve(lora, tmp_path)


def test_an_incomplete_flux_folder_names_the_missing_part(tmp_path):
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "FluxPipeline"}))
    (tmp_path / "transformer").mkdir()
    (tmp_path / "transformer" / "config.json").write_text("{}")
    _parts(tmp_path, skip=("vae",))
    with pytest.raises(BaseModelError, match="incomplete FLUX.1 folder: no vae/"):
        base_models.resolve(tmp_path, tmp_path)
    _parts(tmp_path / "x", skip=[n for n, _ in PARTS if n != "vae"])
    (tmp_path / "x" / "vae").rename(tmp_path / "vae")
    assert base_models.resolve(tmp_path, tmp_path).family == "flux"


def test_demo_t5_tokenizer_is_trained_on_the_lessons(tmp_path):
    from transformers import T5TokenizerFast

    from app.trainer.flux.tokenizer import build_t5_tokenizer

    tok = T5TokenizerFast.from_pretrained(build_t5_tokenizer(tmp_path / "tok"))
    ids = tok("a photo of the trigger word").input_ids
    assert ids[-1] == tok.eos_token_id == 1 and tok.pad_token_id == 0
    assert tok.unk_token_id not in ids  # lesson words are in the vocabulary
    assert tok.convert_ids_to_tokens(ids[:2]) == ["▁a", "▁photo"]


def test_noise_levels_shift_toward_noise_for_dev_and_large_images():
    import torch

    dev = flux_configs.files("flux-dev")["scheduler/scheduler_config.json"]
    schnell = flux_configs.files("flux-schnell")["scheduler/scheduler_config.json"]

    def mean_sigma(config, tokens):
        g = torch.Generator().manual_seed(0)
        sigmas = flux_loop.sample_sigmas(g, 4096, tokens, config, "cpu")
        assert 0 < sigmas.min() and sigmas.max() < 1
        return sigmas.mean().item()

    assert abs(mean_sigma(schnell, 4096) - 0.5) < 0.02  # logit-normal around the middle, no shift
    assert mean_sigma(dev, 256) < mean_sigma(dev, 4096)  # mu 0.5 at 256 tokens, 1.15 at 1024 px
