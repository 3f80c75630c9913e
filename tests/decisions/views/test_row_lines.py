"""A queue row names a wide shift's largest moves and links to the rest; the proposal's page names every one."""

from decimal import Decimal

import pytest
from django.urls import reverse

from decisions.review import kinds
from decisions.views.presenters import ROW_LINES, row_lines
from tests.factories import CampaignFactory, ProposalFactory, marketer

pytestmark = pytest.mark.django_db


def wide_shift(size: int):
    """One taker raised by the sum of `size - 1` givers' cuts of $1, $2, …"""
    campaigns = [CampaignFactory(name=f"Giver {i}", daily_budget=Decimal("100")) for i in range(1, size)]
    taker = CampaignFactory(name="The taker", daily_budget=Decimal("100"))
    changes = [
        {"campaign": c.external_id, "field": "daily_budget", "from": 100.0, "to": 100.0 - i}
        for i, c in enumerate(campaigns, start=1)
    ]
    moved = sum(range(1, size))
    changes.append({"campaign": taker.external_id, "field": "daily_budget", "from": 100.0, "to": 100.0 + moved})
    return ProposalFactory(kind=kinds.BUDGET_SHIFT.name, campaign=taker, changes=changes)


def test_a_row_shows_the_largest_moves_in_the_proposals_order_and_counts_the_rest(client):
    proposal = wide_shift(9)  # 8 givers cutting $1 … $8, one taker raised by $36
    client.force_login(marketer())
    page = client.get(reverse("decisions:queue")).content.decode()
    row = page[page.index(f'id="proposal-{proposal.pk}"') :]
    shown = [name for name in ["Giver 4", "Giver 5", "Giver 6", "Giver 7", "Giver 8", "The taker"] if name in row]
    assert shown == ["Giver 5", "Giver 6", "Giver 7", "Giver 8", "The taker"]
    assert "Giver 4 " not in row.split("</ul>")[0]
    assert "and 4 more campaigns: see every change" in row


def test_the_proposal_page_names_every_campaign(client):
    proposal = wide_shift(9)
    client.force_login(marketer())
    page = client.get(reverse("decisions:proposal", args=[proposal.pk])).content.decode()
    assert all(f"Giver {i}" in page for i in range(1, 9))


def test_a_short_proposal_shows_every_line_in_order():
    lines = [{"delta": d, "pct": None} for d in (-1.0, 5.0, -3.0)]
    assert row_lines(lines) == lines
    assert len(row_lines([{"delta": float(d), "pct": None} for d in range(ROW_LINES + 3)])) == ROW_LINES
