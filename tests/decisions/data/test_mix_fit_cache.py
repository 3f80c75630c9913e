"""The channel mix fit is kept per distinct inputs: the Mix page, export_mix and engine runs fit the same data once,
and any new number (totals, spend) is another fit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache

from decisions.data import mix_inputs
from decisions.demo.mix import seed_mix_world
from decisions.models import DailyTotal

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted_fits(monkeypatch):
    """Every fit the reading asks the engine for (the engine itself runs as usual)."""
    cache.clear()
    calls = []

    def fit_and_count(*args, **kwargs):
        calls.append(args)
        return fit_mix(*args, **kwargs)

    fit_mix = mix_inputs.fit_mix
    monkeypatch.setattr(mix_inputs, "fit_mix", fit_and_count)
    yield calls
    cache.clear()


def test_the_same_inputs_are_fitted_once_and_give_the_same_answer(counted_fits):
    seed_mix_world(end=dt.date(2026, 11, 30), weeks=60, daily=False)
    first = mix_inputs.read_mix("closed_revenue", n_draws=100)
    again = mix_inputs.read_mix("closed_revenue", n_draws=100)
    assert len(counted_fits) == 1
    assert [c.roas.as_dict() for c in again.fit.channels] == [c.roas.as_dict() for c in first.fit.channels]


def test_a_new_total_or_another_draw_count_is_fitted_again(counted_fits):
    seed_mix_world(end=dt.date(2026, 11, 30), weeks=60, daily=False)
    mix_inputs.read_mix("closed_revenue", n_draws=100)
    latest = DailyTotal.objects.filter(closed_revenue__isnull=False).order_by("-date").first()
    DailyTotal.objects.filter(pk=latest.pk).update(closed_revenue=latest.closed_revenue + Decimal("5000"))
    mix_inputs.read_mix("closed_revenue", n_draws=100)
    mix_inputs.read_mix("closed_revenue", n_draws=120)
    assert len(counted_fits) == 3
