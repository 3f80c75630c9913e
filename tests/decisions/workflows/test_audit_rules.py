"""The workflow audit's rules, pure: stale or not, never fired, what relies on what, protection, look-alikes."""

import datetime as dt

from decisions.engine import workflows as rules

TODAY = dt.date(2026, 11, 30)


def workflow(workflow_id, *, name=None, status="enabled", fired=None, created=400, used_by=(), **kwargs):
    return rules.Workflow(
        platform=kwargs.pop("platform", "hubspot"),
        workflow_id=workflow_id,
        name=name or workflow_id,
        status=status,
        created_at=TODAY - dt.timedelta(days=created),
        last_triggered_at=None if fired is None else TODAY - dt.timedelta(days=fired),
        used_by=tuple(used_by),
        **kwargs,
    )


def retired(audit) -> list[list[str]]:
    return [[w.workflow_id for w in group] for group in audit.retire]


def test_an_enabled_workflow_idle_for_the_threshold_is_stale_and_one_a_day_short_is_not():
    assert rules.is_stale(workflow("a", fired=90), TODAY, 90)
    assert not rules.is_stale(workflow("b", fired=89), TODAY, 90)
    assert not rules.is_stale(workflow("c", fired=300, status="disabled"), TODAY, 90)


def test_never_fired_is_stale_only_once_it_is_older_than_the_threshold():
    assert rules.is_stale(workflow("old", fired=None, created=91), TODAY, 90)
    assert not rules.is_stale(workflow("new", fired=None, created=30), TODAY, 90)
    assert rules.why_stale(workflow("old", fired=None, created=300, enrolled_90d=0), TODAY) == (
        "never fired, created 300 days ago, 0 enrolments in 90 days"
    )


def test_an_export_that_does_not_say_when_it_fired_never_makes_a_workflow_stale():
    unknown = workflow("m", fired=None, created=900, activity_known=False)
    assert not rules.is_stale(unknown, TODAY, 90)
    assert rules.audit([unknown], today=TODAY).retire == []


def test_the_headline_reason_says_when_it_last_fired_and_its_enrolments():
    assert rules.why_stale(workflow("w", fired=214, enrolled_90d=0), TODAY) == (
        "last fired 214 days ago, 0 enrolments in 90 days"
    )


def test_a_stale_workflow_an_active_one_relies_on_is_kept_and_the_page_says_what_to_do():
    helper = workflow("helper", name="Lead scoring sync", fired=200, used_by=["main"])
    main = workflow("main", name="Welcome series", fired=2)
    audit = rules.audit([helper, main], today=TODAY)
    assert audit.retire == []
    (hold,) = audit.held
    assert hold.workflow == helper
    assert hold.reason == (
        "Still used by Welcome series: retire together with Welcome series, or change Welcome series first."
    )


def test_a_disabled_user_does_not_keep_a_stale_workflow():
    helper = workflow("helper", fired=200, used_by=["off"])
    off = workflow("off", fired=1, status="disabled")
    assert retired(rules.audit([helper, off], today=TODAY)) == [["helper"]]


def test_stale_workflows_that_rely_on_each_other_go_in_one_proposal():
    first = workflow("follow-up", name="Webinar follow-up", fired=400, used_by=["nudge"])
    second = workflow("nudge", name="Webinar nudge", fired=400)
    alone = workflow("teaser", name="Teaser", fired=None, created=500)
    assert retired(rules.audit([first, second, alone], today=TODAY)) == [["teaser"], ["follow-up", "nudge"]]


def test_a_protected_workflow_is_kept_with_the_guardrail_named():
    consent = workflow("consent", name="Double opt-in", fired=300, tags=("compliance",))
    audit = rules.audit(
        [consent], today=TODAY, protection=lambda w: "protected by Consent" if "compliance" in w.tags else ""
    )
    assert audit.retire == []
    assert audit.held[0].reason == "Not proposed: protected by Consent."


def test_what_a_kept_workflow_relies_on_is_kept_too():
    consent = workflow("consent", fired=300, tags=("compliance",), used_by=["x"])
    base = workflow("base", fired=300, used_by=["consent"])
    audit = rules.audit([consent, base], today=TODAY, protection=lambda w: "protected" if w.tags else "")
    assert audit.retire == []
    assert {hold.workflow.workflow_id for hold in audit.held} == {"consent", "base"}


def test_the_threshold_is_the_setting_passed():
    idle = workflow("w", fired=40)
    assert retired(rules.audit([idle], today=TODAY, stale_after_days=30)) == [["w"]]
    assert retired(rules.audit([idle], today=TODAY, stale_after_days=90)) == []


def test_near_duplicates_share_a_platform_and_a_name_but_not_a_different_trigger():
    a = workflow("1", name="Welcome series", fired=1, trigger="list: new", goal="purchase")
    b = workflow("2", name="Welcome series (old)", fired=200, trigger="list: new", goal="purchase")
    other_platform = workflow("3", name="Welcome series", platform="braze", fired=1)
    other_trigger = workflow("4", name="Welcome series copy", fired=1, trigger="form: demo")
    unrelated = workflow("5", name="Renewal heads-up", fired=1)
    pairs = rules.near_duplicates([a, b, other_platform, other_trigger, unrelated])
    assert [(x.workflow_id, y.workflow_id) for x, y in pairs] == [("1", "2")]
