"""The scheduled anchor of the audit log: verify the chain, then write a signed checkpoint of its head."""

import logging

from celery import shared_task

from decisions import audit

logger = logging.getLogger(__name__)


class AuditLogBroken(Exception):
    """The chain did not verify, so its head was not anchored (that would bless the damage)."""


@shared_task(name="decisions.audit.checkpoint_audit_log")
def checkpoint_audit_log() -> str:
    report = audit.verify_and_checkpoint()
    if report.problem is not None:
        logger.error("%s (no checkpoint written)", report.problem)
        raise AuditLogBroken(str(report.problem))
    return f"audit log intact: {report.head.count} events, checkpoint written up to event {report.head.last_id}"
