"""The weekly override report by email, sent once per week and recipient whatever beat or Celery do.

Two beat processes, a retried task or a redelivered message may all run
`send_weekly_report` for the same week. Each recipient's ReportDelivery row
(UNIQUE(week, recipient)) is inserted first, in its own committed statement:
only the run whose insert succeeded sends, then marks sent_at. A send that
fails removes its claim so the retry can send it.

Each recipient's copy carries a signed one-click unsubscribe link (and the List-Unsubscribe headers mail
clients show as a button); the report and its proposals are linked through WAYPOINT_SITE_URL.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from decisions.models import ReportDelivery
from decisions.reports import weekly as reports


def recipients():
    """Opted-in active users with an email address."""
    return (
        get_user_model()
        .objects.filter(report_subscription__isnull=False, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )


def _claim(*, week: str, user) -> ReportDelivery | None:
    try:
        with transaction.atomic():
            return ReportDelivery.objects.create(week=week, recipient=user)
    except IntegrityError:
        return None  # another run (a second beat, a retry) has it


UNSUBSCRIBE_SALT = "waypoint.reports.unsubscribe"
# The email lists the first overrides and leaves the rest to the page and its CSV.
EMAIL_LIST_LIMIT = 20


def unsubscribe_token(user) -> str:
    """Signed with SECRET_KEY: whoever holds the link may stop this one user's email, and nothing else."""
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT)


def user_for_unsubscribe(token: str):
    """The user a link was made for, or None for a forged, garbled or stale (deleted user) link."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=pk).first()


def unsubscribe_url(user, *, base_url: str) -> str:
    path = reverse("decisions:report-unsubscribe", args=[unsubscribe_token(user)])
    return f"{base_url}{path}" if base_url else ""


def render_email(report: dict, *, base_url: str = "", unsubscribe: str = "") -> tuple[str, str, str]:
    """(subject, plain text, HTML) for one week's report; `unsubscribe` is the recipient's own link."""
    context = {
        "report": report,
        "base_url": base_url,
        "unsubscribe_url": unsubscribe,
        "overrides": report.get("overrides", [])[:EMAIL_LIST_LIMIT],
        "more_overrides": max(0, len(report.get("overrides", [])) - EMAIL_LIST_LIMIT),
    }
    rate = report["override_rate"]
    subject = f"Waypoint override report {report['week']}: " + (
        f"{rate:.0%} of {report['counts']['decisions']} decisions overridden" if rate is not None else "no decisions"
    )
    return (
        subject,
        render_to_string("emails/weekly_report.txt", context),
        render_to_string("emails/weekly_report.html", context),
    )


def _send(*, user, subject: str, text: str, html: str, unsubscribe: str) -> None:
    # RFC 8058: mail clients offer their own "unsubscribe" button and POST to the link in one click.
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, [user.email], headers=headers if unsubscribe else None
    )
    message.attach_alternative(html, "text/html")
    message.send()


def report_send(*, week: str) -> int:
    """Send the week's report to every opted-in user not yet sent it; returns how many this run sent."""
    reports.week_bounds(week)  # refuse a malformed week before claiming anything
    users = list(recipients())
    if not users:
        return 0
    report = reports.weekly_report(week)
    base_url = getattr(settings, "WAYPOINT_SITE_URL", "")
    sent = 0
    for user in users:
        delivery = _claim(week=week, user=user)
        if delivery is None:
            continue
        unsubscribe = unsubscribe_url(user, base_url=base_url)
        subject, text, html = render_email(report, base_url=base_url, unsubscribe=unsubscribe)
        try:
            _send(user=user, subject=subject, text=text, html=html, unsubscribe=unsubscribe)
        except Exception:
            ReportDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True).delete()
            raise
        ReportDelivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now())
        sent += 1
    return sent


@shared_task(
    name="decisions.report_tasks.send_weekly_report", autoretry_for=(OSError,), retry_backoff=60, max_retries=5
)
def send_weekly_report(week: str | None = None) -> int:
    """Beat runs this on Monday mornings for the week that just ended; safe to run any number of times."""
    return report_send(week=week or reports.previous_week())
