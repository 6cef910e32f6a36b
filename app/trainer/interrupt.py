"""A cancel check every long phase can reach without a new argument on each function.

The worker (or a sweep runner) wraps a run in `watch(should_cancel, TrainingCancelled)`; image
preparation, latent encoding and every denoising step of a sample call `check()`, which raises
the given exception as soon as the caller asked to stop. Outside a `watch`, `check()` does nothing,
so `loraface train` and the tests call the same functions unchanged.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_local = threading.local()  # one watch per thread: the worker thread and a sweep thread never mix


@contextmanager
def watch(should_cancel: Callable[[], bool], error: type[BaseException]) -> Iterator[None]:
    """Within this block, check() raises `error()` once should_cancel() is true."""
    previous = getattr(_local, "watch", None)
    _local.watch = (should_cancel, error)
    try:
        yield
    finally:
        _local.watch = previous


def check() -> None:
    """Raise the watched error when the current run was asked to stop."""
    current = getattr(_local, "watch", None)
    if current is not None and current[0]():
        raise current[1]()


def on_denoising_step(pipe, step: int, timestep, callback_kwargs: dict) -> dict:
    """diffusers' callback_on_step_end: stop a sample between two denoising steps."""
    check()
    return callback_kwargs
