"""The checkpoint a crashed or cancelled run resumes from: adapter weights, optimizer state,
the step and the losses, swapped in atomically."""

import json
import shutil
from pathlib import Path

from app.trainer import faults
from app.trainer.config import TrainConfig
from app.trainer.errors import TrainingError

EPOCH_DONE = "epoch_done"  # in the checkpoint folder once on_epoch_end has finished for it


def checkpoint_dir(out_dir: Path) -> Path:
    """Where the loop keeps the checkpoint a crashed or cancelled run resumes from."""
    return out_dir / "checkpoints" / "last"


def save(
    folder: Path, models: dict, optimizer, step: int, losses: list[float], cfg: TrainConfig, ema=None
) -> None:
    """Adapter weights, optimizer state (and the EMA average), the step, written beside the last
    checkpoint and then swapped in: a crash while saving leaves the previous checkpoint intact."""
    import torch
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, model in models.items():
        state = {
            k: v.detach().to("cpu", torch.float32).contiguous()
            for k, v in get_peft_model_state_dict(model).items()
        }
        save_file(state, tmp / f"{name}.safetensors")
    state = {"optimizer": optimizer.state_dict(), "step": step, "losses": losses}
    if ema is not None:
        state["ema"] = ema.state_dict()
    torch.save(state, tmp / "state.pt")
    (tmp / "train_config.json").write_text(cfg.to_json())
    faults.reach("saving_checkpoint")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def load(folder: Path, models: dict, optimizer, cfg: TrainConfig, ema=None) -> tuple[int, list[float]]:
    """Restore a checkpoint into the models, the optimizer (and the EMA); returns (step, losses)."""
    import torch
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    saved = TrainConfig.from_dict(json.loads((folder / "train_config.json").read_text()))
    if saved != cfg:
        raise TrainingError(
            "the output folder holds a checkpoint of a run with other settings: use a new folder"
        )
    for name, model in models.items():
        set_peft_model_state_dict(model, load_file(folder / f"{name}.safetensors"))
        for p in model.parameters():
            if p.requires_grad:
                p.data = p.data.to(torch.float32)
    state = torch.load(folder / "state.pt", map_location="cpu", weights_only=False)
    optimizer.load_state_dict(state["optimizer"])
    if ema is not None:
        ema.load_state_dict(state["ema"])
    return state["step"], state["losses"]
