"""GET/PUT /api/me/privacy and the retention form on /account."""

from typing import Annotated

from fastapi import APIRouter, Form, Request

from app.auth.dependencies import CurrentUser, DbSession
from app.dependencies import SettingsDep
from app.flows import privacy as privacy_flow
from app.privacy import service
from app.privacy.schemas import PrivacyIn, PrivacyOut, RetentionForm
from app.web import redirect

router = APIRouter()


@router.get("/api/me/privacy", response_model=PrivacyOut)
def get_privacy(settings: SettingsDep, user: CurrentUser):
    return service.privacy_out(user, settings)


@router.put("/api/me/privacy", response_model=PrivacyOut)
def put_privacy(settings: SettingsDep, body: PrivacyIn, request: Request, db: DbSession, user: CurrentUser):
    if body.consent:
        service.record_consent(db=db, user=user)
    if body.keep_photos is not None or body.delete_on_approval is not None:
        keep = user.keep_photos if body.keep_photos is None else body.keep_photos
        privacy_flow.set_keep_photos(
            db=db, settings=settings, user=user, keep=keep, delete_on_approval=body.delete_on_approval
        )
    db.commit()
    return service.privacy_out(user, settings)


@router.post("/account/privacy")
def retention_form(
    settings: SettingsDep,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    form: Annotated[RetentionForm, Form()],
):
    purged = privacy_flow.set_keep_photos(
        db=db, settings=settings, user=user, keep=form.keep_photos, delete_on_approval=form.delete_on_approval
    )
    db.commit()
    if form.keep_photos:
        message = "Saved: your training photos stay until you delete them."
    else:
        message = f"Saved: your training photos will be deleted {settings.photo_retention_days} days after a job last used them."
        if purged:
            message += f" Photos of {purged} dataset{'s' if purged > 1 else ''} were deleted now."
    return redirect(request, "/account#privacy", message, "success")
