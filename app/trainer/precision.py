"""How the frozen base model's weights are stored while a LoRA trains on it.

"bf16" keeps today's behaviour: bf16 weights on a GPU, exact float32 on the CPU. "fp8" stores
the base's linear and convolution weights in torch.float8_e4m3fn (one byte each, half of bf16)
and upcasts each layer to the compute dtype only for its own forward, with diffusers'
ModelMixin.enable_layerwise_casting. It is applied before the LoRA adapters are injected, so
the adapters (added afterwards, in float32) are never cast and are what trains. Norms, the
AdaLN modulation (FLUX's norm*.linear), embedders and the first/last projections stay in full
precision: they are small and their rounding shows up most in the output."""

from app.trainer.config import BASE_PRECISIONS
from app.trainer.errors import TrainingError

# Modules kept out of fp8: diffusers' own defaults (positional/patch embeddings, norms, the top
# proj_in/proj_out) plus the timestep/text/patch embedders and the UNet's first and last convs.
KEEP_FULL_PRECISION = (
    "pos_embed",
    "patch_embed",
    "norm",
    "embed",
    "^proj_in$",
    "^proj_out$",
    "^conv_in$",
    "^conv_out$",
)


def compute_dtype(device):
    """The dtype a stored-fp8 layer computes in: bf16 on a GPU (the loop runs under bf16
    autocast there), float32 on the CPU, where the loop has no autocast and every other layer
    and activation is float32 (a bf16 weight would meet float32 inputs and fail)."""
    import torch

    return torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32


def place_base(model, precision: str, device) -> None:
    """Move the frozen `model` to `device` stored as `precision` asks, before any adapter is added:
    bf16 on a GPU / float32 on the CPU, or fp8. For fp8 the cast happens before the move, so the
    full-precision weights never reach the GPU (FLUX.1's 24 GB in bf16 would not fit a 24 GB card).
    Raises TrainingError for fp8 on a device other than CUDA or the CPU."""
    import torch

    if precision not in BASE_PRECISIONS:
        raise TrainingError(f"unknown base precision {precision!r}: use {', '.join(BASE_PRECISIONS)}")
    kind = torch.device(device).type
    dtype = torch.bfloat16 if kind == "cuda" else torch.float32
    if precision != "fp8":
        model.to(device, dtype=dtype)
        return
    if kind not in ("cuda", "cpu"):
        raise TrainingError(
            f"an fp8 base needs a CUDA GPU or the CPU (not {kind}): use --base-precision bf16"
        )
    model.to(dtype=dtype)  # the skipped layers (norms, embedders) keep this dtype
    model.enable_layerwise_casting(
        storage_dtype=torch.float8_e4m3fn,
        compute_dtype=compute_dtype(device),
        skip_modules_pattern=KEEP_FULL_PRECISION,
        # A convolution's backward reads its weight tensor itself, which the cast back to fp8 after
        # the forward has replaced ("expected Float but found Float8"); a linear's reads the upcast
        # copy. So the UNet's convolutions keep the compute dtype; its linears are most of it.
        skip_modules_classes=(torch.nn.Conv2d,),
    )
    model.to(device)  # no dtype here: that would undo the fp8 storage


def effective(precision: str, device) -> str:
    """What the base's weights are stored in on `device`: "fp8", "bf16" (GPU) or "fp32" (CPU)."""
    import torch

    if precision == "fp8":
        return "fp8"
    return "bf16" if torch.device(device).type == "cuda" else "fp32"
