"""The kohya FLUX.1 file of a training run: written when the base is the full-size FLUX.1
transformer and checked before it is kept, by reading it back through diffusers' own kohya FLUX
reader and comparing every module's update with the trained adapter's.

diffusers' reader only knows the full-size layout (19 double + 38 single blocks of width 3072),
so the tiny demo base and other sizes get the diffusers file only, with the reason said."""

from pathlib import Path

from app.trainer.errors import TrainingError
from app.trainer.flux.kohya import to_kohya

FULL_SIZE = (19, 38, 3072)  # FLUX.1 dev and schnell: double blocks, single blocks, width
TOLERANCE = 1e-4  # relative, on the update applied to probe vectors (float32 rounding only)


def kohya_note(transformer, network: str = "lora") -> str | None:
    """None when a kohya file is written for this transformer and network, else why not."""
    c = transformer.config
    size = (c.num_layers, c.num_single_layers, c.num_attention_heads * c.attention_head_dim)
    if size != FULL_SIZE:
        return (
            f"no kohya file: this FLUX.1 transformer has {size[0]} double and {size[1]} single blocks of "
            f"width {size[2]}; the kohya FLUX layout is read (by diffusers and the webuis) for the full-size "
            "FLUX.1 only (19 + 38 blocks of width 3072): use the diffusers file"
        )
    if network != "lora":
        return f"no kohya file: the kohya FLUX layout fuses plain LoRA adapters only, not {network}"
    return None


def kohya_mismatch(kohya: dict, peft_state: dict, transformer, *, rank: int, alpha: float) -> str | None:
    """Read `kohya` back through diffusers' kohya FLUX reader and compare each module's update
    (applied to random probe vectors) with the peft adapter's (alpha / rank) * B @ A; modules the
    file holds without a trained adapter (zeros fused into a group) must add nothing. None when
    everything agrees, else the first disagreement in words."""
    import torch
    from diffusers import FluxPipeline

    converted = FluxPipeline.lora_state_dict({k: v.float() for k, v in kohya.items()})
    converted = converted[0] if isinstance(converted, tuple) else converted
    scale = alpha / rank
    g = torch.Generator().manual_seed(0)
    modules = {
        k.removeprefix("transformer.").removesuffix(".lora_A.weight")
        for k in converted
        if k.endswith(".lora_A.weight")
    }
    trained = {k.removesuffix(".lora_A.weight") for k in peft_state if k.endswith(".lora_A.weight")}
    if trained - modules:
        return f"the kohya file lost the adapter of {sorted(trained - modules)[0]}"
    for name in sorted(modules):
        a2 = converted[f"transformer.{name}.lora_A.weight"].float()
        b2 = converted[f"transformer.{name}.lora_B.weight"].float()
        probes = torch.randn(a2.shape[1], 4, generator=g)
        read = b2 @ (a2 @ probes)
        if name in trained:
            a, b = peft_state[f"{name}.lora_A.weight"].float(), peft_state[f"{name}.lora_B.weight"].float()
            want = scale * (b @ (a @ probes))
        else:
            want = torch.zeros_like(read)
        error = (read - want).abs().max().item()
        if error > TOLERANCE * (want.abs().max().item() + 1e-6):
            return f"{name} reads back differently from the trained adapter (max error {error:.2g})"
    return None


def write_kohya(
    peft_state: dict, transformer, path: Path, *, rank: int, alpha: float, metadata: dict
) -> Path:
    """The kohya FLUX.1 file of a trained adapter (`peft_state`: peft's lora_A/lora_B keys of
    `transformer`, no prefix) at `path`, written only after it reads back exactly; raises
    TrainingError when it does not."""
    from safetensors.torch import save_file

    peft_state = {k: v.detach().float().cpu() for k, v in peft_state.items()}
    tensors = to_kohya(peft_state, transformer, rank=rank, alpha=alpha)
    problem = kohya_mismatch(tensors, peft_state, transformer, rank=rank, alpha=alpha)
    if problem:
        raise TrainingError(f"the kohya FLUX.1 file does not match the trained LoRA: {problem}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    tmp.replace(path)  # atomic: a reader never sees half a file
    return path
