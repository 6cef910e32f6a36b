"""Every key of our FLUX.1 LoRA files, diffusers format (attention only and with MLPs) and kohya
format, lands on a weight of the right shape of the full-size FLUX.1 transformer under the
rules ComfyUI uses to read FLUX LoRAs (Forge's FLUX LoRA reading copies the same tables and adds
aliases only, so one check covers both). Our own statement of those rules:

- ComfyUI holds FLUX.1 in the original (Black Forest Labs) layout: double blocks with fused
  `img_attn.qkv` / `txt_attn.qkv`, single blocks with `linear1` (q, k, v and the MLP input fused)
  and `linear2`.
- A kohya name is `lora_unet_` + an original weight's name without `.weight`, dots as
  underscores, and patches the whole weight.
- A diffusers name is `transformer.` + a diffusers module; it patches the whole original weight
  it was renamed from, or for q, k, v (and the single blocks' MLP input) a block of rows of the
  fused weight: q rows [0, h), k [h, 2h), v [2h, 3h), the MLP input [3h, 7h) of linear1.
- A module's tensors are `.lora_up.weight` / `.lora_down.weight` (+ `.alpha`) or
  `.lora_B.weight` / `.lora_A.weight`; up @ down must have the shape of what it patches, and a
  key that no module consumes is reported as not loaded."""

import pytest

from app.trainer.flux import export as flux_export
from app.trainer.flux.kohya import to_kohya
from app.trainer.flux.lora import FLUX_ATTENTION, FLUX_MLP, target_names

TENSOR_NAMES = ((".lora_up.weight", ".lora_down.weight"), (".lora_B.weight", ".lora_A.weight"))


def original_weights(transformer) -> dict[str, tuple[int, int]]:
    """(out, in) of every block linear of FLUX.1 in the original layout, from the config alone."""
    c = transformer.config
    h = c.num_attention_heads * c.attention_head_dim
    mlp = 4 * h  # FLUX.1's MLP ratio
    shapes = {}
    for i in range(c.num_layers):
        for stream in ("img", "txt"):
            block = f"double_blocks.{i}.{stream}"
            shapes |= {
                f"{block}_attn.qkv": (3 * h, h),
                f"{block}_attn.proj": (h, h),
                f"{block}_mlp.0": (mlp, h),
                f"{block}_mlp.2": (h, mlp),
                f"{block}_mod.lin": (6 * h, h),
            }
    for i in range(c.num_single_layers):
        block = f"single_blocks.{i}"
        shapes |= {f"{block}.linear1": (3 * h + mlp, h), f"{block}.linear2": (h, h + mlp)}
        shapes[f"{block}.modulation.lin"] = (3 * h, h)
    return shapes


def comfy_targets(transformer) -> dict[str, tuple[str, int, int]]:
    """LoRA module name -> (original weight, first row, rows) it patches, as ComfyUI reads names."""
    c = transformer.config
    h = c.num_attention_heads * c.attention_head_dim
    weights = original_weights(transformer)
    targets = {}
    for name, (rows, _) in weights.items():  # kohya: the original names, underscored
        targets["lora_unet_" + name.replace(".", "_")] = (name, 0, rows)
    for i in range(c.num_layers):
        d, o = f"transformer.transformer_blocks.{i}", f"double_blocks.{i}"
        for part, offset in (("q", 0), ("k", h), ("v", 2 * h)):
            targets[f"{d}.attn.to_{part}"] = (f"{o}.img_attn.qkv", offset, h)
            targets[f"{d}.attn.add_{part}_proj"] = (f"{o}.txt_attn.qkv", offset, h)
        renamed = {
            "attn.to_out.0": "img_attn.proj",
            "attn.to_add_out": "txt_attn.proj",
            "ff.net.0.proj": "img_mlp.0",
            "ff.net.2": "img_mlp.2",
            "ff_context.net.0.proj": "txt_mlp.0",
            "ff_context.net.2": "txt_mlp.2",
        }
        for ours, theirs in renamed.items():
            targets[f"{d}.{ours}"] = (f"{o}.{theirs}", 0, weights[f"{o}.{theirs}"][0])
    for i in range(c.num_single_layers):
        d, o = f"transformer.single_transformer_blocks.{i}", f"single_blocks.{i}"
        for part, offset in (("q", 0), ("k", h), ("v", 2 * h)):
            targets[f"{d}.attn.to_{part}"] = (f"{o}.linear1", offset, h)
        targets[f"{d}.proj_mlp"] = (f"{o}.linear1", 3 * h, 4 * h)
        targets[f"{d}.proj_out"] = (f"{o}.linear2", 0, h)
    return targets


def comfy_problems(state: dict, transformer) -> list[str]:
    """Keys of a LoRA state dict ComfyUI would not load onto `transformer`, or would load onto
    a weight whose shape the update does not fit; empty when every key lands."""
    weights, targets = original_weights(transformer), comfy_targets(transformer)
    consumed, problems = set(), []
    for module, (weight, first, rows) in targets.items():
        for up_suffix, down_suffix in TENSOR_NAMES:
            up, down = state.get(module + up_suffix), state.get(module + down_suffix)
            if up is None or down is None:
                continue
            consumed |= {module + up_suffix, module + down_suffix, module + ".alpha"}
            out_rows, cols = weights[weight]
            if first + rows > out_rows or tuple(up.shape) != (rows, down.shape[0]) or down.shape[1] != cols:
                problems.append(f"{module}: {tuple(up.shape)} @ {tuple(down.shape)} does not fit {weight}")
    problems += [f"{key}: not loaded" for key in state if key not in consumed]
    return sorted(problems)


@pytest.fixture(scope="module")
def full_size():
    return flux_export.full_size_transformer("flux-dev")


@pytest.mark.parametrize(("targets", "count"), [(FLUX_ATTENTION, 532), (FLUX_ATTENTION + FLUX_MLP, 836)])
def test_every_key_of_our_diffusers_file_lands_in_comfyui_and_forge(full_size, targets, count):
    state = flux_export.full_size_adapter_keys(full_size, targets)
    assert len(state) == count
    assert comfy_problems(state, full_size) == []


@pytest.mark.parametrize("targets", [FLUX_ATTENTION, FLUX_ATTENTION + FLUX_MLP])
def test_every_key_of_our_kohya_file_lands_in_comfyui_and_forge(full_size, targets):
    import torch

    modules = dict(full_size.named_modules())
    peft_state = {}
    for name in target_names(full_size, targets):
        peft_state[f"{name}.lora_A.weight"] = torch.zeros(1, modules[name].in_features)
        peft_state[f"{name}.lora_B.weight"] = torch.zeros(modules[name].out_features, 1)
    kohya = to_kohya(peft_state, full_size, rank=1, alpha=1.0)
    mlp = targets != FLUX_ATTENTION
    # double blocks: qkv + proj per stream (+ 2 MLP linears each); single: linear1 (+ linear2)
    groups = 19 * (8 if mlp else 4) + 38 * (2 if mlp else 1)
    assert len(kohya) == 3 * groups  # down, up and alpha per fused module
    assert comfy_problems(kohya, full_size) == []


def test_the_check_reports_a_misshapen_or_unknown_key(full_size):
    import torch

    bad = {
        "transformer.transformer_blocks.0.attn.to_q.lora_A.weight": torch.empty(4, 77, device="meta"),
        "transformer.transformer_blocks.0.attn.to_q.lora_B.weight": torch.empty(3072, 4, device="meta"),
        "lora_unet_double_blocks_0_img_attn_qkvv.lora_up.weight": torch.empty(9216, 4, device="meta"),
    }
    problems = comfy_problems(bad, full_size)
    assert len(problems) == 2 and "qkvv.lora_up.weight: not loaded" in problems[0]
    assert "to_q: (3072, 4) @ (4, 77) does not fit double_blocks.0.img_attn.qkv" in problems[1]
