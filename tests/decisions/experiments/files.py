"""Experiment CSVs for the tests: a small simulated test, or rows written by hand."""

import csv
import io

from decisions.engine import uplift_simulator as sim


def simulated_csv(n: int = 800, seed: int = 7) -> bytes:
    simulated = sim.make_trial(n, seed=seed)
    columns = simulated.customers.columns()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["customer_id", "arm", "closed_revenue", *columns])
    for i in range(n):
        cells = [f"{v[i]:g}" if isinstance(v[i], float) else str(v[i]) for v in columns.values()]
        writer.writerow([f"C{i + 1:05d}", simulated.trial.arms[i], f"{simulated.trial.outcome[i]:.2f}", *cells])
    return out.getvalue().encode()


def rows_csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()
