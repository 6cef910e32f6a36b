"""JSON shapes of GET/PUT /api/me/privacy."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.forms import RawForm


class PrivacyOut(BaseModel):
    consented_at: datetime | None  # when the learner agreed; None: not yet (or to an older statement)
    statement_version: int | None  # the version they agreed to
    current_statement_version: int
    keep_photos: bool  # False: training photos are deleted retention_days after a job last used them
    delete_on_approval: bool = False  # also deleted once a submission trained on them is approved
    retention_days: int | None = None


class PrivacyIn(BaseModel):
    """Fields left out stay as they are; consent can be given here, not withdrawn (delete the
    datasets or the account for that)."""

    model_config = ConfigDict(extra="forbid")

    consent: Literal[True] | None = None
    keep_photos: bool | None = None
    delete_on_approval: bool | None = None


class RetentionForm(RawForm):
    """The account page's photo-retention form: two checkboxes, off unless ticked."""

    keep_photos: bool = False
    delete_on_approval: bool = False
