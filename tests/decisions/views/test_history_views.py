import csv
import datetime as dt
import io
import json

import pytest
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from decisions import audit
from decisions.audit import timeline
from decisions.models import Proposal
from decisions.review import kinds
from decisions.review import transitions as reviewing
from tests.factories import GuardrailFactory, ProposalFactory, guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

HISTORY = reverse("decisions:history")
CSV = reverse("decisions:history-csv")


def budget_limit(pct: float, severity: str):
    return GuardrailFactory(kind="max_budget_change_pct", params={"pct": pct}, severity=severity)


def reviewer():
    # One reviewer per test unless a test names its own: creating users (password hashing) is the slow part.
    return User.objects.filter(username="reviewer").first() or marketer(username="reviewer")


def approved(actor=None, **kwargs) -> Proposal:
    proposal = ProposalFactory(**kwargs)
    reviewing.proposal_approve(proposal=proposal, actor=actor or reviewer())
    return proposal


def edited(actor=None, to: float = 110.0, note: str = "Halve the move", **kwargs) -> Proposal:
    proposal = ProposalFactory(**kwargs)
    final = [{**proposal.changes[0], "to": to}]
    reviewing.proposal_edit_and_approve(proposal=proposal, actor=actor or reviewer(), final_changes=final, note=note)
    return proposal


def rejected(actor=None, reason_code: str = "strategy", note: str = "", **kwargs) -> Proposal:
    proposal = ProposalFactory(**kwargs)
    reviewing.proposal_reject(proposal=proposal, actor=actor or reviewer(), reason_code=reason_code, note=note)
    return proposal


def expired() -> Proposal:
    proposal = ProposalFactory(expires_at=timezone.now() - dt.timedelta(minutes=1))
    reviewing.proposal_expire_due()
    return proposal


def rows(response) -> set[int]:
    """The proposal ids listed on the page (each row carries id="proposal-N")."""
    html = response.content.decode()
    return {p.pk for p in Proposal.objects.all() if f'id="proposal-{p.pk}"' in html}


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def as_viewer(client):
    client.force_login(viewer())
    return client


# --- the page ---------------------------------------------------------------------------


def test_it_lists_decided_proposals_and_leaves_pending_ones_in_the_queue(as_viewer):
    decided = approved()
    pending = ProposalFactory()
    listed = rows(as_viewer.get(HISTORY))
    assert decided.pk in listed
    assert pending.pk not in listed


def test_it_shows_who_decided_why_and_which_overrides(as_viewer):
    maya = marketer(first_name="Maya", last_name="Lind")
    proposal = rejected(actor=maya, reason_code="too_risky", note="Not before the launch")
    response = as_viewer.get(HISTORY)
    html = response.content.decode()
    assert f"Maya Lind ({maya.username})" in html
    assert "Too risky" in html and "Not before the launch" in html
    assert '<span class="badge warn">Rejected</span>' in html
    assert rows(response) == {proposal.pk}


def test_a_plain_approval_is_marked_as_proposed_not_as_an_override(as_viewer):
    approved()
    html = as_viewer.get(HISTORY).content.decode()
    assert '<span class="badge pass">As proposed</span>' in html
    assert "<strong>0</strong> of the 1 decision overridden (0%)" in html


@pytest.mark.parametrize("make_user", [viewer, marketer, guardrail_admin])
def test_every_role_may_read_history_and_export_it(client, make_user):
    client.force_login(make_user())
    assert client.get(HISTORY).status_code == 200
    assert client.get(CSV).status_code == 200


@pytest.mark.parametrize("url", [HISTORY, CSV])
def test_it_needs_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", [HISTORY, CSV])
def test_it_refuses_a_post(as_viewer, url):
    assert as_viewer.post(url).status_code == 405


def test_it_explains_an_empty_history(as_viewer):
    html = as_viewer.get(HISTORY).content.decode()
    assert "Nothing has been decided yet" in html


def test_it_says_when_no_proposal_matches_the_filters(as_viewer):
    approved()
    html = as_viewer.get(HISTORY, {"decision": "rejected"}).content.decode()
    assert "No decided proposals match these filters" in html
    assert "Nothing has been decided yet" not in html


def test_it_still_lists_audit_events_that_concern_no_proposal(as_viewer):
    audit.record(action="guardrail.updated", reason="Tighter cap for Q4")
    html = as_viewer.get(HISTORY).content.decode()
    assert "guardrail.updated" in html and "Tighter cap for Q4" in html


# --- filters ------------------------------------------------------------------------------


def test_it_filters_by_reviewer(as_viewer):
    maya, omar = marketer(), marketer()
    mine, theirs = approved(actor=maya), approved(actor=omar)
    listed = rows(as_viewer.get(HISTORY, {"reviewer": maya.pk}))
    assert mine.pk in listed and theirs.pk not in listed


def test_it_offers_only_people_who_decided_something_as_reviewers(as_viewer):
    maya = marketer(username="maya")
    marketer(username="never-decided")
    approved(actor=maya)
    html = as_viewer.get(HISTORY).content.decode()
    assert f'<option value="{maya.pk}">maya</option>' in html
    assert "never-decided" not in html


def test_it_filters_by_kind(as_viewer):
    pause = approved(kind=kinds.PAUSE.name)
    change = approved(kind=kinds.BUDGET_CHANGE.name)
    listed = rows(as_viewer.get(HISTORY, {"kind": "pause"}))
    assert pause.pk in listed and change.pk not in listed


@pytest.mark.parametrize(
    ("decision", "expected"),
    [("approved", "approved"), ("edited", "edited"), ("rejected", "rejected"), ("expired", "expired")],
)
def test_it_filters_by_decision(as_viewer, decision, expected):
    made = {"approved": approved(), "edited": edited(), "rejected": rejected(), "expired": expired()}
    assert rows(as_viewer.get(HISTORY, {"decision": decision})) == {made[expected].pk}


def test_it_filters_by_reject_reason(as_viewer):
    brand = rejected(reason_code="brand")
    timing = rejected(reason_code="timing")
    listed = rows(as_viewer.get(HISTORY, {"reason": "brand"}))
    assert brand.pk in listed and timing.pk not in listed


def test_it_filters_by_decision_date_including_both_ends(as_viewer):
    early, middle, late = approved(), approved(), approved()
    day = dt.timedelta(days=1)
    today = timezone.localdate()
    noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    Proposal.objects.filter(pk=early.pk).update(decided_at=noon - 3 * day)
    Proposal.objects.filter(pk=middle.pk).update(decided_at=noon - day)
    Proposal.objects.filter(pk=late.pk).update(decided_at=noon)
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert rows(as_viewer.get(HISTORY, {"date_from": yesterday, "date_to": yesterday})) == {middle.pk}
    assert rows(as_viewer.get(HISTORY, {"date_from": yesterday})) == {middle.pk, late.pk}
    assert rows(as_viewer.get(HISTORY, {"date_to": yesterday})) == {early.pk, middle.pk}


def test_a_malformed_date_is_reported_and_ignored(as_viewer):
    proposal = approved()
    response = as_viewer.get(HISTORY, {"date_from": "last tuesday"})
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()
    assert rows(response) == {proposal.pk}


def test_overrides_only_keeps_edits_rejections_and_guardrail_overrides_not_expiries(as_viewer):
    # An expiry is no decision (decisions/audit/actions.py): neither "as proposed" nor an override.
    plain, nobody_decided = approved(), expired()
    overrides = {edited().pk, rejected().pk}
    budget_limit(pct=10, severity="warn")
    over_warning = ProposalFactory()  # moves 100 → 120: 20 % against a 10 % warning
    reviewing.proposal_approve(proposal=over_warning, actor=marketer(), confirm_warnings=True)
    listed = rows(as_viewer.get(HISTORY, {"override": "any"}))
    assert listed == overrides | {over_warning.pk}
    assert plain.pk not in listed and nobody_decided.pk not in listed


def test_it_filters_by_one_override_kind_and_badges_a_block_override(as_viewer):
    budget_limit(pct=10, severity="block")
    over_block = ProposalFactory()
    reviewing.proposal_approve(proposal=over_block, actor=guardrail_admin(), override_reason="Board approved it")
    other = rejected()
    response = as_viewer.get(HISTORY, {"override": "override_block"})
    assert rows(response) == {over_block.pk}
    assert other.pk not in rows(response)
    assert '<span class="badge block">Over a block</span>' in response.content.decode()


def test_a_rolled_back_proposal_counts_as_an_override(as_viewer, django_capture_on_commit_callbacks):
    admin = guardrail_admin()
    with django_capture_on_commit_callbacks(execute=True):
        proposal = approved(actor=admin)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPLIED
    with django_capture_on_commit_callbacks(execute=True):
        reviewing.proposal_rollback(proposal=proposal, actor=admin, reason="Lead quality fell")
    response = as_viewer.get(HISTORY, {"override": "rolled_back"})
    assert rows(response) == {proposal.pk}
    assert "Rolled back: the reverse change was queued" in response.content.decode()


def test_the_summary_counts_all_matching_proposals_not_just_the_page(as_viewer):
    for _ in range(3):
        approved()
    rejected()
    html = as_viewer.get(HISTORY).content.decode()
    assert "<strong>4</strong> proposals out of the queue" in html
    assert "<strong>1</strong> of the 4 decisions overridden (25%)" in html


# --- htmx, pagination, queries ---------------------------------------------------------


def test_an_htmx_filter_request_gets_only_the_results_fragment(as_viewer):
    kept = rejected()
    approved()
    response = as_viewer.get(HISTORY, {"override": "any"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="history-results"')
    assert rows(response) == {kept.pk}


def test_the_filter_form_works_with_and_without_javascript(as_viewer):
    html = as_viewer.get(HISTORY).content.decode()
    assert f'method="get" action="{HISTORY}"' in html
    assert f'hx-get="{HISTORY}" hx-target="#history-results"' in html


def test_page_links_keep_the_filters(as_viewer):
    for _ in range(26):
        rejected(reason_code="brand")
    html = as_viewer.get(HISTORY, {"reason": "brand"}).content.decode()
    assert 'href="?reason=brand&amp;page=2"' in html
    assert 'hx-get="?reason=brand&amp;page=2"' in html
    second = as_viewer.get(HISTORY, {"reason": "brand", "page": 2})
    assert len(rows(second)) == 1


def test_the_csv_link_carries_the_filters_in_use(as_viewer):
    html = as_viewer.get(HISTORY, {"kind": "pause", "reason": "", "page": "1"}).content.decode()
    assert f'href="{CSV}?kind=pause"' in html


def test_the_page_reads_a_fixed_number_of_queries_however_many_rows(as_viewer, django_assert_max_num_queries):
    for _ in range(3):
        edited()
        rejected()
        expired()
    # The page's own reads (with the campaigns' names for every row at once), the nav's and the filters'.
    with django_assert_max_num_queries(14) as few:
        as_viewer.get(HISTORY)
    for _ in range(8):
        edited()
        rejected()
        expired()
    with django_assert_max_num_queries(14) as many:
        as_viewer.get(HISTORY)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- CSV ------------------------------------------------------------------------------------


def test_the_csv_has_the_documented_columns_and_one_row_per_proposal(as_viewer):
    proposal = edited(to=110.0, note="Halve the move")
    response = as_viewer.get(CSV)
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="waypoint-history-' in response["Content-Disposition"]
    [row] = csv_rows(response)
    assert list(row) == [
        "proposal_id",
        "kind",
        "campaign_ids",
        "status",
        "decision",
        "decided_by",
        "decided_at",
        "reason",
        "note",
        "override",
        "machine_changes",
        "final_changes",
        "expected_mean",
        "p_loss",
        "outcome",
        "realised_per_week",
        "outcome_metric",
        "reestimated_mean",
        "reestimated_low",
        "reestimated_high",
        "reestimated_p_loss",
    ]
    campaign = proposal.changes[0]["campaign"]
    assert row["proposal_id"] == str(proposal.pk)
    assert row["campaign_ids"] == campaign
    assert (row["decision"], row["note"], row["override"]) == ("edited", "Halve the move", "yes: edited")
    assert json.loads(row["machine_changes"])[0]["to"] == 120.0
    assert json.loads(row["final_changes"])[0]["to"] == 110.0
    assert float(row["expected_mean"]) == proposal.expected_mean


def test_the_csv_follows_the_page_filters(as_viewer):
    kept = rejected(reason_code="brand")
    approved()
    [row] = csv_rows(as_viewer.get(CSV, {"override": "any"}))
    assert row["proposal_id"] == str(kept.pk)
    assert (row["override"], row["reason"]) == ("yes: rejected", "brand")


def test_the_csv_says_no_override_for_a_plain_approval(as_viewer):
    approved()
    [row] = csv_rows(as_viewer.get(CSV))
    assert row["override"] == "no"
    assert row["final_changes"] and row["decided_at"]


def test_the_csv_keeps_a_note_that_looks_like_a_formula_as_text(as_viewer):
    rejected(note='=HYPERLINK("http://example.com")')
    [row] = csv_rows(as_viewer.get(CSV))
    assert row["note"].startswith("'=")


def test_the_csv_export_reads_a_fixed_number_of_queries(as_viewer, django_assert_max_num_queries):
    for _ in range(20):
        edited()
    with django_assert_max_num_queries(6):
        assert len(csv_rows(as_viewer.get(CSV))) == 20


# --- timeline -------------------------------------------------------------------------------


def test_the_timeline_runs_from_creation_to_outcome_in_plain_words():
    proposal = ProposalFactory()
    audit.record(action="proposal.created", label="engine", proposal=proposal, machine_payload={"changes": []})
    reviewing.proposal_edit_and_approve(
        proposal=proposal, actor=marketer(username="maya"), final_changes=[{**proposal.changes[0], "to": 105.0}]
    )
    events = timeline.proposal_timeline(proposal)
    assert [e.action for e in events] == ["proposal.created", "proposal.edited"]
    assert [e.summary for e in events] == ["Proposed by the engine", "Edited the values, then approved"]
    assert [e.is_override for e in events] == [False, True]
    assert events[1].diff == [
        {
            "campaign": proposal.campaign.name,
            "field": "daily budget",
            "current": "$100",
            "machine": "$120",
            "human": "$105",
            "changed": True,
        }
    ]


def test_the_timeline_partial_shows_the_machine_and_human_values_of_an_edit():
    proposal = edited(to=105.0, note="Budget freeze next week")
    html = render_to_string("decisions/timeline.html#timeline", {"events": timeline.proposal_timeline(proposal)})
    assert "<del>$120</del>" in html and "<ins>$105</ins>" in html
    assert "Budget freeze next week" in html
    assert '<span class="badge warn">override</span>' in html
    assert "<html" not in html


def test_the_timeline_names_the_guardrail_a_reviewer_overrode():
    budget_limit(pct=10, severity="warn")
    proposal = ProposalFactory()
    reviewing.proposal_approve(proposal=proposal, actor=marketer(), confirm_warnings=True)
    override = timeline.proposal_timeline(proposal)[-1]
    assert override.summary == "Approved over a warning guardrail"
    assert len(override.details) == 1 and "20%" in override.details[0]


def test_the_history_page_includes_each_rows_timeline(as_viewer):
    proposal = rejected(reason_code="timing", note="After the holidays")
    html = as_viewer.get(HISTORY).content.decode()
    assert "Timeline · 1 event" in html
    assert "Rejected (reason: Timing)" in html
    assert rows(as_viewer.get(HISTORY)) == {proposal.pk}


def test_an_event_unknown_to_the_timeline_shows_its_action_name():
    proposal = approved()
    audit.record(action="proposal.annotated", proposal=proposal)
    assert timeline.proposal_timeline(proposal)[-1].summary == "proposal.annotated"
