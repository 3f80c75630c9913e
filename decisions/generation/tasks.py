"""Celery tasks of a generation run: start → fit chunks in parallel (a chord) → finish.

Each takes ids, loads, and calls one service. Registered names are the ones
beat rows and queued messages already carry.
"""

from celery import chord, shared_task

from decisions.generation import service as generating
from decisions.models import GenerationRun
from decisions.queueing import queue_follow_up
from decisions.review.tasks import auto_approve_run


@shared_task(name="decisions.tasks.generate_proposals")
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


@shared_task(name="decisions.tasks.fit_campaign_chunk")
def fit_campaign_chunk(run_id: int, campaign_ids: list[int]) -> dict:
    return generating.fit_chunk(run_id=run_id, campaign_ids=campaign_ids)


@shared_task(name="decisions.tasks.finish_generation")
def finish_generation(chunk_results: list[dict], run_id: int) -> int:
    run = generating.generation_finish(run_id=run_id, chunk_results=chunk_results)
    if run.status == GenerationRun.Status.SUCCEEDED:
        queue_follow_up(auto_approve_run, run.pk)  # the run stands even if the broker went away meanwhile
    return run.pk


@shared_task(name="decisions.tasks.sweep_stuck_work")
def sweep_stuck_work() -> dict:
    """Beat: queue again (once) or fail the runs and imports silent past the limit (decisions/sweeping.py)."""
    from decisions import sweeping

    return vars(sweeping.stuck_work_sweep())
