"""Load-or-404 dependencies of the dataset routes."""

from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import CurrentUser, DbSession
from app.datasets import service
from app.datasets.models import Dataset, DatasetImage


def valid_own_dataset(dataset_id: int, db: DbSession, user: CurrentUser) -> Dataset:
    """The caller's dataset, else 404."""
    return service.get_own_dataset(db=db, user_id=user.id, dataset_id=dataset_id)


OwnDataset = Annotated[Dataset, Depends(valid_own_dataset)]


def valid_own_image(image_id: int, dataset: OwnDataset) -> DatasetImage:
    """A photo of the caller's dataset, else 404."""
    return service.get_image(dataset=dataset, image_id=image_id)


OwnImage = Annotated[DatasetImage, Depends(valid_own_image)]
