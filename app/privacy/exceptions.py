"""Errors of the privacy domain."""

from app.errors import Forbidden


class ConsentRequired(Forbidden):
    """No upload of face photos before the learner agreed to the current statement."""

    def __init__(self) -> None:
        super().__init__(
            "Before your first upload, read what LoRAFace stores and agree to it: tick the box on "
            "/lab/datasets, or send consent=true with the upload (or PUT /api/me/privacy). Nothing was stored."
        )
