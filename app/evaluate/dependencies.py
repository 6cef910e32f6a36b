"""Load-or-404 dependencies of the evaluate routes."""

from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import CurrentUser, DbSession
from app.evaluate import service
from app.evaluate.models import Generation, Sweep


def valid_viewable_generation(generation_id: int, db: DbSession, user: CurrentUser) -> Generation:
    """A generation the caller may see, else 404."""
    return service.get_viewable_generation(db=db, user=user, generation_id=generation_id)


def valid_viewable_sweep(sweep_id: int, db: DbSession, user: CurrentUser) -> Sweep:
    """A sweep the caller may see, else 404."""
    return service.get_viewable_sweep(db=db, user=user, sweep_id=sweep_id)


ViewableGeneration = Annotated[Generation, Depends(valid_viewable_generation)]
ViewableSweep = Annotated[Sweep, Depends(valid_viewable_sweep)]
