"""The Mix page, the totals upload, export_mix and the objective's attribution (policy file and page)."""

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from decisions.demo.mix import seed_mix_world
from decisions.models import AuditEvent, DailyTotal, ImportRun
from objectives import services
from objectives.models import Objective
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

MIX = reverse("decisions:mix")
UPLOAD = reverse("decisions:totals-import")
END = dt.date(2026, 11, 30)


@pytest.fixture
def world():
    # Weekly-dated campaign rows (one per campaign per week): campaign performance at weekly grain.
    return seed_mix_world(end=END, weeks=80, daily=False)


def export(*args) -> str:
    out = io.StringIO()
    call_command("export_mix", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("make_user", [marketer, guardrail_admin, viewer])
def test_every_role_reads_the_mix_page(client, world, make_user):
    client.force_login(make_user())
    page = client.get(MIX + "?metric=closed_revenue").content.decode()
    assert "Returns per channel" in page and "search" in page and "Checks on the data" in page
    assert "80% interval" in page and "held out of the fit" in page
    assert "Less than a year" not in page  # 80 weeks


def test_the_page_says_what_to_import_when_there_are_no_totals(client):
    client.force_login(viewer())
    page = client.get(MIX).content.decode()
    assert "No totals imported for this metric yet." in page and "import_totals" in page


def test_export_mix_json_has_exactly_the_documented_keys(world):
    document = json.loads(export("--format", "json", "--metric", "closed_revenue"))
    assert set(document) == {"metric", "period", "periods", "channels", "fit"}
    assert (document["metric"], document["period"], document["periods"]) == ("closed_revenue", "week", 80)
    channel = document["channels"][0]
    assert set(channel) == {
        "channel",
        "spend",
        "contribution",
        "roas",
        "marginal_roas",
        "adstock_half_life",
        "warnings",
    }
    assert set(channel["roas"]) == set(channel["marginal_roas"]) == {"mean", "low", "high"}
    assert "holdout_mape" in document["fit"] and document["fit"]["holdout_mape"] < 0.5
    assert {c["channel"] for c in document["channels"]} == {"search", "social", "video", "display", "shopping", "email"}


def test_export_mix_csv_has_one_row_per_channel(world):
    lines = export("--format", "csv", "--metric", "closed_revenue").strip().splitlines()
    assert lines[0].startswith("metric,period,periods,channel,spend,contribution,roas_mean,roas_low,roas_high")
    assert len(lines) == 1 + 6


def test_an_admin_uploads_totals_and_sees_the_grain(client):
    client.force_login(guardrail_admin())
    content = b"date,closed_revenue,demand\n2026-01-05,100,1\n2026-01-12,120,2\n2026-01-19,90,1\n"
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("totals.csv", content, "text/csv")})
    run = ImportRun.objects.get(kind="totals")
    assert response["Location"] == reverse("decisions:import-run", args=[run.pk])
    page = client.get(response["Location"]).content.decode()
    assert "imported 3 weekly totals from 2026-01-05 to 2026-01-19" in page
    assert DailyTotal.objects.filter(source="totals", period_days=7).count() == 3
    assert AuditEvent.objects.filter(action="data.imported").count() == 1


def test_a_bad_totals_upload_writes_nothing_and_lists_the_problems(client):
    client.force_login(guardrail_admin())
    content = b"date,closed_revenue\n2026-01-05,abc\n"
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("totals.csv", content, "text/csv")})
    page = client.get(response["Location"]).content.decode()
    assert "line 2: closed_revenue: abc" in page
    assert not DailyTotal.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize("make_user", [marketer, viewer])
def test_only_guardrail_admins_upload_totals(client, make_user):
    client.force_login(make_user())
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("t.csv", b"date,leads\n2026-01-05,1\n")})
    assert response.status_code == 403 and not DailyTotal.objects.exists()


def test_the_upload_refuses_get(client):
    client.force_login(guardrail_admin())
    assert client.get(UPLOAD).status_code == 405


def test_the_mix_page_refuses_post(client):
    client.force_login(guardrail_admin())
    assert client.post(MIX).status_code == 405


def test_the_policy_file_round_trips_the_attribution(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"objective": {"metric": "closed_revenue", "attribution": "mix"}, "guardrails": []}))
    call_command("policy", "import", str(path), "--reason", "totals only", stdout=io.StringIO())
    assert Objective.objects.get(is_active=True).attribution == "mix"
    out = io.StringIO()
    call_command("policy", "export", stdout=out)
    exported = json.loads(out.getvalue())
    assert exported["objective"] == {"metric": "closed_revenue", "weights": {}, "horizon_days": 7, "attribution": "mix"}
    # The default is not written, so policy files from before stay as they were.
    services.objective_set(metric="closed_revenue", reason="back")
    out = io.StringIO()
    call_command("policy", "export", stdout=out)
    assert "attribution" not in json.loads(out.getvalue())["objective"]


def test_an_unknown_attribution_is_refused_by_name(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"objective": {"metric": "closed_revenue", "attribution": "magic"}, "guardrails": []}))
    with pytest.raises(Exception, match="unknown attribution"):
        call_command("policy", "import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert not Objective.objects.filter(attribution="magic").exists()


def test_the_objectives_page_explains_and_sets_the_attribution(client):
    client.force_login(guardrail_admin())
    page = client.get(reverse("objectives:objectives")).content.decode()
    assert "Attribution: per campaign or channel mix" in page and "known only in total" in page
    response = client.post(
        reverse("objectives:objective-set"),
        {"metric": "closed_revenue", "horizon_days": 7, "attribution": "mix", "reason": "CRM has totals only"},
    )
    assert response.status_code == 302
    objective = Objective.objects.get(is_active=True)
    assert objective.attribution == "mix"
    event = AuditEvent.objects.filter(action="objective.changed").latest("pk")
    assert event.human_payload["attribution"] == "mix"
