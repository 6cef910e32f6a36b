"""The training lab over HTTP: /api/jobs and /api/models for scripts, /lab and /models pages."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse

from app import forms
from app.auth.dependencies import CurrentUser, DbSession
from app.dependencies import SettingsDep, app_settings
from app.evaluate import model_card
from app.lab import charts, families, retrain, retrain_page, service
from app.lab.dependencies import OwnJob, ViewableJob, ViewableModel
from app.lab.schemas import JobCreate, JobCreated, JobOut, ModelOut
from app.web import redirect, render

router = APIRouter()
FORM_FIELDS = ("based_on", *retrain.SETTINGS)  # the form carries the settings a re-run copies
JobForm = forms.form_of("JobForm", FORM_FIELDS, "The lab form as posted (JobCreate validates it).")


# ---- JSON API ----


@router.post("/api/jobs", status_code=201, response_model=JobCreated)
def api_create_job(
    settings: SettingsDep, body: JobCreate, request: Request, db: DbSession, user: CurrentUser
):
    job = service.start_job(db=db, settings=settings, user=user, data=body)
    db.commit()
    return JobCreated(id=job.id, status=job.status, based_on=job.based_on_id, changes=job.changes)


@router.get("/api/jobs/{job_id}", response_model=JobOut)
def api_get_job(job: OwnJob, db: DbSession):
    return service.job_status(db=db, job=job)


@router.post("/api/jobs/{job_id}/cancel", response_model=JobOut)
def api_cancel_job(job: OwnJob, db: DbSession):
    job = service.cancel_job(db=db, job=job)
    db.commit()
    return service.job_status(db=db, job=job)


@router.get("/api/models/{model_id}", response_model=ModelOut)
def api_get_model(model: ViewableModel, db: DbSession):
    return service.model_out(db=db, model=model)


@router.get("/api/models/{model_id}/download")
def api_download_model(
    settings: SettingsDep,
    model: ViewableModel,
    request: Request,
    db: DbSession,
    format: Annotated[str, Query()] = "kohya",
    epoch: Annotated[int | None, Query(ge=1)] = None,
):
    path = service.model_file(db=db, settings=settings, model=model, fmt=format, epoch=epoch)
    return FileResponse(
        path, media_type="application/octet-stream", filename=service.download_name(model, format, epoch)
    )


# ---- pages ----


def _form_context(
    request: Request, db, user, values: dict | None = None, errors: list[str] | None = None
) -> dict:
    settings = app_settings(request)
    may_train = service.may_train(db=db, user=user)
    datasets = service.user_datasets(db=db, user=user) if may_train else []
    values = values or {}
    defaults = {
        "trigger": "sks",
        "class_word": "woman",
        "epochs": "10",
        "repeats": "5",
        "batch_size": "1",
        "rank": "16",
        "alpha": "16",
        "learning_rate": "0.0001",
        "resolution": str(service.default_resolution(settings)),
        "seed": "123456",
        "steps": "",
        "sample_steps": "20",
        "dataset_id": str(datasets[0]["id"]) if datasets else "",
        "family": families.choices(settings)[0],
        "flux_mlp": "",
    }
    form = {**defaults, **{k: v for k, v in values.items() if v is not None}}
    return {
        "may_train": may_train,
        "datasets": datasets,
        "families": [(f, families.LABELS[f]) for f in families.choices(settings)],
        "form": form,
        "errors": errors or [],
        "plan": _plan_for(form, datasets),
        "active": service.active_job(db=db, user=user),
        "jobs": service.list_jobs(db=db, user=user),
    }


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _plan_for(form: dict, datasets: list[dict]) -> service.Plan | None:
    chosen = next((d for d in datasets if str(d["id"]) == str(form.get("dataset_id"))), None)
    if chosen is None:
        return None
    return service.plan(
        images=chosen["images"],
        repeats=_int(form.get("repeats")) or 1,
        batch_size=_int(form.get("batch_size")) or 1,
        epochs=_int(form.get("epochs")),
        steps=_int(form.get("steps")),
    )


def _live_context(db, job) -> dict:
    status = service.job_status(db=db, job=job)
    return {
        "job": job,
        "s": status,
        "curve": charts.loss_curve(job.losses or [], job.total_steps),
        "epochs": service.epoch_rows(db=db, job_id=job.id),
        "duration": charts.duration,
    }


@router.get("/lab")
def lab_page(request: Request, db: DbSession, user: CurrentUser):
    ctx = _form_context(request, db, user, retrain_page.prefill(db=db, user=user, query=request.query_params))
    if ctx["active"] is not None:
        ctx.update(_live_context(db, ctx["active"]))
    return render(request, "lab/index.html", ctx)


@router.get("/lab/plan")
def lab_plan(request: Request, db: DbSession, user: CurrentUser):
    values = {k: request.query_params.get(k) for k in FORM_FIELDS}
    ctx = _form_context(request, db, user, values)
    return render(request, "lab/index.html", ctx, block="plan")


@router.post("/lab/jobs")
def lab_start_job(
    settings: SettingsDep,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    form: Annotated[JobForm, Form()],
):
    def start():
        # an unticked box sends nothing: say so, or a re-run would keep its base job's choice
        data = JobCreate.model_validate({"flux_mlp": "false", **form.filled()})
        return service.start_job(db=db, settings=settings, user=user, data=data)

    return forms.submit(
        db,
        start,
        rejected=lambda messages, status: render(
            request,
            "lab/index.html",
            _form_context(request, db, user, form.typed(), messages),
            status_code=status,
        ),
        done=lambda job: redirect(request, f"/lab/jobs/{job.id}"),
    )


@router.get("/lab/jobs/{job_id}")
def lab_job_page(request: Request, job: OwnJob, db: DbSession):
    return render(request, "lab/job.html", _live_context(db, job), block="live")


@router.post("/lab/jobs/{job_id}/cancel")
def lab_cancel_job(request: Request, job: OwnJob, db: DbSession):
    job = service.cancel_job(db=db, job=job)
    db.commit()
    if request.headers.get("HX-Request") == "true":
        return render(request, "lab/job.html", _live_context(db, job), block="live")
    return redirect(request, f"/lab/jobs/{job.id}", message="The job was asked to stop.", category="info")


@router.get("/lab/jobs/{job_id}/samples/{epoch}")
def lab_sample(settings: SettingsDep, request: Request, job: ViewableJob, db: DbSession, epoch: int):
    path = service.sample_file(db=db, settings=settings, job=job, epoch=epoch)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/models/{model_id}")
def model_page(request: Request, model: ViewableModel, db: DbSession, user: CurrentUser):
    ctx = {
        "model": model,
        "m": service.model_out(db=db, model=model),
        "is_owner": model.user_id == user.id,
        "curve": charts.loss_curve(model.job.losses or [], model.steps),
        **model_card.context(db=db, model=model),
    }
    return render(request, "lab/model.html", ctx)
