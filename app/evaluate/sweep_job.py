"""A sweep run as a job of kind "sweep" on the training queue: the worker claims it like any
job (same lease, heartbeat, attempt fencing, requeue and delivery) and hands it here. Progress
is the job's step (images generated); every ending is written through the claim's fence."""

import logging
from pathlib import Path

from app.evaluate import score_notes
from app.evaluate import service as evaluate_service
from app.lab import job_store, paths
from app.lab.models import LoraModel
from app.lab.reporter import JobReporter
from app.trainer import interrupt, sampling, sweep
from app.trainer.errors import TrainingError

log = logging.getLogger("loraface.sweeps")


def run_sweep_job(*, worker, claim: job_store.Claim, should_abort=None) -> None:
    """Generate, score and store one claimed sweep. worker: the app.lab.worker.Worker running it."""
    # Lazy: importing the sampling stack pulls in torch and diffusers (seconds).
    settings = worker.settings
    with worker.sessions() as db:
        row = evaluate_service.sweep_of_job(db=db, job_id=claim.job_id)
        if row is None:  # the model (and so its sweep) was deleted while the job waited
            return _fail(worker, claim, "The model of this sweep was deleted.")
        model = db.get(LoraModel, row.model_id)
        spec = {
            "prompts": list(row.prompts),
            "strengths": list(row.strengths),
            "seed": row.seed,
            "steps": row.steps,
            "resolution": row.resolution,
            "out_dir": settings.data_dir / row.folder,
        }
        try:
            loras = {
                e: evaluate_service.lora_file(db=db, settings=settings, model=model, epoch=e)
                for e in row.epochs
            }
        except Exception as error:  # an epoch's file was removed
            return _fail(worker, claim, f"A LoRA file of this model is missing: {error}")
        training = training_images(settings.data_dir, model)
        base_model, family, name, sweep_id = model.base_model, model.family, model.name, row.id
    reporter = JobReporter(
        sessions=worker.sessions,
        claim=claim,
        lease_seconds=worker.lease_seconds,
        interval=worker.report_seconds,
        losses=[],
    )
    reporter.set_progress({"step": 0})  # a restarted sweep starts again from its first image
    reporter.start()

    def should_cancel() -> bool:
        return reporter.should_stop() or worker.stop_event.is_set() or bool(should_abort and should_abort())

    try:
        pipe = sampling.cached_pipeline(base_model, settings.data_dir / "cache", worker.device, family)
        with interrupt.watch(should_cancel, sweep.SweepCancelled):  # also between denoising steps
            result = sweep.run_sweep(
                pipe=pipe,
                epoch_loras=loras,
                training_images=training,
                name=name,
                on_progress=lambda done, _total: reporter.set_progress({"step": done}),
                should_cancel=should_cancel,
                **spec,
            )
    except sweep.SweepCancelled:
        reporter.stop()
        return _stopped(worker, claim, reporter)
    except TrainingError as error:
        reporter.stop()
        return _fail(worker, claim, f"The row could not run: {error}")
    except Exception as error:
        reporter.stop()
        log.exception("sweep %s failed", sweep_id)
        return _fail(
            worker, claim, f"The row stopped unexpectedly ({type(error).__name__}). It has been logged."
        )
    reporter.stop()

    def finish(db) -> None:
        job_store.finish_done(db=db, claim=claim)  # first: a stale attempt stores nothing
        stored = evaluate_service.sweep_of_job(db=db, job_id=claim.job_id)
        honest = score_notes.honest_result(result.to_dict(), demo=not base_model, folder=spec["out_dir"])
        evaluate_service.store_result(db=db, sweep=stored, result=honest)

    worker.write_fenced(claim, finish)


def training_images(data_dir: Path, model: LoraModel) -> list[Path]:
    """The job's training crops: the worker's resized copies, else the dataset's crops."""
    inputs = paths.job_inputs_dir(data_dir, model.user_id, model.job_id)
    copies = sorted(inputs.glob("*.png")) if inputs.is_dir() else []
    if copies:
        return copies
    listed = [data_dir / item["path"] for item in (model.job.images or [])]
    return [p for p in listed if p.is_file()]


def _stopped(worker, claim: job_store.Claim, reporter: JobReporter) -> None:
    """Stopped between images: another attempt owns it, the learner cancelled, or the worker stops."""
    if reporter.lease_lost.is_set():
        log.warning(
            "sweep job %s attempt %s lost its lease; stopping without writing", claim.job_id, claim.attempt
        )
    elif worker.stop_event.is_set() and not reporter.cancel_requested.is_set():
        worker.write_fenced(claim, lambda db: job_store.release(db=db, claim=claim))
        log.info("sweep job %s handed back to the queue (worker stopping)", claim.job_id)
    else:
        worker.write_fenced(claim, lambda db: job_store.finish_cancelled(db=db, claim=claim))


def _fail(worker, claim: job_store.Claim, message: str) -> None:
    worker.write_fenced(claim, lambda db: job_store.finish_failed(db=db, claim=claim, error=message))
