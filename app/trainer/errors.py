"""What can go wrong in a run, as exceptions whose message the learner can act on."""


class TrainingError(Exception):
    """A failure the learner can act on; the message is one line and says what to change."""


class BaseModelError(TrainingError):
    """The base model cannot be found or loaded."""


class OutOfMemory(TrainingError):
    """The GPU ran out of memory; the message says what to lower."""


class NonFiniteLoss(TrainingError):
    """The loss became NaN or infinite."""


class TrainingCancelled(Exception):
    """The caller asked to stop (the last epoch's checkpoint is kept for a resume)."""
