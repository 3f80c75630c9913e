"""The lifetime value model: it finds the parameters simulated customers were drawn from, agrees with the
`lifetimes` library where that is installed, and its per-customer answers behave as the model says."""

import numpy as np
import pytest

from decisions.engine import clv
from decisions.engine.clv_simulator import simulate

PURCHASES = clv.PurchaseParams(r=0.5, alpha=40.0, a=0.8, b=2.5)
SPEND = clv.SpendParams(p=6.0, q=4.0, gamma=15.0)


def simulated_summary(seed: int, customers: int = 6000, end_day: int = 364):
    bought = simulate(PURCHASES, SPEND, customers=customers, acquisition_days=180, end_day=end_day, seed=seed)
    return bought, clv.summarise(bought.customer_ids, bought.days, bought.amounts, as_of=end_day)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_recovers_the_purchase_and_spend_parameters_it_was_given(seed):
    _, summary = simulated_summary(seed)
    model = clv.fit(summary)
    fitted = model.purchases
    # Rate and shape are well pinned down; a and b less so, their ratio (the dropout mean) better.
    assert fitted.r == pytest.approx(PURCHASES.r, rel=0.15)
    assert fitted.r / fitted.alpha == pytest.approx(PURCHASES.r / PURCHASES.alpha, rel=0.1)
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(PURCHASES.a / (PURCHASES.a + PURCHASES.b), rel=0.25)
    assert model.spend.mean_spend == pytest.approx(SPEND.mean_spend, rel=0.08)
    assert model.spend.p == pytest.approx(SPEND.p, rel=0.2)


def test_on_customers_who_behave_as_bgnbd_says_the_choice_falls_on_bgnbd():
    bought, _ = simulated_summary(8)
    assert clv.choose_purchase_model(bought.customer_ids, bought.days, as_of=364) is clv.PurchaseParams


def test_too_short_a_history_to_hold_a_quarter_back_keeps_bgnbd():
    assert clv.choose_purchase_model(["a", "a", "b"], [0, 5, 10], as_of=20) is clv.PurchaseParams


def test_fitting_from_transactions_names_the_model_it_chose():
    bought, _ = simulated_summary(9, customers=2000)
    model, summary = clv.fit_transactions(bought.customer_ids, bought.days, bought.amounts, as_of=364)
    assert clv.model_name(model) in ("BG/NBD", "Pareto/NBD") and len(summary) == 2000


@pytest.mark.parametrize("seed", [3, 4])
def test_predicted_holdout_purchases_match_what_simulated_customers_then_did(seed):
    bought = simulate(PURCHASES, SPEND, customers=6000, acquisition_days=180, end_day=727, seed=seed)
    summary = clv.summarise(bought.customer_ids, bought.days, bought.amounts, as_of=363)
    prediction = clv.predict(clv.fit(summary), summary, horizon_days=364)
    later = bought.days > 363
    actual_days = len(np.unique(np.stack([bought.customer_ids[later], bought.days[later]]), axis=1)[0])
    assert prediction.expected_purchases.sum() == pytest.approx(actual_days, rel=0.12)
    assert prediction.expected_value.sum() == pytest.approx(bought.amounts[later].sum(), rel=0.15)


def test_the_summary_counts_one_purchase_a_day_and_leaves_out_what_comes_after_as_of():
    ids = np.array(["a", "a", "a", "b", "b", "c"])
    days = np.array([0, 0, 10, 5, 40, 50])
    amounts = np.array([10.0, 5.0, 30.0, 20.0, 99.0, 7.0])
    summary = clv.summarise(ids, days, amounts, as_of=30)
    assert list(summary.customer_ids) == ["a", "b"]
    assert list(summary.x) == [1, 0]
    assert list(summary.t_x) == [10, 0]
    assert list(summary.T) == [30, 25]
    assert list(summary.mean_spend) == [22.5, 20.0]
    assert list(summary.first_spend) == [15.0, 20.0]


def test_a_customer_who_bought_once_is_alive_and_long_silence_after_many_purchases_is_not():
    params = clv.PurchaseParams(r=0.5, alpha=40.0, a=0.8, b=2.5)
    alive = clv.p_alive(params, x=[0, 8, 8], t_x=[0, 100, 100], T=[200, 110, 400])
    assert alive[0] == 1.0
    assert alive[1] > 0.8 > 0.01 > alive[2]


def test_expected_purchases_grow_with_the_horizon_and_with_how_often_a_customer_bought():
    params = clv.PurchaseParams(r=0.5, alpha=40.0, a=0.8, b=2.5)
    short, long = clv.expected_purchases(params, [3, 3], [80, 80], [90, 90], [30, 365])
    assert 0 < short < long
    rare, frequent = clv.expected_purchases(params, [1, 6], [80, 80], [90, 90], 90)
    assert rare < frequent


def test_a_customers_expected_spend_lies_between_their_own_mean_and_the_populations():
    spend = clv.expected_spend(SPEND, purchases=[1, 20], mean_spend=[100.0, 100.0])
    assert SPEND.mean_spend < spend[0] < spend[1] < 100.0


def test_it_refuses_transactions_without_any_repeat_purchase():
    summary = clv.summarise(["a", "b", "c"], [0, 3, 5], [10.0, 20.0, 30.0], as_of=10)
    with pytest.raises(ValueError, match="bought twice"):
        clv.fit(summary)


def test_lifetime_values_count_spend_inside_the_span_and_predict_what_is_left_of_it():
    bought, summary = simulated_summary(5, customers=3000, end_day=200)
    model = clv.fit(summary)
    values = clv.lifetime_values_from_transactions(
        model, summary, bought.customer_ids, bought.days, bought.amounts, lifetime_days=365
    )
    assert np.all(values >= summary.first_spend - 1e-9)
    # Customers acquired on the last days have almost the whole year ahead: their value is mostly predicted.
    recent = summary.T < 40
    assert recent.sum() > 100
    assert values[recent].mean() > summary.total_spend[recent].mean() * 1.5


class TestAgainstLifetimes:
    """The same likelihood and predictions as the `lifetimes` library (requirements-test.txt)."""

    @pytest.fixture
    def data(self):
        pytest.importorskip("lifetimes")
        _, summary = simulated_summary(7, customers=2000)
        return summary

    def test_the_log_likelihood_matches(self, data):
        from lifetimes import BetaGeoFitter

        params = clv.PurchaseParams(r=0.4, alpha=35.0, a=0.9, b=2.0)
        theirs = BetaGeoFitter._negative_log_likelihood(
            np.log([params.r, params.alpha, params.a, params.b]), data.x, data.t_x, data.T, np.ones(len(data)), 0.0
        )
        ours = -clv.bgnbd_log_likelihood(params, data.x, data.t_x, data.T).mean()
        assert ours == pytest.approx(theirs, rel=1e-9)

    def test_pareto_nbd_fits_and_answers_as_lifetimes_does(self, data):
        import pandas as pd
        from lifetimes import ParetoNBDFitter

        theirs = ParetoNBDFitter().fit(pd.Series(data.x), pd.Series(data.t_x), pd.Series(data.T))
        their_params = clv.ParetoParams(*(theirs.params_[name] for name in ("r", "alpha", "s", "beta")))
        ours = clv.fit_pareto_nbd(data)
        ll = [clv.pareto_nbd_log_likelihood(p, data.x, data.t_x, data.T).sum() for p in (ours, their_params)]
        assert ll[0] >= ll[1] - 1e-6
        series = (pd.Series(data.x), pd.Series(data.t_x), pd.Series(data.T))
        expected = np.asarray(theirs.conditional_expected_number_of_purchases_up_to_time(90, *series))
        alive = np.asarray(theirs.conditional_probability_alive(*series))
        np.testing.assert_allclose(
            clv.expected_purchases(their_params, data.x, data.t_x, data.T, 90), expected, rtol=1e-6
        )
        np.testing.assert_allclose(clv.p_alive(their_params, data.x, data.t_x, data.T), alive, rtol=1e-6, atol=1e-9)

    def test_the_fit_and_the_per_customer_answers_match(self, data):
        import pandas as pd
        from lifetimes import BetaGeoFitter

        theirs = BetaGeoFitter().fit(pd.Series(data.x), pd.Series(data.t_x), pd.Series(data.T))
        ours = clv.fit_bgnbd(data)
        their_params = clv.PurchaseParams(*(theirs.params_[name] for name in ("r", "alpha", "a", "b")))
        # The likelihood is flat along a and b: both optimisers stop within 1% of each other, ours no lower.
        for name in ("r", "alpha", "a", "b"):
            assert getattr(ours, name) == pytest.approx(getattr(their_params, name), rel=1e-2)
        ll = [clv.bgnbd_log_likelihood(p, data.x, data.t_x, data.T).mean() for p in (ours, their_params)]
        assert ll[0] >= ll[1] - 1e-9
        series = (pd.Series(data.x), pd.Series(data.t_x), pd.Series(data.T))
        expected = np.asarray(theirs.conditional_expected_number_of_purchases_up_to_time(90, *series))
        alive = np.asarray(theirs.conditional_probability_alive(*series))
        np.testing.assert_allclose(clv.expected_purchases(ours, data.x, data.t_x, data.T, 90), expected, rtol=1e-2)
        np.testing.assert_allclose(clv.p_alive(ours, data.x, data.t_x, data.T), alive, rtol=1e-2, atol=1e-6)
