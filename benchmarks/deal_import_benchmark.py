"""CRM deals import speed and memory: a generated HubSpot-shaped export through `manage.py import_deals`,
beside a naive baseline (one ORM save per deal and per derived day).

Goal: 500,000 deals in at most 60 s and 300 MB. Use a database of its own; it keeps BENCH campaigns:

    export DATABASE_URL=sqlite:////tmp/wp/deal-bench.sqlite3     # or postgres://…/wp_deal_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python benchmarks/deal_import_benchmark.py                  # 500,000 deals; naive on 5,000
    .venv/bin/python benchmarks/deal_import_benchmark.py --deals 100000 --naive 2000

Each measurement runs in a fresh child process (peak RSS from getrusage is that process's alone). The
database first holds 200 campaigns with a year of daily ad data (the days the derived figures land on);
the service then imports the file twice: the first import creates every deal, the second (a later export:
the same deals, re-staged) updates them all. The naive baseline runs on a smaller file and its time is
extrapolated linearly to the full count, which flatters it: its per-day saves grow with the days touched.
The machine's load average is printed: other work on the machine slows every number here.
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
CAMPAIGNS = 200
DAYS = 365
PREFIX = "BENCHD-"
HEADER = "Record ID,Deal Name,Deal Stage,Amount,Create Date,Close Date,Pipeline,Original Source Drill-Down 2\n"
STAGES = ("Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled", "Contract Sent", "Closed Lost")


def write_csv(path: Path, deals: int, *, seed: int, restaged: bool = False) -> None:
    """Deals over a year: most name a campaign by id, some by name, some by a name nothing matches, some none."""
    rng = random.Random(seed)
    start = dt.date(2025, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for n in range(deals):
            created = start + dt.timedelta(days=rng.randrange(DAYS - 40))
            campaign = rng.randrange(CAMPAIGNS)
            roll = rng.random()
            reference = (
                f"{PREFIX}{campaign:04d}"
                if roll < 0.85
                else f"Bench campaign {campaign}"
                if roll < 0.9
                else f"Webinar {campaign % 17}"
                if roll < 0.95
                else ""
            )
            won = rng.random() < (0.45 if restaged else 0.3)
            stage = "Closed Won" if won else rng.choice(STAGES)
            closed = f"{created + dt.timedelta(days=rng.randrange(7, 40)):%m/%d/%Y}" if won else ""
            amount = rng.uniform(500, 50_000)
            out.write(
                f'{PREFIX}{n},Deal {n},{stage},"${amount:,.2f}",{created.isoformat()} 10:00,{closed},'
                f"Sales Pipeline,{reference}\n"
            )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # As in production: with DEBUG on, Django formats every statement's parameters into its query log, which
    # cost the import about 40% of its CPU time here.
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()


def _ensure_campaigns() -> None:
    from decisions.models import Campaign, DailyMetric

    if Campaign.objects.filter(external_id__startswith=PREFIX).count() == CAMPAIGNS:
        return
    Campaign.objects.filter(external_id__startswith=PREFIX).delete()
    Campaign.objects.bulk_create(
        Campaign(external_id=f"{PREFIX}{i:04d}", name=f"Bench campaign {i}", channel="search") for i in range(CAMPAIGNS)
    )
    start = dt.date(2025, 1, 1)
    ids = Campaign.objects.filter(external_id__startswith=PREFIX).values_list("pk", flat=True)
    DailyMetric.objects.bulk_create(
        (DailyMetric(campaign_id=pk, date=start + dt.timedelta(days=d), spend=100) for pk in ids for d in range(DAYS)),
        batch_size=5000,
    )


def _forget_deals() -> None:
    from decisions.models import DailyMetric, Deal

    Deal.objects.filter(deal_id__startswith=PREFIX).delete()
    DailyMetric.objects.filter(campaign__external_id__startswith=PREFIX).update(
        pipeline_value=None, closed_revenue=None
    )


def child_service(deals: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    # The follow-ups an import queues load the engine (numpy, scikit-learn: about 110 MB); loaded first, so
    # that "startup" holds them and the difference is what importing deals itself needed.
    import decisions.outcomes.tasks  # noqa: F401
    import decisions.review.tasks  # noqa: F401
    from decisions.models import Deal

    _ensure_campaigns()
    _forget_deals()
    result = {"deals": deals, "database": connection.vendor, "startup_mb": peak_rss_mb()}
    with tempfile.TemporaryDirectory() as folder:
        for run, restaged in (("first", False), ("again", True)):
            path = Path(folder) / f"deals-{run}.csv"
            write_csv(path, deals, seed=11, restaged=restaged)
            began, cpu = time.perf_counter(), time.process_time()
            call_command("import_deals", str(path), stdout=io.StringIO(), stderr=io.StringIO())
            result[f"{run}_seconds"] = time.perf_counter() - began
            result[f"{run}_cpu"] = time.process_time() - cpu
            result["file_mb"] = path.stat().st_size / 2**20
    result["stored"] = Deal.objects.filter(deal_id__startswith=PREFIX).count()
    result["peak_mb"] = peak_rss_mb()
    return result


def child_naive(deals: int) -> dict:
    """Row by row: update_or_create per deal, then per derived campaign-day (what a first version would do)."""
    from collections import defaultdict

    from django.db import connection, transaction

    from decisions.data.deal_matching import Resolver
    from decisions.data.deals import DealFile, reference_key
    from decisions.models import DailyMetric, Deal

    _ensure_campaigns()
    _forget_deals()
    startup = peak_rss_mb()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deals-naive.csv"
        write_csv(path, deals, seed=11)
        began, cpu = time.perf_counter(), time.process_time()
        with transaction.atomic(), path.open("rb") as stream:
            resolver, pipeline = Resolver(), defaultdict(float)
            for row in DealFile(stream).rows():
                match = resolver.match(row.campaign_ref)
                Deal.objects.update_or_create(
                    source="hubspot",
                    deal_id=row.deal_id,
                    defaults={
                        "name": row.name,
                        "stage": row.stage,
                        "amount": row.amount,
                        "created_date": row.created,
                        "close_date": row.closed,
                        "won": row.won,
                        "campaign_ref": row.campaign_ref,
                        "campaign_ref_key": reference_key(row.campaign_ref),
                        "campaign_id": match.campaign_id,
                        "matched_by": match.matched_by,
                    },
                )
                if match.campaign_id and row.amount is not None:
                    pipeline[(match.campaign_id, row.created)] += float(row.amount)
            for (campaign_id, day), value in pipeline.items():
                DailyMetric.objects.update_or_create(
                    campaign_id=campaign_id, date=day, defaults={"pipeline_value": round(value, 2)}
                )
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {
        "deals": deals,
        "database": connection.vendor,
        "seconds": seconds,
        "cpu": cpu,
        "startup_mb": startup,
        "peak_mb": peak_rss_mb(),
    }


def _child(kind: str, deals: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(deals)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=500_000)
    parser.add_argument("--naive", type=int, default=5_000, help="deals for the naive baseline (extrapolated)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _setup_django()
        kind, deals = args.child[0], int(args.child[1])
        print(json.dumps(child_service(deals) if kind == "service" else child_naive(deals)))
        return
    load = os.getloadavg()
    service = _child("service", args.deals)
    naive = _child("naive", args.naive)
    assert service["stored"] == args.deals, f"stored {service['stored']} of {args.deals} deals"
    scale = args.deals / args.naive
    print(
        f"database: {service['database']}; load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"({os.cpu_count()} CPUs), at end {os.getloadavg()[0]:.1f}; file {service['file_mb']:.0f} MB"
    )
    print(
        f"{'import':<44} {'deals':>9} {'seconds':>8} {'deals/s':>8} {'CPU s':>7} {'deals/CPU s':>11} "
        f"{'peak MB':>8} {'import MB':>10}"
    )
    rows = [
        ("import_deals, first export (all new)", args.deals, service["first_seconds"], service["first_cpu"], service),
        (
            "import_deals, later export (all updated)",
            args.deals,
            service["again_seconds"],
            service["again_cpu"],
            service,
        ),
        (f"naive ORM, measured on {args.naive:,}", args.naive, naive["seconds"], naive["cpu"], naive),
        (f"naive ORM, extrapolated ×{scale:,.0f}", args.deals, naive["seconds"] * scale, naive["cpu"] * scale, None),
    ]
    for label, deals, seconds, cpu, child in rows:
        memory = (
            f"{child['peak_mb']:>8.0f} {child['peak_mb'] - child['startup_mb']:>10.0f}"
            if child
            else f"{'—':>8} {'—':>10}"
        )
        print(
            f"{label:<44} {deals:>9,} {seconds:>8.1f} {deals / seconds:>8,.0f} "
            f"{cpu:>7.1f} {deals / cpu:>11,.0f} {memory}"
        )
    print(
        "peak MB: the process's peak RSS, Django and the engine's modules included (the service's covers both of "
        "its imports); import MB: peak minus the RSS before importing; CPU s: the process's CPU time (SQLite runs "
        "inside it; PostgreSQL's server work is not counted), what the wall time would near on an idle machine"
    )


if __name__ == "__main__":
    main()
