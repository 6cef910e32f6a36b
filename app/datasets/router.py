"""Dataset routes: the JSON API of CONTRACT.md and the lab's upload and review pages."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse

from app import forms
from app.auth.dependencies import CurrentUser, DbSession, require_role
from app.auth.models import Role, User
from app.datasets import retention, service
from app.datasets.dependencies import OwnDataset, OwnImage
from app.datasets.exceptions import InvalidDatasetField
from app.datasets.schemas import DatasetListItem, DatasetOut, ImageUpdate, UploadFields, UploadForm
from app.dependencies import SettingsDep, app_settings
from app.flows import privacy as privacy_flow
from app.privacy import service as privacy_service
from app.web import redirect, render

router = APIRouter()
Learner = Annotated[User, Depends(require_role(Role.learner))]
# One step of the crop nudge buttons: a tenth of the crop side, or 15% closer / wider.
NUDGES = {
    "left": {"dx": -0.1},
    "right": {"dx": 0.1},
    "up": {"dy": -0.1},
    "down": {"dy": 0.1},
    "in": {"zoom": 1.15},
    "out": {"zoom": 1 / 1.15},
    "reset": {"reset": True},
}


def _read(files: list[UploadFile]) -> list[tuple[str, bytes]]:
    return [(f.filename or "photo", f.file.read()) for f in files]


def _consent_first(settings, db: DbSession, user: User, consent: bool, keep: bool | None) -> None:
    """Record consent (and the retention choice) sent with the upload, kept even if the photos are
    then refused; without consent, refuse with 403 before anything is stored."""
    if consent:
        privacy_service.record_consent(db=db, user=user)
        if keep is not None:
            privacy_flow.set_keep_photos(db=db, settings=settings, user=user, keep=keep)
        db.commit()
    privacy_service.require_consent(user)


@router.post("/api/datasets", status_code=201, response_model=DatasetOut)
def create_dataset(
    settings: SettingsDep,
    request: Request,
    db: DbSession,
    user: Learner,
    files: Annotated[list[UploadFile], File()],
    form: Annotated[UploadFields, Form()],
):
    dataset, skipped = _upload(settings, db, user, files, form)
    db.commit()
    return service.report(dataset=dataset, skipped=skipped)


def _upload(settings, db, user: User, files: list[UploadFile], form: UploadForm):
    """Consent first (kept even if the photos are then refused), then the checked new dataset."""
    _consent_first(settings, db, user, form.consent, form.keep_photos)
    return service.create_dataset(
        db=db, settings=settings, user_id=user.id, files=_read(files), **form.dataset_fields()
    )


@router.get("/api/datasets", response_model=list[DatasetListItem])
def list_datasets(db: DbSession, user: CurrentUser):
    return [
        {
            "id": d.id,
            "name": d.name,
            "usable": d.usable,
            "summary": d.summary,
            "images": len(d.images),
            "accepted": sum(i.accepted for i in d.images),
            "photos_deleted_at": d.photos_deleted_at,
        }
        for d in service.list_datasets(db=db, user_id=user.id)
    ]


@router.get("/api/datasets/{dataset_id}", response_model=DatasetOut)
def get_dataset(dataset: OwnDataset):
    return service.report(dataset=dataset)


@router.delete("/api/datasets/{dataset_id}", status_code=204)
def delete_dataset(settings: SettingsDep, request: Request, db: DbSession, dataset: OwnDataset):
    service.delete_dataset(db=db, settings=settings, dataset=dataset)
    db.commit()


@router.patch("/api/datasets/{dataset_id}/images/{image_id}", response_model=DatasetOut)
def update_image(
    settings: SettingsDep,
    request: Request,
    db: DbSession,
    dataset: OwnDataset,
    image: OwnImage,
    body: ImageUpdate,
):
    service.update_image(db=db, settings=settings, dataset=dataset, image=image, change=body)
    db.commit()
    return service.report(dataset=dataset)


@router.get("/api/datasets/{dataset_id}/images/{image_id}/{kind}")
def image_file(
    settings: SettingsDep,
    request: Request,
    dataset: OwnDataset,
    image: OwnImage,
    kind: Literal["photo", "crop", "thumb"],
):
    path = service.file_path(settings=settings, dataset=dataset, image=image, kind=kind)
    media = "image/png" if path.suffix == ".png" else "image/jpeg"
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=3600"})


# ---- pages ----


@router.get("/datasets")
def datasets_shortcut():
    return RedirectResponse("/lab/datasets", status_code=303)


def _index(request: Request, db: DbSession, user: User, *, error: str | None = None, status_code: int = 200):
    ctx = {
        "datasets": service.list_datasets(db=db, user_id=user.id),
        "error": error,
        "consented": privacy_service.has_consented(user),
    }
    return render(request, "datasets/index.html", ctx, status_code=status_code)


@router.get("/lab/datasets")
def index_page(request: Request, db: DbSession, user: Learner):
    return _index(request, db, user)


@router.post("/lab/datasets")
def upload_page(
    settings: SettingsDep,
    request: Request,
    db: DbSession,
    user: Learner,
    files: Annotated[list[UploadFile], File()],
    form: Annotated[UploadForm, Form()],
):
    return forms.submit(
        db,
        lambda: _upload(settings, db, user, files, form),
        rejected=lambda messages, status: _index(request, db, user, error=messages[0], status_code=status),
        done=lambda upload: redirect(
            request, f"/lab/datasets/{upload[0].id}", "Your photos were checked.", "success"
        ),
    )


def _detail_ctx(dataset, image=None) -> dict:
    return {
        "dataset": dataset,
        "image": image,
        "caption_problems": service.caption_problems,
        "can_keep_anyway": service.can_keep_anyway,
    }


@router.get("/lab/datasets/{dataset_id}")
def detail_page(request: Request, db: DbSession, dataset: OwnDataset):
    info = retention.status(db=db, settings=app_settings(request), dataset=dataset)
    return render(request, "datasets/detail.html", {**_detail_ctx(dataset), "retention_info": info})


@router.post("/lab/datasets/{dataset_id}/images/{image_id}/caption")
def caption_page(
    request: Request,
    db: DbSession,
    dataset: OwnDataset,
    image: OwnImage,
    caption: Annotated[str, Form()] = "",
):
    try:
        service.update_caption(db=db, dataset=dataset, image=image, caption=caption)
    except InvalidDatasetField as error:
        db.rollback()
        return render(
            request,
            "datasets/detail.html",
            {**_detail_ctx(dataset, image), "card_error": error.detail},
            block="card",
            status_code=error.status_code,
        )
    db.commit()
    return _card_or_back(request, dataset, image, "Caption saved.")


@router.post("/lab/datasets/{dataset_id}/images/{image_id}/nudge")
def nudge_page(
    settings: SettingsDep,
    request: Request,
    db: DbSession,
    dataset: OwnDataset,
    image: OwnImage,
    direction: Annotated[Literal["left", "right", "up", "down", "in", "out", "reset"], Form()],
):
    service.nudge_crop(db=db, settings=settings, dataset=dataset, image=image, **NUDGES[direction])
    db.commit()
    return _card_or_back(request, dataset, image, "Crop moved.")


@router.post("/lab/datasets/{dataset_id}/images/{image_id}/keep")
def keep_anyway_page(
    request: Request,
    db: DbSession,
    dataset: OwnDataset,
    image: OwnImage,
    keep: Annotated[Literal["yes", "no"], Form()],
):
    # The whole page, not the card: the set's count, summary and near-duplicate marks may change.
    service.keep_anyway(db=db, dataset=dataset, image=image, keep=keep == "yes")
    db.commit()
    message = "Kept in the training set." if keep == "yes" else "Left out of the training set again."
    return redirect(request, f"/lab/datasets/{dataset.id}#image-{image.id}", message, "success")


def _card_or_back(request: Request, dataset, image, message: str):
    if request.headers.get("HX-Request") == "true":
        return render(
            request, "datasets/detail.html", {**_detail_ctx(dataset, image), "card_saved": True}, block="card"
        )
    return redirect(request, f"/lab/datasets/{dataset.id}#image-{image.id}", message, "success")


@router.post("/lab/datasets/{dataset_id}/delete")
def delete_page(settings: SettingsDep, request: Request, db: DbSession, dataset: OwnDataset):
    service.delete_dataset(db=db, settings=settings, dataset=dataset)
    db.commit()
    return redirect(request, "/lab/datasets", "The dataset and its photos were deleted.", "success")
