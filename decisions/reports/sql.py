"""SQL building blocks of the weekly report: percentiles, and reads of the JSON columns on either database.

The report aggregates in the database (README: ≤ 2 s over 1,000,000 audit events); these express what
the ORM has no word for — PostgreSQL's ordered-set percentile, a sum over a JSON list of changes, a search
in a JSON list of verdicts — once for PostgreSQL and once for SQLite.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Aggregate, BooleanField, ExpressionWrapper, F, FloatField, Func, Value
from django.db.models.functions import NullIf


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: the fraction-th percentile, interpolated."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def postgres() -> bool:
    return connection.vendor == "postgresql"


class JSONSQL(Func):
    """A vendor-specific SQL fragment over one JSON column expression (aliased by the ORM, so joins work)."""

    def __init__(self, column, *, postgres: str, sqlite: str, params: list, output_field):
        super().__init__(column, output_field=output_field)
        self.vendor_sql = {"postgresql": postgres, "sqlite": sqlite}
        self.params = params

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        template = self.vendor_sql[connection.vendor]
        return template.format(column=column), [*params, *self.params]


def budget_move(payload_key: str) -> JSONSQL:
    """Σ|to − from| over a JSON array of changes, daily-budget changes only."""
    return JSONSQL(
        F(payload_key),
        postgres=(
            "(SELECT SUM(ABS((c->>'to')::float - (c->>'from')::float)) FROM jsonb_array_elements("
            "COALESCE({column}, '[]'::jsonb)) AS c WHERE c->>'field' = 'daily_budget')"
        ),
        sqlite=(
            "(SELECT SUM(ABS(1.0 * json_extract(c.value, '$.to') - json_extract(c.value, '$.from'))) "
            "FROM json_each({column}) AS c WHERE json_extract(c.value, '$.field') = 'daily_budget')"
        ),
        params=[],
        output_field=FloatField(),
    )


def edit_ratio(human: str = "human_payload__final_changes", machine: str = "machine_payload__changes"):
    """The reviewer's budget move ÷ the machine's (NULL when the machine moved no budget)."""
    return ExpressionWrapper(budget_move(human) / NullIf(budget_move(machine), Value(0.0)), output_field=FloatField())


def array_has(column: str, wanted: dict) -> JSONSQL:
    """The JSON array holds an object with these keys and values (a verdict list searched per row)."""
    keys = sorted(wanted)
    conditions = " AND ".join(f"json_extract(v.value, '$.{key}') = %s" for key in keys)
    return JSONSQL(
        F(column),
        postgres="COALESCE({column} @> %s::jsonb, false)",
        # The keys are the callers' constants; the values go as params.
        sqlite="EXISTS (SELECT 1 FROM json_each({column}) AS v WHERE " + conditions + ")",  # noqa: S608
        params=[json.dumps([wanted])] if postgres() else [wanted[key] for key in keys],
        output_field=BooleanField(),
    )
