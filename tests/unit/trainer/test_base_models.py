"""Finding the base model: family detection from file headers, clear errors, shipped tokenizers."""

import json

import pytest

from app.trainer import base_models
from app.trainer.configs import CONFIGS
from app.trainer.errors import BaseModelError, TrainingError


def _safetensors(path, names):
    import torch
    from safetensors.torch import save_file

    save_file({n: torch.zeros(1) for n in names}, str(path))
    return path


def test_missing_path_and_wrong_files_are_one_line_errors(tmp_path):
    with pytest.raises(BaseModelError, match="not found"):
        base_models.resolve(tmp_path / "nope.safetensors", tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(BaseModelError, match="not a model"):
        base_models.resolve(text, tmp_path)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\xff" * 64)
    with pytest.raises(BaseModelError, match="not a model"):
        base_models.resolve(junk, tmp_path)
    assert issubclass(BaseModelError, TrainingError)


def test_family_comes_from_the_tensor_names(tmp_path):
    sdxl = _safetensors(
        tmp_path / "xl.safetensors",
        ["conditioner.embedders.1.model.ln_final.weight", "model.diffusion_model.out.0.weight"],
    )
    sd15 = _safetensors(
        tmp_path / "v15.safetensors", ["cond_stage_model.transformer.text_model.final_layer_norm.weight"]
    )
    assert base_models.resolve(sdxl, tmp_path).family == "sdxl"
    assert base_models.resolve(sd15, tmp_path).single_file
    assert base_models.resolve(sd15, tmp_path).family == "sd15"
    lora = _safetensors(tmp_path / "face.safetensors", ["lora_unet_input_blocks_4_1_proj_in.alpha"])
    with pytest.raises(BaseModelError, match="LoRA"):
        base_models.resolve(lora, tmp_path)
    other = _safetensors(tmp_path / "other.safetensors", ["model.diffusion_model.x.weight"])
    with pytest.raises(BaseModelError, match="SDXL, SD 1.5 and FLUX.1 only"):
        base_models.resolve(other, tmp_path)


def test_folders_are_read_from_model_index(tmp_path):
    with pytest.raises(BaseModelError, match="model_index.json"):
        base_models.resolve(tmp_path, tmp_path)
    (tmp_path / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusionXLPipeline", "unet": [], "text_encoder": []})
    )
    assert base_models.resolve(tmp_path, tmp_path).family == "sdxl"
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "FluxPipeline", "transformer": []}))
    with pytest.raises(BaseModelError, match="incomplete FLUX.1 folder: no transformer/"):
        base_models.resolve(tmp_path, tmp_path)
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusion3Pipeline"}))
    with pytest.raises(BaseModelError, match="StableDiffusion3Pipeline"):
        base_models.resolve(tmp_path, tmp_path)


def test_shipped_configs_make_complete_offline_folders():
    for family, parts in {
        "sdxl": ["tokenizer", "tokenizer_2", "text_encoder_2"],
        "sd15": ["tokenizer"],
    }.items():
        index = json.loads((CONFIGS / family / "model_index.json").read_text())
        for part in ["unet", "vae", "text_encoder", "scheduler", *parts]:
            assert part in index and (CONFIGS / family / part).is_dir()
    unet = json.loads((CONFIGS / "sdxl" / "unet" / "config.json").read_text())
    assert unet["cross_attention_dim"] == 2048 and unet["projection_class_embeddings_input_dim"] == 2816


def test_shipped_tokenizers_speak_clip():
    from transformers import CLIPTokenizer

    first = CLIPTokenizer.from_pretrained(CONFIGS / "sdxl" / "tokenizer")
    second = CLIPTokenizer.from_pretrained(CONFIGS / "sdxl" / "tokenizer_2")
    ids = first("a photo of", padding="max_length", max_length=first.model_max_length).input_ids
    # CLIP's ids: <start> a photo of <end>, then padding with <end> (first) or "!" (second)
    assert first.model_max_length == 77 and len(ids) == 77
    assert ids[:5] == [49406, 320, 1125, 539, 49407] and ids[5] == 49407
    assert second("a photo of", padding="max_length", max_length=77).input_ids[5] == 0
    assert len(first) == 49408
