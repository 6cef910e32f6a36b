"""Where a user's files live under the data directory. Every folder the app writes for a user
is under users/<id>/, so erasing the account erases them; everyone asks this module."""

from pathlib import Path


def user_dir(data_dir: Path, user_id: int) -> Path:
    """Everything stored for one user."""
    return data_dir / "users" / str(user_id)


def job_dir(data_dir: Path, user_id: int, job_id: int) -> Path:
    """Where everything a training job writes lives (checkpoints, epochs, samples, inputs)."""
    return user_dir(data_dir, user_id) / "jobs" / str(job_id)


def job_inputs_dir(data_dir: Path, user_id: int, job_id: int) -> Path:
    """The job's training crops resized to its resolution (what the trainer saw)."""
    return job_dir(data_dir, user_id, job_id) / "inputs"
