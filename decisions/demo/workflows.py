"""The demo's automation inventory: a team's HubSpot workflows as their generic CSV export, dated from today.

It holds what the audit looks for: an old copy of a live series (stale, and a near-duplicate), two webinar
workflows that rely only on each other (retired together), a helper a live series still uses (kept: "change …
first"), a consent flow a guardrail protects, one that never fired, and live ones. Imported through the same
service as an uploaded export, so it is audited like one.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

# workflow_id, name, status, created (days ago), last fired (days ago; None = never), enrolled in 90 days,
# used_by, tags, trigger, goal
ROWS = (
    ("wf-101", "Welcome series", "enabled", 1000, 1, 1840, "", "onboarding", "list: new subscribers", "first purchase"),
    (
        "wf-102",
        "Welcome series (old)",
        "enabled",
        1360,
        214,
        0,
        "",
        "onboarding",
        "list: new subscribers",
        "first purchase",
    ),
    (
        "wf-103",
        "Webinar follow-up 2024",
        "enabled",
        940,
        412,
        0,
        "wf-104",
        "events",
        "form: webinar signup",
        "demo booked",
    ),
    (
        "wf-104",
        "Webinar no-show nudge",
        "enabled",
        940,
        412,
        0,
        "",
        "events",
        "workflow: webinar follow-up",
        "demo booked",
    ),
    ("wf-105", "Lead scoring sync", "enabled", 1475, 335, 0, "wf-101", "ops", "property: lifecycle stage", ""),
    ("wf-106", "Double opt-in confirmation", "enabled", 2000, 274, 0, "", "compliance", "form: any", "consent"),
    ("wf-107", "Trial expiry reminder", "draft", 120, None, None, "", "", "", ""),
    ("wf-108", "Black Friday 2023 teaser", "enabled", 1137, None, 0, "", "seasonal", "list: bf-2023", "purchase"),
    ("wf-109", "Renewal heads-up", "enabled", 1420, 5, 312, "", "retention", "property: renewal date", "renewal"),
    ("wf-110", "Old newsletter digest", "disabled", 1795, 1309, 0, "", "", "", ""),
    ("wf-111", "Demo request routing", "enabled", 600, 0, 2210, "", "sales", "form: demo request", "meeting"),
)
HEADER = (
    "workflow_id,name,platform,status,created_at,updated_at,last_triggered_at,enrolled_90d,used_by,tags,trigger,goal"
)


def inventory_csv(today: date) -> bytes:
    lines = [HEADER]
    for workflow_id, name, status, created, fired, enrolled, used_by, tags, trigger, goal in ROWS:
        created_at = today - timedelta(days=created)
        last = "" if fired is None else (today - timedelta(days=fired)).isoformat()
        updated = (created_at + timedelta(days=30)).isoformat()
        count = "" if enrolled is None else str(enrolled)
        lines.append(
            ",".join(
                [workflow_id, name, "hubspot", status, created_at.isoformat(), updated, last, count, used_by, tags]
                + [trigger, goal]
            )
        )
    return ("\n".join(lines) + "\n").encode()


def seed_workflows(*, today: date, label: str) -> int:
    from decisions.workflows.services import import_workflows

    outcome = import_workflows(stream=io.BytesIO(inventory_csv(today)), filename="demo-workflows.csv", label=label)
    if not outcome.ok:
        raise ValueError("; ".join(outcome.problems))
    return outcome.rows_written
