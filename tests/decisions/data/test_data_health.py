"""Data health against the database: the service, the check after every import, export_data_health, the engine's
gate (a FAIL campaign is never in a proposal), and the pages that show it."""

import csv
import datetime as dt
import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from decisions.data import health
from decisions.data.importing import import_performance
from decisions.demo.seed import broken_tag_campaign, demo_seed
from decisions.engine import data_health as checks
from decisions.engine import proposing
from decisions.generation import service as generating
from decisions.generation.tasks import generate_proposals
from decisions.models import DailyMetric, DataHealthCheck, GenerationRun, ImportRun, Proposal
from tests.factories import marketer, viewer

pytestmark = pytest.mark.django_db

END = dt.date(2026, 11, 1)


@pytest.fixture
def broken():
    """A small demo world whose largest ordinary campaign's tracking broke ten days before END."""
    seeded = demo_seed(n_campaigns=12, days=120, seed=3, end_date=END, broken_tag=True)
    return seeded.world.campaigns[broken_tag_campaign(seeded.world)]


@pytest.fixture
def clean():
    return demo_seed(n_campaigns=12, days=120, seed=3, end_date=END).world


def run_engine() -> GenerationRun:
    started = generating.generation_start(force=True)
    generate_proposals.delay(started.run.pk)
    started.run.refresh_from_db()
    return started.run


def moved_campaigns(run: GenerationRun) -> set[str]:
    return {c.get("campaign") for p in Proposal.objects.filter(run=run) for c in p.changes} - {None}


# --- the service -----------------------------------------------------------------------------------------------


def test_the_seeded_broken_tag_is_one_fail_naming_the_campaign(broken):
    check = health.data_health_check(today=END + dt.timedelta(days=1))
    fails = [f for f in check.findings if f["severity"] == checks.FAIL]
    assert [(f["campaign_id"], f["check"]) for f in fails] == [(broken.external_id, checks.TRACKING_BROKE)]
    assert fails[0]["since"] == (END - dt.timedelta(days=9)).isoformat()
    assert broken.name in fails[0]["message"]
    assert (check.window_end, check.metric) == (END, "pipeline_value")


def test_clean_demo_data_have_no_fail(clean):
    check = health.data_health_check(today=END + dt.timedelta(days=1))
    assert not [f for f in check.findings if f["severity"] == checks.FAIL]


def test_the_service_reads_the_data_in_a_few_queries_whatever_the_campaigns(broken, django_assert_max_num_queries):
    # 12 for the campaigns' days, imports and deals; 4 for the other files (totals, transactions, tests, workflows).
    with django_assert_max_num_queries(16):
        health.data_health_check(today=END + dt.timedelta(days=1))


def test_the_newest_check_is_the_one_in_force(broken):
    health.data_health_check(trigger="first")
    newest = health.data_health_check(trigger="second")
    assert health.latest_check() == newest
    assert health.latest_findings() == [checks.Finding.from_dict(d) for d in newest.findings]


# --- after every import ----------------------------------------------------------------------------------------


def csv_file(rows: list[str]) -> io.BytesIO:
    return io.BytesIO(("date,campaign_id,spend,pipeline_value\n" + "\n".join(rows) + "\n").encode())


def test_an_import_is_checked_after_it_commits_and_counts_the_rows_it_changed(
    broken, django_capture_on_commit_callbacks
):
    day = END - dt.timedelta(days=40)
    stored = DailyMetric.objects.get(campaign__external_id=broken.external_id, date=day)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = import_performance(
            stream=csv_file(
                [
                    f"{day},{broken.external_id},{stored.spend},{stored.pipeline_value + 100}",  # a changed figure
                    f"{day - dt.timedelta(days=1)},{broken.external_id},,",  # blanks change nothing
                    f"{END + dt.timedelta(days=1)},{broken.external_id},10,0",  # a new day
                ]
            ),
            filename="restated.csv",
        )
    assert outcome.ok, outcome.problems
    run = ImportRun.objects.get(filename="restated.csv")
    assert (run.rows_changed, run.changed_first, run.changed_last) == (1, day, day)
    assert run.newest_day == END + dt.timedelta(days=1)
    check = health.latest_check()
    assert check.trigger == "performance import"
    changed = [f for f in check.findings if f["check"] == checks.CHANGED_HISTORY]
    assert [f["severity"] for f in changed] == [checks.REVIEW]
    assert "restated.csv" in changed[0]["message"]


def test_a_refused_import_queues_no_check(broken, django_capture_on_commit_callbacks):
    before = DataHealthCheck.objects.count()  # the demo seeder's own
    with django_capture_on_commit_callbacks(execute=True):
        outcome = import_performance(stream=csv_file(["not-a-date,X,1,1"]), filename="bad.csv")
    assert not outcome.ok
    assert DataHealthCheck.objects.count() == before


# --- export_data_health --------------------------------------------------------------------------------------


def export(*args) -> str:
    out = io.StringIO()
    call_command("export_data_health", *args, stdout=out)
    return out.getvalue()


def test_the_json_export_has_exactly_the_documented_keys(broken):
    before = DataHealthCheck.objects.count()
    printed = json.loads(export("--format", "json"))
    assert set(printed) == {"checked_at", "checks"}
    assert printed["checks"]
    for row in printed["checks"]:
        assert set(row) == {"campaign_id", "check", "severity", "message", "since"}
    fail = next(row for row in printed["checks"] if row["severity"] == "FAIL")
    assert fail["campaign_id"] == broken.external_id
    assert DataHealthCheck.objects.count() == before + 1  # on demand: the check is run and stored


def test_a_source_wide_finding_has_a_null_campaign_id(broken):
    DailyMetric.objects.filter(date__gt=END - dt.timedelta(days=3)).update(pipeline_value=0)
    printed = json.loads(export())
    source = [row for row in printed["checks"] if row["check"] == checks.SOURCE_ZERO]
    assert [(row["campaign_id"], row["severity"]) for row in source] == [(None, "FAIL")]


def test_the_csv_export_has_those_columns(broken):
    rows = list(csv.reader(io.StringIO(export("--format", "csv"))))
    assert rows[0] == ["campaign_id", "check", "severity", "message", "since"]
    assert [broken.external_id, "tracking_broke", "FAIL"] == rows[1][:3]


def test_latest_prints_the_stored_check_without_checking_again(broken):
    earlier = health.data_health_check(trigger="earlier")
    printed = json.loads(export("--latest"))
    assert printed["checked_at"] == earlier.checked_at.isoformat()
    assert health.latest_check() == earlier


def test_latest_before_any_check_is_refused():
    with pytest.raises(CommandError, match="No data-health check yet"):
        export("--latest")


def test_an_unknown_format_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        export("--format", "xml")


# --- the engine's gate ---------------------------------------------------------------------------------------


def test_no_proposal_moves_a_campaign_whose_tracking_broke(broken):
    run = run_engine()
    assert run.status == GenerationRun.Status.SUCCEEDED
    assert broken.external_id not in moved_campaigns(run)
    reasons = {group["reason"]: group for group in run.left_alone["campaigns"]}
    group = reasons[generating.HEALTH_REASONS[checks.TRACKING_BROKE]]
    assert [c["id"] for c in group["campaigns"]] == [broken.external_id]


def test_the_same_campaign_is_moved_when_its_data_are_sound(clean):
    # Not a test that cannot fail: the gate is what keeps the broken campaign out.
    world = clean
    run = run_engine()
    target = world.campaigns[broken_tag_campaign(world)].external_id
    assert target in moved_campaigns(run)


def test_a_failed_source_sync_leaves_its_days_out_of_the_fit(client, clean):
    since = END - dt.timedelta(days=2)
    DailyMetric.objects.filter(date__gte=since).update(pipeline_value=0)
    health.data_health_check(trigger="the CRM import that brought the zeros")
    run = run_engine()
    assert run.status == GenerationRun.Status.SUCCEEDED
    assert run.left_alone["excluded_days"] == [
        {"source": "pipeline_value", "since": since.isoformat(), "until": END.isoformat()}
    ]
    window = generating.load_window(run, [DailyMetric.objects.first().campaign_id])
    assert all(value != value for value in window.value[0, -3:])  # NaN: unknown, not zero
    assert window.value[0, -4] == window.value[0, -4]
    client.force_login(viewer())
    page = client.get(reverse("decisions:run", args=[run.pk])).content.decode()
    assert f"Left out of the fit:</strong> pipeline from {since.isoformat()} on" in page


def test_the_runs_page_says_what_data_health_held_back(client, broken):
    run = run_engine()
    client.force_login(viewer())
    page = client.get(reverse("decisions:run", args=[run.pk])).content.decode()
    assert "Data health: its tracking looks broken" in page
    assert broken.name in page


# --- the Data page and the rows page ---------------------------------------------------------------------------


def test_a_viewer_sees_data_health_red_with_the_finding_linked_to_its_rows(client, broken):
    health.data_health_check()
    client.force_login(viewer())
    page = client.get(reverse("decisions:data"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="data-health"' in text and '<span class="badge block">Fail</span>' in text
    assert "we believe its tracking broke" in text
    since = END - dt.timedelta(days=9)
    rows = f"{reverse('decisions:data-rows')}?from={since}&amp;to={END}&amp;campaign={broken.external_id}"
    assert rows in text


def test_the_data_page_says_when_nothing_was_checked_yet(client, clean):
    DataHealthCheck.objects.all().delete()
    client.force_login(marketer())
    assert "Not checked yet" in client.get(reverse("decisions:data")).content.decode()


def test_the_rows_page_shows_one_campaigns_days(client, broken):
    client.force_login(viewer())
    start = END - dt.timedelta(days=9)
    page = client.get(reverse("decisions:data-rows"), {"from": start, "to": END, "campaign": broken.external_id})
    assert page.status_code == 200
    assert page.content.decode().count("<tr><td>") == 10
    assert broken.name in page.content.decode()


def test_the_rows_page_sums_every_campaign_per_day_and_survives_bad_dates(client, broken):
    client.force_login(viewer())
    page = client.get(reverse("decisions:data-rows"), {"from": "yesterday", "to": "2026-13-40"})
    assert page.status_code == 200
    assert page.content.decode().count("<tr><td>") == 14


def test_the_rows_page_answers_404_for_an_unknown_campaign_405_for_a_post_and_asks_to_log_in(client, broken):
    assert client.get(reverse("decisions:data-rows")).status_code == 302
    client.force_login(viewer())
    assert client.get(reverse("decisions:data-rows"), {"campaign": "nope"}).status_code == 404
    assert client.post(reverse("decisions:data-rows")).status_code == 405


def test_a_review_finding_is_shown_on_the_proposals_it_touches(client, clean):
    run = run_engine()
    proposal = Proposal.objects.filter(run=run).exclude(campaign=None).first()
    target = proposal.changes[0]["campaign"]
    finding = checks.Finding(
        checks.MISSING_DAYS, checks.REVIEW, "Quiet Campaign: no rows for 2 days.", "Export them.", campaign_id=target
    )
    other = checks.Finding(checks.MISSING_DAYS, checks.REVIEW, "Elsewhere: gaps.", "Export them.", campaign_id="nope")
    DataHealthCheck.objects.create(window_end=END, findings=[finding.to_dict(), other.to_dict()])
    client.force_login(viewer())
    page = client.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()
    assert "Quiet Campaign: no rows for 2 days." in page
    assert "Elsewhere: gaps." not in page


def test_an_anomaly_pause_says_which_cause_the_data_point_to():
    days = 60
    spend = np.full((2, days), 100.0)
    leads = np.full((2, days), 5.0)
    clicks = np.full((2, days), 80.0)
    leads[:, -7:] = 0.0
    clicks[1, -7:] = 5.0  # the second campaign's traffic fell too
    window = generating.Window(
        campaign_ids=[1, 2], dates=[], spend=spend, value=leads, platform_revenue=spend, outcomes=leads, clicks=clicks
    )
    assert [generating._belief(window, i) for i in (0, 1)] == ["tracking broke", "stopped converting"]
    draft = proposing.Draft(
        kind="pause", campaign="C1", changes=[], rationale="C1: no leads.", expected={}, p_loss=0.0, evidence={}
    )
    said = generating._with_belief(draft, "tracking broke")
    assert (
        said.rationale.startswith("C1: no leads. The drop was abrupt") and said.evidence["belief"] == "tracking broke"
    )
    assert generating._with_belief(draft, "") == draft
