"""Settings for a real worker the kill test stops mid-run: one campaign a chunk, and each chunk takes a second."""

import time

from celery.signals import task_prerun

from config.settings import *  # noqa: F403

WAYPOINT_CHUNK_SIZE = 1


@task_prerun.connect
def _take_a_second_per_chunk(sender=None, **kwargs):
    if sender is not None and sender.name == "decisions.tasks.fit_campaign_chunk":
        time.sleep(1)
