"""The audit action registry: every action written is registered, worded, and "override" means one thing everywhere."""

import ast
import re
from pathlib import Path

import pytest

from decisions.audit import actions
from decisions.audit.actions import REGISTRY, Action
from decisions.reports import weekly
from decisions.review import backtest, history, history_filters

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [path for package in ("decisions", "objectives") for path in (ROOT / package).rglob("*.py")]
ACTION_NAME = re.compile(r"^[a-z_]+\.[a-z_]+$")  # "proposal.created"; argparse's "store_true" has no dot

# What AuditEvent.action holds in stored rows: renaming one would orphan them, so the list is spelled out.
STORED_NAMES = {
    "proposal.created",
    "proposal.approved",
    "proposal.edited",
    "proposal.rejected",
    "proposal.override_warn",
    "proposal.override_block",
    "proposal.expired",
    "proposal.superseded",
    "proposal.rolled_back",
    "proposal.auto_approved",
    "bulk_approval.undone",
    "application.succeeded",
    "application.attempt_failed",
    "application.failed",
    "application.retried",
    "spend_test.started",
    "spend_test.ended",
    "guardrail.created",
    "guardrail.updated",
    "guardrail.deactivated",
    "objective.created",
    "objective.changed",
    "auto_approval.changed",
    "auto_approval.stopped",
    "generation.started",
    "generation.succeeded",
    "generation.failed",
    "data.imported",
    "data.import_failed",
    "campaign.archived",
    "campaign.restored",
    "deals.imported",
    "campaign_alias.added",
    "campaign_alias.removed",
    "learning.retrained",
    "role.granted",
    "experiment.imported",
    "experiment_action.changed",
    "experiment.reanalysed",
    "workflows.imported",
    "workflow_audit.changed",
    "audience_list.published",
    "audience_list.withdrawn",
    "experiment.follow_up_recorded",
}


def test_the_stored_action_names_never_change():
    assert {action.value for action in Action} == STORED_NAMES


def test_every_action_has_one_entry_with_a_label_in_words():
    assert set(REGISTRY) == set(Action)
    for action, entry in REGISTRY.items():
        assert entry.label and entry.label != action.value
        assert action not in entry.label


def _action_arguments(tree: ast.AST):
    """(line, expression) for every `action=` / `action__in=` keyword passed in a call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in ("action", "action__in"):
                    yield node.lineno, keyword.value


def _problem(node: ast.AST) -> str | None:
    if isinstance(node, ast.JoinedStr):
        return "an action name built at run time (f-string) cannot be checked against the registry"
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and ACTION_NAME.match(node.value):
        return None if node.value in STORED_NAMES else f"{node.value!r} is not a registered action"
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Action":
        return None if node.attr in Action.__members__ else f"Action.{node.attr} does not exist"
    return None


def _problems_in(expression: ast.expr) -> list[str]:
    return [problem for node in ast.walk(expression) if (problem := _problem(node))]


def test_every_action_the_code_writes_or_filters_on_is_registered():
    problems = []
    for path in SOURCES:
        if "migrations" in path.parts:
            continue
        for line, expression in _action_arguments(ast.parse(path.read_text(), filename=str(path))):
            problems += [f"{path.relative_to(ROOT)}:{line}: {problem}" for problem in _problems_in(expression)]
    assert problems == []


def test_the_overrides_are_decisions_that_depart_from_the_machine():
    # An edit, a rejection, approving over a guardrail (warn or block), a rollback. An expiry is no decision:
    # nobody looked, so it is neither "as proposed" nor an override (History and the report count it apart).
    assert set(actions.OVERRIDE_ACTIONS) == {
        Action.PROPOSAL_EDITED,
        Action.PROPOSAL_REJECTED,
        Action.PROPOSAL_OVERRIDE_WARN,
        Action.PROPOSAL_OVERRIDE_BLOCK,
        Action.PROPOSAL_ROLLED_BACK,
    }
    assert set(actions.GUARDRAIL_OVERRIDE_ACTIONS) == {Action.PROPOSAL_OVERRIDE_WARN, Action.PROPOSAL_OVERRIDE_BLOCK}


def test_a_proposal_leaves_the_queue_by_four_decisions_or_two_ways_that_are_none():
    assert set(actions.DECISION_ACTIONS) == {
        Action.PROPOSAL_APPROVED,
        Action.PROPOSAL_EDITED,
        Action.PROPOSAL_REJECTED,
        Action.PROPOSAL_AUTO_APPROVED,
    }
    assert set(actions.PERSON_DECISION_ACTIONS) == set(actions.DECISION_ACTIONS) - {Action.PROPOSAL_AUTO_APPROVED}
    assert set(actions.EXIT_ACTIONS) - set(actions.DECISION_ACTIONS) == {
        Action.PROPOSAL_EXPIRED,
        Action.PROPOSAL_SUPERSEDED,
    }


def test_the_report_counts_the_registrys_overrides():
    # Each override once: a decision that is one (edit, rejection), or a flag on a decision (guardrail, rollback).
    flags = set(weekly.GUARDRAIL_OVERRIDES) | {Action.PROPOSAL_ROLLED_BACK}
    assert set(weekly.OVERRIDING) | flags == set(actions.OVERRIDE_ACTIONS)
    assert set(weekly.OVERRIDING) <= set(weekly.DECISIONS)
    assert not flags & set(weekly.DECISIONS)
    assert set(weekly.DECISIONS) == set(actions.DECISION_ACTIONS)


def test_history_and_the_report_name_the_same_exits():
    assert list(history.EXIT_LABELS) == list(actions.EXITS)
    assert [code for code, _ in history_filters.DECISIONS] == list(actions.EXITS)
    for code in actions.EXITS:
        history.exit_q(code)  # every exit has a condition History can filter and count on


def test_history_filters_and_badges_offer_the_registrys_overrides():
    codes = list(actions.OVERRIDE_KINDS)
    assert list(history.OVERRIDE_LABELS) == codes
    assert [code for code, _ in history_filters.OVERRIDES] == ["any", *codes]
    for code in codes:
        history.override_q(code)  # every kind has a condition History can filter on


def test_the_backtest_reads_the_registrys_guardrail_overrides():
    assert backtest.GUARDRAIL_OVERRIDES == weekly.GUARDRAIL_OVERRIDES == actions.GUARDRAIL_OVERRIDE_ACTIONS
    slots = "e.action IN (" + ", ".join(["%s"] * len(backtest.GUARDRAIL_OVERRIDES)) + ")"
    assert slots in backtest._SQLITE_SQL and slots in backtest._POSTGRES_SQL


@pytest.mark.parametrize(
    ("name", "override"),
    [("proposal.edited", True), ("proposal.approved", False), ("proposal.annotated", False)],
)
def test_a_stored_name_finds_its_entry_and_an_unknown_one_none(name, override):
    entry = actions.entry(name)
    assert (entry is not None and entry.is_override) is override
    assert (entry is None) is (name not in STORED_NAMES)
