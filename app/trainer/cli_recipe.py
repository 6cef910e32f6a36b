"""The face-recipe options of `loraface train` (buckets, masked loss, prior preservation, EMA,
optimizer, network type) and --preset: one decorator for the flags, one function from flags to
TrainConfig fields, one that fills in the preset under the flags given."""

import dataclasses

import click
from click.core import ParameterSource

from app.trainer import presets
from app.trainer.config import BASE_PRECISIONS, MASKS, NETWORKS, OPTIMIZERS, TrainConfig

CLI_NAMES = {"steps": "max_steps"}  # flags whose TrainConfig field is named otherwise

RECIPE_OPTIONS = [
    click.option(
        "--preset",
        type=click.Choice(list(presets.PRESETS)),
        default=None,
        help="start from settings for a GPU's memory; the flags you give override it",
    ),
    click.option(
        "--buckets/--no-buckets",
        "buckets",
        default=None,
        help="aspect-ratio buckets: crops keep the photo's shape [default: on for SDXL]",
    ),
    click.option(
        "--mask",
        type=click.Choice(MASKS),
        default="off",
        show_default=True,
        help="weight the loss by a face or head mask",
    ),
    click.option(
        "--mask-background-weight",
        "mask_background_weight",
        type=float,
        default=0.1,
        show_default=True,
        help="loss weight outside the mask (0: the background teaches nothing)",
    ),
    click.option(
        "--prior-images",
        "prior_images",
        type=int,
        default=0,
        show_default=True,
        help='prior preservation: class images ("photo of a <class word>") made by the base first, cached',
    ),
    click.option("--prior-loss-weight", "prior_loss_weight", type=float, default=1.0, show_default=True),
    click.option(
        "--ema-decay",
        "ema_decay",
        type=float,
        default=0.0,
        show_default=True,
        help="EMA of the adapter weights (0: off)",
    ),
    click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adamw", show_default=True),
    click.option("--network", type=click.Choice(NETWORKS), default="lora", show_default=True),
    click.option(
        "--base-precision",
        "base_precision",
        type=click.Choice(BASE_PRECISIONS),
        default="bf16",
        show_default=True,
        help="how the frozen base is stored: bf16 (fp32 on CPU) or fp8 (half the weights' memory, for 24 GB cards)",
    ),
]


def recipe_options(command):
    """Add the recipe flags to a click command."""
    for option in reversed(RECIPE_OPTIONS):
        command = option(command)
    return command


def recipe_fields(recipe: dict, family: str) -> dict:
    """TrainConfig fields from the flags; buckets default to on for SDXL (SD 1.5 trains squares)."""
    fields = dict(recipe)
    if fields.get("buckets") is None:
        fields["buckets"] = family == "sdxl"
    return fields


def with_preset(cfg: TrainConfig, family: str) -> TrainConfig:
    """cfg with its preset's values wherever no flag was given on the command line (or its env var)."""
    ctx = click.get_current_context()
    given = {
        CLI_NAMES.get(name, name)
        for name in ctx.params
        if ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    }
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    return presets.apply(cfg, given & fields, family)
