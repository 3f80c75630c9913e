"""Celery tasks: each takes ids, loads, and calls one service. Queue them on commit."""

from celery import chord, shared_task

from decisions import autoapproval, generating, importing, reviewing
from decisions.models import GenerationRun, ImportRun
from decisions.outcome_tasks import queue_after_import


@shared_task
def import_performance_file(import_run_id: int) -> str:
    """Import an uploaded file. Safe to run twice: a finished run is left alone, and an interrupted one
    wrote nothing (one transaction), so it simply runs again."""
    run = ImportRun.objects.select_related("uploaded_by").filter(pk=import_run_id).first()
    if run is None or run.is_finished:
        return "skipped"
    importing.import_run_execute(run=run)
    queue_after_import(run)
    if run.status == ImportRun.Status.SUCCEEDED and not run.dry_run:
        refresh_pending_verdicts.delay_on_commit()  # budgets and evidence changed
    return run.status


# --- proposal generation: start → fit chunks in parallel (a chord) → finish ---------------


@shared_task
def generate_proposals(run_id: int | None = None) -> int:
    """Fan a run out over campaign chunks; started by beat (no run id) or by "Generate now" / the command."""
    if run_id is None:
        started = generating.generation_start()
        if not started.created:
            return started.run.pk  # this data window, objective and policy were already covered
        run_id = started.run.pk
    run = GenerationRun.objects.get(pk=run_id)
    if run.status != GenerationRun.Status.RUNNING:
        return run.pk
    chunks = generating.plan_chunks(run)
    if not chunks or run.window_end is None:
        generating.generation_finish(run_id=run.pk, chunk_results=[])
        return run.pk
    chord(fit_campaign_chunk.s(run.pk, ids) for ids in chunks)(finish_generation.s(run.pk))
    return run.pk


@shared_task
def fit_campaign_chunk(run_id: int, campaign_ids: list[int]) -> dict:
    return generating.fit_chunk(run_id=run_id, campaign_ids=campaign_ids)


@shared_task
def finish_generation(chunk_results: list[dict], run_id: int) -> int:
    run = generating.generation_finish(run_id=run_id, chunk_results=chunk_results)
    if run.status == GenerationRun.Status.SUCCEEDED:
        auto_approve_run.delay(run.pk)
    return run.pk


@shared_task
def auto_approve_run(run_id: int) -> int:
    """The opt-in auto-approval policy decides the run's small, safe proposals (nothing when it is off)."""
    return autoapproval.run_auto_approve(run_id=run_id).approved


@shared_task
def expire_proposals() -> int:
    """Pending proposals past their expiry become expired (an override by omission, audited)."""
    return reviewing.proposal_expire_due()


@shared_task
def refresh_pending_verdicts() -> int:
    """After a guardrail, policy or data change: the queue's badges follow today's guardrails."""
    return reviewing.pending_verdicts_refresh()
