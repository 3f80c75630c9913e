"""Archiving a campaign created by mistake (a CRM id with a typo), and restoring it.

An archived campaign keeps its row and its days, so nothing already audited loses its subject, but it leaves
generation, the guardrail facts behind the queue, guardrail scopes and the Data page's list. Each change is
audited in the transaction that makes it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from decisions.audit import events as audit_events
from decisions.models import Campaign, DailyMetric, Proposal


class CampaignStateError(Exception):
    """The campaign is not in a state the change applies to (already archived, still in use, …)."""


def pending_proposals_naming(campaign: Campaign) -> list[int]:
    """Ids of pending proposals that change the campaign, as their lever's campaign or inside a shift."""
    text = f'"{campaign.external_id}"'
    candidates = (
        Proposal.objects.filter(status=Proposal.Status.PENDING)
        .annotate(changes_text=Cast("changes", TextField()))
        .filter(changes_text__contains=text)
        .values_list("pk", "changes")
    )
    found = {pk for pk, changes in candidates if any(c.get("campaign") == campaign.external_id for c in changes)}
    found.update(
        Proposal.objects.filter(status=Proposal.Status.PENDING, campaign=campaign).values_list("pk", flat=True)
    )
    return sorted(found)


def _required(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": ["Say why, for the audit log."]})
    return reason.strip()


@transaction.atomic
def campaign_archive(*, campaign: Campaign, actor, reason: str) -> Campaign:
    """Archive the campaign; refused while it is archived already or a pending proposal still changes it."""
    reason = _required(reason)
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.is_archived:
        raise CampaignStateError(f"{locked} is already archived.")
    pending = pending_proposals_naming(locked)
    if pending:
        listed = ", ".join(f"#{pk}" for pk in pending[:5]) + (" …" if len(pending) > 5 else "")
        raise CampaignStateError(
            f"{locked} has {len(pending)} pending proposal{'s' if len(pending) != 1 else ''} ({listed}); "
            "decide them first, so nothing approved later changes an archived campaign."
        )
    locked.archived_at = timezone.now()
    locked.save(update_fields=["archived_at", "updated_at"])
    days = DailyMetric.objects.filter(campaign=locked).count()
    audit_events.campaign_archived(locked, days=days, actor=actor, reason=reason)
    return locked


@transaction.atomic
def campaign_restore(*, campaign: Campaign, actor, reason: str) -> Campaign:
    """Bring an archived campaign back into runs, scopes and the Data list."""
    reason = _required(reason)
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not locked.is_archived:
        raise CampaignStateError(f"{locked} is not archived.")
    locked.archived_at = None
    locked.save(update_fields=["archived_at", "updated_at"])
    audit_events.campaign_restored(locked, actor=actor, reason=reason)
    return locked
