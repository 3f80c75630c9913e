"""The world `make run` shows, small enough for a browser test: the demo seed, an engine run, a few decisions.

Every page then has something on it: proposals in the queue (with verdicts, curves and a timeline), decided ones in
the History, the guardrails of each kind, an objective, runs, campaigns and an import, for the demo's three logins.
"""

from __future__ import annotations

from io import BytesIO, StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from decisions.data import importing
from decisions.demo.seed import DEMO_USERS, demo_seed
from decisions.models import GenerationRun, ImportRun, Proposal, Review
from decisions.review import transitions as reviewing
from objectives.models import Guardrail

PASSWORDS = {username: password for username, password, _ in DEMO_USERS}


def demo_world(*, campaigns: int = 20, days: int = 120) -> None:
    demo_seed(n_campaigns=campaigns, days=days, seed=1)
    call_command("generate_proposals", stdout=StringIO())
    _decide_a_few()
    _a_failed_import()


def _decide_a_few() -> None:
    """One approved and one rejected, so the History has both; the rest (at least two) stay in the queue."""
    marketer = get_user_model().objects.get(username="marketer")
    pending = list(Proposal.objects.filter(status=Proposal.Status.PENDING).order_by("-priority"))
    assert len(pending) >= 4, f"the demo world proposed only {len(pending)}"
    reviewing.proposal_reject(proposal=pending[-1], actor=marketer, reason_code=Review.Reason.TOO_RISKY)
    reviewing.proposal_approve(proposal=pending[-2], actor=marketer, confirm_warnings=True)


def _a_failed_import() -> None:
    admin = get_user_model().objects.get(username="admin")
    body = b"date,campaign_id,spend\n2026-13-01,SIM-0001,12.50\n"
    run = importing.import_run_create(filename="typo.csv", size_bytes=len(body), actor=admin, dry_run=False)
    importing.import_run_execute(run=run, stream=BytesIO(body))


def pending_proposal() -> Proposal:
    return Proposal.objects.filter(status=Proposal.Status.PENDING).order_by("-priority").first()


def latest_run() -> GenerationRun:
    return GenerationRun.objects.order_by("-pk").first()


def failed_import() -> ImportRun:
    return ImportRun.objects.filter(status=ImportRun.Status.FAILED).first()


def site_pages(username: str) -> dict[str, str]:
    """Every page of the site (and one of each detail page) this demo login may open, by a short name."""
    guardrail = Guardrail.objects.order_by("pk").first()
    pages = {
        "queue": reverse("decisions:queue"),
        "proposal": reverse("decisions:proposal", args=[pending_proposal().pk]),
        "history": reverse("decisions:history"),
        "guardrails": reverse("objectives:guardrails"),
        "guardrail": reverse("objectives:guardrail", args=[guardrail.pk]),
        "objectives": reverse("objectives:objectives"),
        "reports": reverse("decisions:reports"),
        "runs": reverse("decisions:runs"),
        "run": reverse("decisions:run", args=[latest_run().pk]),
        "pacing": reverse("decisions:pacing"),
        "data": reverse("decisions:data"),
        "import-run": reverse("decisions:import-run", args=[failed_import().pk]),
        "auto-approval": reverse("decisions:auto-approval"),
    }
    if username == "admin":  # the guardrail admin's own forms
        pages.update(
            {
                "guardrail-edit": reverse("objectives:guardrail-edit", args=[guardrail.pk]),
                "guardrail-new": reverse("objectives:guardrail-new"),
                "import": reverse("decisions:import"),
                "policy-import": reverse("objectives:policy-import"),
            }
        )
    return pages
