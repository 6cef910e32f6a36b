"""Where a user's files live in the data directory. Everything stored for a user sits under
users/<id>/, so erasing the account is one folder; every caller asks this module.

Folders stored in rows (a sweep's, a submission's) are relative to the data directory, so the
directory can move; the others are absolute."""

from pathlib import Path


def user_folder(user_id: int) -> Path:
    """users/<id>, relative to the data directory."""
    return Path("users") / str(user_id)


def user_dir(data_dir: Path, user_id: int) -> Path:
    """Everything stored for one user."""
    return Path(data_dir) / user_folder(user_id)


def datasets_folder(user_id: int) -> Path:
    """A user's dataset photos, crops and thumbnails, relative to the data directory."""
    return user_folder(user_id) / "datasets"


def datasets_dir(data_dir: Path, user_id: int) -> Path:
    """A user's dataset photos, crops and thumbnails."""
    return Path(data_dir) / datasets_folder(user_id)


def job_dir(data_dir: Path, user_id: int, job_id: int) -> Path:
    """Where everything a training job writes lives (checkpoints, epochs, samples, inputs)."""
    return user_dir(data_dir, user_id) / "jobs" / str(job_id)


def job_inputs_dir(data_dir: Path, user_id: int, job_id: int) -> Path:
    """The job's training crops resized to its resolution (what the trainer saw)."""
    return job_dir(data_dir, user_id, job_id) / "inputs"


def model_folder(user_id: int, model_id: int) -> Path:
    """A model's generations and sweeps, relative to the data directory."""
    return user_folder(user_id) / "evaluate" / f"model-{model_id}"


def sweep_folder(user_id: int, model_id: int, sweep_id: int) -> Path:
    """One sweep's images, grid and sweep.json, relative to the data directory."""
    return model_folder(user_id, model_id) / f"row-{sweep_id}"


def submission_folder(user_id: int, submission_id: int) -> Path:
    """A review submission's frozen evidence, relative to the data directory."""
    return user_folder(user_id) / "review" / f"submission-{submission_id}"


def post_dir(data_dir: Path, author_id: int, post_id: int) -> Path:
    """A community post's pictures."""
    return user_dir(data_dir, author_id) / "community" / f"post-{post_id}"
