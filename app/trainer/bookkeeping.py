"""The step bookkeeping both training loops share (app/trainer/loop.py for UNets, flux/loop.py
for FLUX.1): resume from the last checkpoint, cancel, the progress report and the stop on a
non-finite loss, and the end-of-epoch checkpoint and hand-over. The loops differ only in what
one step computes."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.trainer import checkpoints
from app.trainer.config import TrainConfig
from app.trainer.errors import NonFiniteLoss, TrainingCancelled


@dataclass(frozen=True)
class TrainProgress:
    step: int  # optimizer steps done
    total_steps: int
    epoch: int  # the epoch this step belongs to (1-based)
    total_epochs: int
    loss: float  # this step's loss
    lr: float  # this step's learning rate
    images_per_second: float  # over the current epoch
    eta_seconds: float
    phase: str = "training"  # or "prior images": class images being made (step counts images, loss is nan)
    message: str = ""  # a line for the learner about the phase, e.g. "class image 2/4 (1.3 s)"


class StepBook:
    """The run's step count, losses and epoch timing around one loop's steps."""

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        out_dir: Path,
        models: dict,
        optimizer,
        plan: tuple[int, int, int],  # (steps per epoch, total steps, total epochs)
        on_progress: Callable[[TrainProgress], None],
        on_epoch_end: Callable[[int, int, float], None],
        should_cancel: Callable[[], bool],
        before_write: Callable[[], None],
        ema=None,
    ):
        self.cfg, self.models, self.optimizer, self.ema = cfg, models, optimizer, ema
        self.folder = checkpoints.checkpoint_dir(out_dir)
        self.per_epoch, self.steps_total, self.epochs_total = plan
        self.on_progress, self.on_epoch_end = on_progress, on_epoch_end
        self.should_cancel, self.before_write = should_cancel, before_write
        self.start_step, self.losses = 0, []
        self.epoch_start, self.epoch_images = time.perf_counter(), 0

    def resume(self, enabled: bool) -> int:
        """Load the last checkpoint when resuming and there is one; returns the step to start at."""
        if enabled and (self.folder / "state.pt").exists():
            self.start_step, self.losses = checkpoints.load(
                self.folder, self.models, self.optimizer, self.cfg, self.ema
            )
        return self.start_step

    def begin(self) -> None:
        """Redo the hand-over of an epoch whose checkpoint was written but whose files were not
        (a crash between the two), then put the models in training mode and start the clock."""
        if self.start_step and not (self.folder / checkpoints.EPOCH_DONE).exists():
            self.finish_epoch(self.start_step)
        self._train_mode(True)
        self.epoch_start, self.epoch_images = time.perf_counter(), 0

    def check_cancel(self) -> None:
        """Raise TrainingCancelled when the run was asked to stop."""
        if self.should_cancel():
            raise TrainingCancelled()

    def record(self, step: int, epoch: int, lr: float, loss: float) -> None:
        """Keep step `step`'s loss (0-based) and report progress; a non-finite loss stops the run."""
        if not math.isfinite(loss):
            raise NonFiniteLoss(
                f"the loss became {loss} at step {step + 1}: lower the learning rate (now {self.cfg.learning_rate:g})"
            )
        self.losses.append(loss)
        elapsed = time.perf_counter() - self.epoch_start
        ips = self.epoch_images / elapsed if elapsed > 0 else 0.0
        self.on_progress(
            TrainProgress(
                step=step + 1,
                total_steps=self.steps_total,
                epoch=epoch + 1,
                total_epochs=self.epochs_total,
                loss=loss,
                lr=lr,
                images_per_second=ips,
                eta_seconds=(self.steps_total - step - 1) * self.cfg.batch_size / ips if ips else 0.0,
            )
        )

    def ends_epoch(self, step: int, pos: int) -> bool:
        """Whether step `step` (0-based, at position `pos` in its epoch) is its epoch's last."""
        return pos == self.per_epoch - 1 or step == self.steps_total - 1

    def end_epoch(self, steps_done: int) -> None:
        """Checkpoint, hand the epoch over and restart the epoch's clock."""
        self.before_write()
        checkpoints.save(
            self.folder, self.models, self.optimizer, steps_done, self.losses, self.cfg, self.ema
        )
        self.finish_epoch(steps_done)
        self.epoch_start, self.epoch_images = time.perf_counter(), 0

    def finish_epoch(self, step: int) -> None:
        """Hand the finished epoch to on_epoch_end (export, samples), then mark it done in the
        checkpoint. A crash between the two redoes only the hand-over on resume, from the same
        weights, so no epoch is ever skipped."""
        epoch, pos = divmod(step - 1, self.per_epoch)
        epoch_losses = self.losses[step - pos - 1 : step]
        mean = sum(epoch_losses) / len(epoch_losses)
        self._train_mode(False)
        if self.ema is None:
            self.on_epoch_end(epoch + 1, step, mean)
        else:
            with self.ema.applied():  # the epoch's files and samples hold the averaged weights
                self.on_epoch_end(epoch + 1, step, mean)
        self._train_mode(True)
        (self.folder / checkpoints.EPOCH_DONE).touch()

    def _train_mode(self, on: bool) -> None:
        for model in self.models.values():
            model.train(on)
