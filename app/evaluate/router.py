"""Use and evaluate over HTTP: /api for scripts, the panel on the model page for people."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse

from app import forms
from app.auth.dependencies import CurrentUser, DbSession
from app.dependencies import SettingsDep
from app.errors import DomainError
from app.evaluate import service
from app.evaluate.dependencies import ViewableGeneration, ViewableSweep
from app.evaluate.exceptions import SweepNotFound
from app.evaluate.schemas import DEFAULT_SEED, GenerateForm, GenerateIn, GenerationOut, SweepIn, SweepOut
from app.lab.dependencies import ViewableModel
from app.lab.models import LoraModel
from app.web import is_htmx, redirect, render

router = APIRouter()
PNG = {"Cache-Control": "private, max-age=3600"}


# ---- JSON API ----


@router.post("/api/models/{model_id}/generate", response_model=GenerationOut)
def api_generate(
    settings: SettingsDep,
    body: GenerateIn,
    model: ViewableModel,
    request: Request,
    db: DbSession,
    user: CurrentUser,
):
    row = service.generate(db=db, settings=settings, model=model, user=user, **body.model_dump())
    db.commit()
    return service.generation_out(row)


@router.get("/api/models/{model_id}/generations", response_model=list[GenerationOut])
def api_generations(model: ViewableModel, db: DbSession):
    return [service.generation_out(g) for g in service.history(db=db, model=model)]


@router.get("/api/generations/{generation_id}/image")
def api_generation_image(settings: SettingsDep, generation: ViewableGeneration, request: Request):
    path = service.existing_file(settings, generation.image_path)
    return FileResponse(path, media_type="image/png", headers=PNG)


@router.post("/api/models/{model_id}/sweeps", status_code=201, response_model=SweepOut)
def api_start_sweep(
    settings: SettingsDep,
    request: Request,
    model: ViewableModel,
    db: DbSession,
    user: CurrentUser,
    body: SweepIn | None = None,
):
    sweep = service.start_sweep(db=db, settings=settings, model=model, user=user, data=body or SweepIn())
    db.commit()
    return service.sweep_out(sweep)


@router.get("/api/models/{model_id}/sweeps/latest", response_model=SweepOut)
def api_latest_sweep(model: ViewableModel, db: DbSession):
    sweep = service.latest_sweep(db=db, model=model)
    if sweep is None:
        raise SweepNotFound()
    return service.sweep_out(sweep)


@router.get("/api/sweeps/{sweep_id}", response_model=SweepOut)
def api_sweep(sweep: ViewableSweep):
    return service.sweep_out(sweep)


@router.get("/api/sweeps/{sweep_id}/grid")
def api_sweep_grid(settings: SettingsDep, sweep: ViewableSweep, request: Request):
    name = (sweep.result or {}).get("grid", "grid.png")
    return FileResponse(
        service.sweep_file(settings=settings, sweep=sweep, name=name),
        media_type="image/png",
        headers=PNG,
    )


@router.get("/api/sweeps/{sweep_id}/images/{name}")
def api_sweep_image(settings: SettingsDep, sweep: ViewableSweep, name: str, request: Request):
    return FileResponse(
        service.sweep_file(settings=settings, sweep=sweep, name=name),
        media_type="image/png",
        headers=PNG,
    )


# ---- pages ----


def _panel_context(
    db,
    model,
    user,
    *,
    form: dict | None = None,
    errors: list[str] | None = None,
    sweep_error: str | None = None,
    new=None,
) -> dict:
    epochs = [row.epoch for row in service.epoch_rows(db=db, model=model)]
    strength = model.recommended_strength or 0.8
    defaults = {
        "prompt": f"photo of {model.trigger} {model.class_word}, ",
        "strength": f"{strength:g}",
        "seed": str(DEFAULT_SEED),
        "epoch": "",
        "steps": str(service.model_steps(model)),
    }
    sweep = service.latest_sweep(db=db, model=model)
    return {
        "model": model,
        "is_owner": model.user_id == user.id,
        "epochs": epochs,
        "form": {**defaults, **(form or {})},
        "errors": errors or [],
        "generations": service.history(db=db, model=model),
        "new": new,
        "sweep": sweep,
        "sweep_error": sweep_error,
        "result": sweep.result if sweep is not None else None,
    }


@router.get("/models/{model_id}/evaluate")
def evaluate_page(request: Request, model: ViewableModel, db: DbSession, user: CurrentUser):
    return render(request, "evaluate/panel.html", _panel_context(db, model, user), block="panel")


@router.post("/models/{model_id}/generations")
def generate_from_form(
    settings: SettingsDep,
    request: Request,
    model: ViewableModel,
    db: DbSession,
    user: CurrentUser,
    form: Annotated[GenerateForm, Form()],
):
    def generate():
        data = GenerateIn.model_validate(form.filled())
        return service.generate(db=db, settings=settings, model=model, user=user, **data.model_dump())

    return forms.submit(
        db,
        generate,
        rejected=lambda messages, status: _form_errors(
            request, db, model, user, form.typed(), messages, status
        ),
        done=lambda row: _generated(request, model, row),
    )


def _generated(request, model, row):
    return forms.block_or_redirect(
        request,
        template="evaluate/panel.html",
        context={"g": row, "model": model, "new": row},
        block="generation",
        url=f"/models/{model.id}/evaluate#generations",
        message="Your image is ready.",
    )


def _form_errors(request, db, model, user, raw, messages, status_code):
    ctx = _panel_context(db, model, user, form=raw, errors=messages)
    if is_htmx(request):
        # htmx leaves 4xx answers unswapped, so the message goes to the form's error slot.
        return render(
            request,
            "evaluate/panel.html",
            ctx,
            block="form_errors",
            headers={"HX-Retarget": "#generate-errors", "HX-Reswap": "innerHTML"},
        )
    return render(request, "evaluate/panel.html", ctx, status_code=status_code)


@router.post("/models/{model_id}/sweeps")
def start_sweep_from_form(
    settings: SettingsDep,
    request: Request,
    model: ViewableModel,
    db: DbSession,
    user: CurrentUser,
    epochs: Annotated[int, Form(ge=1, le=8)] = 4,
):
    try:
        service.start_sweep(db=db, settings=settings, model=model, user=user, data=SweepIn(epochs=epochs))
    except DomainError as error:
        db.rollback()
        if is_htmx(request):
            ctx = _panel_context(db, model, user, sweep_error=error.detail)
            return render(request, "evaluate/panel.html", ctx, block="sweep")
        return redirect(request, f"/models/{model.id}/evaluate#sweep", message=error.detail, category="error")
    db.commit()
    if is_htmx(request):
        return render(request, "evaluate/panel.html", _panel_context(db, model, user), block="sweep")
    return redirect(
        request,
        f"/models/{model.id}/evaluate#sweep",
        message="The sweep is in the queue.",
        category="success",
    )


@router.get("/models/{model_id}/sweep")
def sweep_fragment(request: Request, model: ViewableModel, db: DbSession, user: CurrentUser):
    return render(request, "evaluate/panel.html", _panel_context(db, model, user), block="sweep")


@router.get("/generations/{generation_id}")
def generation_page(request: Request, generation: ViewableGeneration, db: DbSession):
    model = db.get(LoraModel, generation.model_id)
    return render(request, "evaluate/generation.html", {"g": generation, "model": model})
