"""Named points in a training job's life where the fault harness freezes a worker to kill it.

With LORAFACE_FAULT_POINT=<name> (and optionally LORAFACE_FAULT_HIT=<n>, the n-th time the point
is reached), a worker that gets there writes the point's name into the file named by
LORAFACE_FAULT_MARKER and waits; the harness (benchmarks/faults.py, tests/faults) then kills it
with SIGKILL at exactly that moment. In normal runs nothing is set and reach() is one
comparison. This is how the fault suite proves that a crash anywhere loses and repeats nothing.
"""

import os
import threading
import time
from pathlib import Path

POINTS = (
    "claimed",  # the job row says running, nothing else has happened
    "preparing_images",  # half of the job's crops copied to its folder
    "base_model_loaded",  # the pipeline is in memory, nothing encoded yet
    "caching_latents",  # some photos encoded to latents, not all
    "step",  # after an optimizer step (with FAULT_HIT: mid-epoch)
    "saving_checkpoint",  # the new checkpoint written beside the old one, not swapped in yet
    "exporting_epoch",  # an epoch's diffusers file written, its kohya file not yet
    "recording_epoch",  # an epoch's files on disk, its database row not written yet
    "final_export",  # the final diffusers file copied, the kohya file not yet
    "finishing",  # every file final, the job not yet marked succeeded
)

# The same mechanism in the web process, for a dataset upload (app.datasets.staging).
UPLOAD_POINTS = (
    "upload_staging",  # half the photos, crops and thumbnails written to staging, no row committed
    "upload_committed",  # the rows committed, no staged file moved into place yet
    "upload_publishing",  # half the staged files moved into place
)

_POINT = os.environ.get("LORAFACE_FAULT_POINT", "")
_HIT = int(os.environ.get("LORAFACE_FAULT_HIT", "1") or 1)
_hits = 0
_lock = threading.Lock()


def reach(name: str) -> None:
    """Mark that the job got to `name`; freeze here if the harness asked for this point."""
    global _hits
    if name != _POINT:
        return
    with _lock:
        _hits += 1
        if _hits != _HIT:
            return
    marker = os.environ.get("LORAFACE_FAULT_MARKER")
    if marker:
        Path(marker).write_text(name)
    while True:  # the harness kills the process here
        time.sleep(3600)
