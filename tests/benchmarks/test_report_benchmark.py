"""The report benchmark on a tiny fill: its data is what it claims, and it prints its table."""

from collections import Counter

from benchmarks import report_benchmark as rb
from decisions.models import AuditEvent
from decisions.reports import weekly as reports

WEEK = "2026-W47"


def test_the_generated_log_has_exactly_the_asked_events_and_one_decision_per_proposal(settings):
    filler = rb.Filler(events=2_000, weeks=2, week=WEEK)
    filler.build([(1, "C1"), (2, "C2")])
    assert len(filler.events) == 2_000
    decided = Counter(pid for _, action, pid, *_ in filler.events if action in rb_decisions())
    assert decided and max(decided.values()) <= 2  # a decision, and at most a later rollback
    start, end = reports.week_bounds(reports.shift_week(WEEK, -1))[0], reports.week_bounds(WEEK)[1]
    assert all(start <= event[-1] < end + rb.dt.timedelta(days=3) for event in filler.events)


def rb_decisions() -> set[str]:
    return set(reports.DECISIONS) | {"proposal.superseded"}


def test_it_fills_times_and_prints_a_small_week(require_postgres, capsys):
    totals = rb.fill(events=3_000, weeks=2, week=WEEK)
    assert totals["audit events"] == 3_000 == AuditEvent.objects.count()

    result = rb.measure(WEEK, repeat=1)
    start, end = reports.week_bounds(WEEK)
    result["events_in_week"] = AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end).count()
    rb.print_table(database="test", week=WEEK, totals=totals, result=result)

    by_hand = AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end, action__in=reports.DECISIONS)
    assert result["report"]["counts"]["decisions"] == by_hand.count() > 0
    out = capsys.readouterr().out
    assert "whole report, warm median of 1" in out and "goal ≤ 2 s" in out
