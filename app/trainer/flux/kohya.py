"""The kohya FLUX.1 format of a trained adapter, exact: kohya names the original (Black Forest
Labs) modules, which fuse q, k and v into one `qkv` linear (and, in the single blocks, q, k, v
and the MLP input into `linear1`). Separate adapters fuse without loss: the downs stack
(rank n*r) and the ups sit block-diagonally, so each part still sees only its own down; alpha is
multiplied by n to keep alpha / rank. Loaders split such a block-diagonal up back into the parts.

diffusers' kohya reader is written for the full-size transformer (19 + 38 blocks of width 3072),
so this format is for full-size FLUX.1; the demo base keeps the diffusers file only."""

# kohya name -> the diffusers modules it fuses, per double block i ({i} filled in)
DOUBLE = {
    "img_attn_qkv": ("attn.to_q", "attn.to_k", "attn.to_v"),
    "img_attn_proj": ("attn.to_out.0",),
    "txt_attn_qkv": ("attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj"),
    "txt_attn_proj": ("attn.to_add_out",),
    "img_mlp_0": ("ff.net.0.proj",),
    "img_mlp_2": ("ff.net.2",),
    "txt_mlp_0": ("ff_context.net.0.proj",),
    "txt_mlp_2": ("ff_context.net.2",),
}
SINGLE = {"linear1": ("attn.to_q", "attn.to_k", "attn.to_v", "proj_mlp"), "linear2": ("proj_out",)}


def _groups(transformer):
    """(kohya module name, [(diffusers module name, its Linear)]) for every fusable group."""
    modules = dict(transformer.named_modules())
    for i in range(len(transformer.transformer_blocks)):
        for kohya, parts in DOUBLE.items():
            names = [f"transformer_blocks.{i}.{p}" for p in parts]
            yield f"lora_unet_double_blocks_{i}_{kohya}", [(n, modules[n]) for n in names]
    for i in range(len(transformer.single_transformer_blocks)):
        for kohya, parts in SINGLE.items():
            names = [f"single_transformer_blocks.{i}.{p}" for p in parts]
            yield f"lora_unet_single_blocks_{i}_{kohya}", [(n, modules[n]) for n in names]


def to_kohya(peft_state: dict, transformer, *, rank: int, alpha: float) -> dict:
    """kohya tensors (`<name>.lora_down.weight`, `.lora_up.weight`, `.alpha`) from a peft state
    dict of `transformer` (keys `<module>.lora_A.weight` / `.lora_B.weight`, no prefix). A part
    without an adapter joins its group as zeros (it adds nothing); a group with none is left out."""
    import torch

    out = {}
    for kohya, parts in _groups(transformer):
        if not any(f"{name}.lora_A.weight" in peft_state for name, _ in parts):
            continue
        downs, ups = [], []
        for name, linear in parts:
            linear = getattr(linear, "base_layer", linear)
            downs.append(peft_state.get(f"{name}.lora_A.weight", torch.zeros(rank, linear.in_features)))
            ups.append(peft_state.get(f"{name}.lora_B.weight", torch.zeros(linear.out_features, rank)))
        out[f"{kohya}.lora_down.weight"] = torch.cat(downs).float().contiguous()
        out[f"{kohya}.lora_up.weight"] = torch.block_diag(*ups).float().contiguous()
        out[f"{kohya}.alpha"] = torch.tensor(float(alpha) * len(parts))  # alpha / rank stays alpha / r
    return out
