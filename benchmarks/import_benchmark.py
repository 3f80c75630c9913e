"""Import speed and memory: generated performance CSVs imported through `manage.py import_performance`.

Run it against PostgreSQL (the goal: 200,000 rows in at most 30 s and 200 MB):

    createdb -h 127.0.0.1 -U postgres wp_import_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wp_import_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python benchmarks/import_benchmark.py            # 50,000 then 200,000 rows
    .venv/bin/python benchmarks/import_benchmark.py --rows 200000 400000

Each size runs in a fresh child process, so each peak belongs to that import alone. The child writes a
CSV with every generic column to a temporary file (its own small generator, streamed to disk), deletes
the campaigns of an earlier benchmark run of that size, then times `call_command("import_performance")`,
the same code path as the command line. Peak memory is the child's peak resident set size from
`resource.getrusage(RUSAGE_SELF).ru_maxrss` (the whole Python process, Django included); "startup MB"
is the same figure just before the import, so the difference is what the import itself needed.
If the import streams, the peak stays the same whatever the number of rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGNS = 250
HEADER = (
    "date,campaign_id,campaign_name,channel,platform,audience,tags,daily_budget,spend,impressions,clicks,"
    "platform_conversions,platform_revenue,leads,pipeline_value,closed_revenue\n"
)
CHANNELS = ("search", "social", "display", "video")


def write_csv(path: Path, rows: int, prefix: str, seed: int = 7) -> None:
    """Rows for CAMPAIGNS campaigns over consecutive days, written line by line."""
    rng = random.Random(seed)
    start = dt.date(2020, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(rows):
            campaign = i % CAMPAIGNS
            day = start + dt.timedelta(days=i // CAMPAIGNS)
            spend = rng.uniform(20, 2000)
            impressions = int(spend * rng.uniform(40, 120))
            clicks = int(impressions * rng.uniform(0.005, 0.05))
            conversions = round(clicks * rng.uniform(0.01, 0.1), 2)
            closed = f"{spend * rng.uniform(0, 3):.2f}" if rng.random() < 0.3 else ""
            out.write(
                f"{day},{prefix}{campaign:04d},Campaign {campaign},{CHANNELS[campaign % 4]},google_ads,"
                f"prospects,bench;tier{campaign % 3},{spend * 1.1:.2f},{spend:.2f},{impressions},{clicks},"
                f"{conversions},{spend * rng.uniform(0.5, 4):.2f},{round(conversions / 2, 2)},"
                f"{spend * rng.uniform(1, 6):.2f},{closed}\n"
            )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def child(rows: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from decisions.models import Campaign, DailyMetric

    prefix = f"BENCH{rows}-"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"performance-{rows}.csv"
        write_csv(path, rows, prefix)
        Campaign.objects.filter(external_id__startswith=prefix).delete()
        startup = peak_rss_mb()
        began = time.perf_counter()
        call_command("import_performance", str(path), stdout=io.StringIO(), stderr=io.StringIO())
        seconds = time.perf_counter() - began
        imported = DailyMetric.objects.filter(campaign__external_id__startswith=prefix).count()
        result = {
            "rows": rows,
            "imported": imported,
            "file_mb": path.stat().st_size / 2**20,
            "seconds": seconds,
            "startup_mb": startup,
            "peak_mb": peak_rss_mb(),
            "database": connection.vendor,
        }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    results = []
    for rows in args.rows:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(rows)], capture_output=True, text=True, check=True, cwd=ROOT
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"database: {results[0]['database']}; peak = peak RSS of the importing process (getrusage ru_maxrss)")
    print(
        f"{'rows':>9} {'file MB':>8} {'seconds':>8} {'rows/s':>8} {'startup MB':>11} {'peak MB':>8} {'import MB':>10}"
    )
    for r in results:
        assert r["imported"] == r["rows"], f"imported {r['imported']} of {r['rows']} rows"
        print(
            f"{r['rows']:>9,} {r['file_mb']:>8.1f} {r['seconds']:>8.1f} {r['rows'] / r['seconds']:>8,.0f} "
            f"{r['startup_mb']:>11.0f} {r['peak_mb']:>8.0f} {r['peak_mb'] - r['startup_mb']:>10.0f}"
        )


if __name__ == "__main__":
    main()
