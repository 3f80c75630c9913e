"""Audiences of randomised tests as the guardrail checker sees them (objectives.guardrails.AudienceFacts), read
from the database the way decisions/targets.py reads a workflow's facts: the test, the segment, what the audience
gets now, every action's name and copy, and — only when a rule that reads it is in force (contact_cap) — how many
live audience lists its customers are on already."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from decisions import audiences, targets
from decisions.models import AudienceList, Experiment
from objectives import guardrails
from objectives.guardrails import fields


def reads_contacts(rules: Iterable[guardrails.Rule] | None) -> bool:
    """Whether any of the rules counts contacts (None: count them, as for a backtest of any rule)."""
    if rules is None:
        return True
    return any(getattr(guardrails.kind_named(rule.kind), "reads_contacts", False) for rule in rules)


def audience_facts(
    changes: Iterable[dict], *, rules: Iterable[guardrails.Rule] | None = None, cache: dict | None = None
) -> dict[str, guardrails.AudienceFacts]:
    """The changed audiences' facts by checker id (targets.checker_id); no query when no change is an audience's.
    `cache` (a dict the caller keeps) reuses facts already read, as a backtest replaying many proposals does."""
    wanted = [c for c in changes if fields.target_of(c) == fields.AUDIENCE_TARGET]
    if not wanted:
        return {}
    if cache is not None:
        ids = [targets.checker_id(c) for c in wanted]
        missing = [c for c, i in zip(wanted, ids, strict=True) if i not in cache]
        if missing:
            cache.update(audience_facts(missing, rules=rules))
        return {i: cache[i] for i in ids if i in cache}
    names = sorted({str(c.get("experiment")) for c in wanted})
    tests = {t.name: t for t in Experiment.objects.filter(name__in=names).prefetch_related("actions")}
    live = audiences.live_actions(tests.values())
    count = reads_contacts(rules)
    found = {}
    for change in wanted:
        test = tests.get(str(change.get("experiment")))
        segment = change.get("segment")
        if test is None or not isinstance(segment, dict):
            continue
        segment = audiences.canonical(segment)
        key = audiences.segment_key(segment)
        other_lists, customers = contacts(test, segment) if count else ({}, 0)
        found[targets.checker_id(change)] = guardrails.AudienceFacts(
            external_id=targets.checker_id(change),
            name=audiences.segment_words(segment),
            experiment=test.name,
            segment=segment,
            control=test.control_arm,
            action=live.get((test.pk, key), test.control_arm),
            actions={a.arm: guardrails.ActionCopy(a.name, a.subject_line, a.message) for a in test.actions.all()},
            customers=customers,
            other_lists=other_lists,
        )
    return found


def contacts(experiment: Experiment, segment: dict) -> tuple[dict[int, int], int]:
    """(customers of the audience by how many live lists they are on now — this audience's own left out, any
    test's counted, matched by customer id; one without an id is on none —, how many customers it has)."""
    ids, without_id = audiences.members(experiment, segment)
    members = set(ids)
    on_lists: Counter[str] = Counter()
    others = AudienceList.objects.filter(withdrawn_at__isnull=True).exclude(
        experiment=experiment, segment_key=audiences.segment_key(segment)
    )
    for customer_ids in others.values_list("customer_ids", flat=True).iterator(chunk_size=50):
        on_lists.update(set(customer_ids) & members)
    spread = Counter(on_lists.get(customer, 0) for customer in ids)
    if without_id:
        spread[0] += without_id
    return dict(spread), len(ids) + without_id
