"""Deleting a dataset's photos on request ("Delete photos now"), for scripts and the dataset page."""

from fastapi import APIRouter, Request

from app.auth.dependencies import DbSession
from app.datasets import retention
from app.datasets.dependencies import OwnDataset
from app.dependencies import app_settings
from app.web import redirect

router = APIRouter()


@router.post("/api/datasets/{dataset_id}/photos/delete")
def api_delete_photos(request: Request, db: DbSession, dataset: OwnDataset):
    gone = retention.request_deletion(db=db, settings=app_settings(request), dataset=dataset)
    db.commit()
    return {
        "deleted": gone,
        "photos_deleted_at": dataset.photos_deleted_at,
        "requested_at": dataset.delete_requested_at,
    }


@router.post("/lab/datasets/{dataset_id}/photos/delete")
def delete_photos_from_form(request: Request, db: DbSession, dataset: OwnDataset):
    gone = retention.request_deletion(db=db, settings=app_settings(request), dataset=dataset)
    db.commit()
    message = (
        "The photos, crops and thumbnails of this dataset were deleted."
        if gone
        else "The photos will be deleted as soon as the training, sweep or review that uses them ends."
    )
    return redirect(request, f"/lab/datasets/{dataset.id}", message, "success")
