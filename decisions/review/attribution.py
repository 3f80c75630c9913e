"""Which channel and campaigns a proposal counts under, wherever a page counts or filters by them.

The weekly report's channel table, its CSV, History's channel filter and the campaign page all ask here,
so a proposal is counted under the same channel everywhere and each table's rows add up to its total.

The channel is that of the *first* campaign the proposal changes. The engine lists a budget shift's cuts
first, largest first, so a shift counts under the channel it takes money from: a display cut approved
over a display guardrail counts under display, whichever campaign receives the money. Every other kind
changes one campaign and counts under that campaign's channel. (`Proposal.campaign` is another thing:
the campaign whose lever a newer proposal supersedes, the receiving one for a shift.)
"""

from __future__ import annotations

import json

from django.db.models import BooleanField, CharField, F, Func, OuterRef, Q, Subquery, Value
from django.db.models.fields.json import KT, KeyTextTransform, KeyTransform
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import In

from decisions.models import Campaign

CHANNEL_DEFINITION = (
    "The channel of the first campaign a proposal changes: for a budget shift, the campaign it takes the "
    "most money from (whichever campaign receives it); for every other kind, the one campaign it changes."
)
NO_CHANNEL = "—"


def first_campaign(path: str = "") -> KT:
    """The external id of the first campaign in the proposal's changes; `path` leads to the proposal."""
    return KT(f"{path}changes__0__campaign")


def _outer_first_campaign(path: str) -> KeyTextTransform:
    # OuterRef takes a field name only: the JSON path is built on top of it.
    return KeyTextTransform("campaign", KeyTransform("0", OuterRef(f"{path}changes")))


def channel_of(path: str = "") -> Coalesce:
    """The attributed channel ("—" when the campaign names none), as an expression for annotate()/values().

    A correlated lookup by the campaign's unique external id: one index probe per row counted, which a
    week of decisions (thousands, not the whole log) affords.
    """
    channel = Subquery(
        Campaign.objects.filter(external_id=_outer_first_campaign(path)).values("channel")[:1],
        output_field=CharField(),
    )
    return Coalesce(NullIf(channel, Value("")), Value(NO_CHANNEL), output_field=CharField())


def in_channel(channel: str, path: str = "") -> Q:
    """Proposals attributed to `channel`: an uncorrelated IN that the database evaluates once."""
    ids = Campaign.objects.filter(channel=channel).values("external_id")
    return Q(In(first_campaign(path), Subquery(ids)))


class _Touches(Func):
    """The JSON list of changes names this campaign, at any position (a shift's cuts and raises alike)."""

    output_field = BooleanField()

    def __init__(self, column, external_id: str):
        super().__init__(column)
        self.external_id = external_id

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"COALESCE({column} @> %s::jsonb, false)", [*params, json.dumps([{"campaign": self.external_id}])]
        # The column is the ORM's own alias; the campaign id goes as a parameter.
        sql = f"EXISTS (SELECT 1 FROM json_each({column}) AS c WHERE json_extract(c.value, '$.campaign') = %s)"  # noqa: S608
        return sql, [*params, self.external_id]


def touches_campaign(external_id: str, path: str = "") -> Q:
    """Proposals whose changes move this campaign."""
    return Q(_Touches(F(f"{path}changes"), external_id))
