"""The weekly email: HTML with a plain-text part, to opted-in users, exactly once per week and recipient."""

import threading

import pytest
from django.core import mail
from django.db import connection

from decisions.models import ReportDelivery, ReportSubscription
from decisions.reports import email as report_tasks
from decisions.reports import weekly as reports
from tests.decisions.reports.test_reports import script_week
from tests.factories import marketer, viewer

WEEK = "2026-W47"


def subscribed(**kwargs):
    user = viewer(**kwargs)
    ReportSubscription.objects.create(user=user)
    return user


@pytest.mark.django_db
def test_it_sends_an_html_email_with_a_text_part_to_each_subscriber():
    scripted = script_week()
    ann, bob = subscribed(username="ann"), subscribed(username="bob")
    marketer(username="not-opted-in")

    assert report_tasks.send_weekly_report(scripted.week) == 2

    assert sorted(m.to[0] for m in mail.outbox) == [ann.email, bob.email]
    message = mail.outbox[0]
    assert message.subject == f"Waypoint override report {scripted.week}: 75% of 8 decisions overridden"
    assert "Override rate: 75% (6 overrides of 8 decisions)" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Board approved the launch budget" in html
    assert all(d.sent_at is not None for d in ReportDelivery.objects.all())


@pytest.mark.django_db
def test_a_second_run_for_the_same_week_sends_nothing():
    subscribed()
    report_tasks.send_weekly_report(WEEK)
    assert report_tasks.send_weekly_report(WEEK) == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_new_week_is_a_new_email():
    subscribed()
    report_tasks.send_weekly_report(WEEK)
    report_tasks.send_weekly_report(reports.shift_week(WEEK, 1))
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_without_a_week_it_reports_the_week_that_just_ended():
    subscribed()
    report_tasks.send_weekly_report()
    assert ReportDelivery.objects.get().week == reports.previous_week()


@pytest.mark.django_db
def test_users_without_an_email_address_are_skipped():
    subscribed(email="")
    assert report_tasks.send_weekly_report(WEEK) == 0
    assert not ReportDelivery.objects.exists()


@pytest.mark.django_db
def test_a_failed_send_gives_the_claim_back_so_a_retry_sends_it(settings):
    subscribed()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on the discard port
    with pytest.raises(OSError):
        report_tasks.report_send(week=WEEK)
    assert not ReportDelivery.objects.exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert report_tasks.report_send(week=WEEK) == 1


@pytest.mark.django_db
def test_it_refuses_a_malformed_week():
    subscribed()
    with pytest.raises(ValueError):
        report_tasks.send_weekly_report("week 47")
    assert not ReportDelivery.objects.exists()


@pytest.mark.django_db
def test_beat_sends_it_on_monday_mornings():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="decisions.report_tasks.send_weekly_report")
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "7", "1")


@pytest.mark.django_db(transaction=True)
def test_concurrent_beat_ticks_send_one_email_per_recipient(require_postgres):
    recipients = [subscribed(username=f"reader{i}") for i in range(5)]
    barrier = threading.Barrier(6)
    errors = []

    def tick():
        try:
            barrier.wait()
            report_tasks.send_weekly_report(WEEK)
        except Exception as error:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in recipients)
    assert ReportDelivery.objects.filter(week=WEEK, sent_at__isnull=False).count() == 5
