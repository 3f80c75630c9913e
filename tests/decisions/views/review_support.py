"""What the review endpoint tests share: URLs, a proposal's audit trail, failing guardrails, later states.

The HTTP statuses, form field names and message texts the tests check are pinned on purpose:
htmx and browsers act on the statuses and post the fields, and reviewers read the texts.
Audit actions, states and guardrail kinds come from their own constants.
"""

from django.urls import reverse

from decisions.delivery import outbox as applying
from decisions.models import Application, AuditEvent, Proposal
from decisions.review import transitions as reviewing
from objectives.models import Severity
from tests.factories import GuardrailFactory, ProposalFactory, marketer

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, *args) -> str:
    return reverse(f"decisions:{name}", args=args)


def actions(proposal: Proposal) -> list[str]:
    return list(AuditEvent.objects.filter(proposal=proposal).order_by("id").values_list("action", flat=True))


def event(proposal: Proposal, action: str) -> AuditEvent:
    return AuditEvent.objects.get(proposal=proposal, action=action)


def status_of(proposal: Proposal) -> str:
    return Proposal.objects.values_list("status", flat=True).get(pk=proposal.pk)


def budget_limit(pct: float, severity: str = Severity.BLOCK):
    """A cap on one move's size; ProposalFactory's default proposal moves a budget by 20% (100 → 120)."""
    return GuardrailFactory(kind="max_budget_change_pct", params={"pct": pct}, severity=severity)


def applied_proposal(**kwargs) -> Proposal:
    proposal = ProposalFactory(**kwargs)
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    application = Application.objects.get(proposal=proposal)
    applying.application_apply(application_id=application.pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED
    return proposal


def failed_application() -> Application:
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer())
    application = Application.objects.get(proposal=proposal)
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.FAILED, attempts=5, last_error="Platform said 500"
    )
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.FAILED)
    return application
