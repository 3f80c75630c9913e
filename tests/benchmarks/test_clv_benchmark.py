"""The CLV benchmark on a small simulated population: it predicts the holdout near the truth and prints its table."""

import pytest

from benchmarks import clv_benchmark as cb


def test_simulated_holdout_purchases_are_predicted_within_ten_percent():
    for seed in (0, 1):
        data = cb.simulated(seed, customers=3000)
        ours, best = cb.waypoint_row(data), cb.true_parameters_row(data)
        assert abs(ours.purchase_error) <= 0.10
        # Fitted parameters are nearly as good per customer as the ones the customers were drawn from.
        assert ours.purchase_mae <= best.purchase_mae * 1.05


def test_the_cdnow_split_counts_every_customer_and_the_holdout_purchase_days():
    pytest.importorskip("lifetimes")
    data = cb.cdnow()
    assert len(data.calibration) == 23_570
    assert data.actual_purchases.sum() == 19_684  # purchase days in the 39-week holdout


def test_it_prints_the_table(capsys):
    cb.main(["--seeds", "1", "--customers", "1500"])
    out = capsys.readouterr().out
    assert "chosen) + G-G" in out and "true parameters (best possible)" in out and "Goal:" in out
