"""Benchmark: `capital projection rebuild --from-log` of 1,000,000 events on PostgreSQL.

    .venv/bin/python bench/rebuild.py [--events 1000000] [--schemes 20000]
    .venv/bin/python bench/rebuild.py --database-url postgresql+psycopg://capital@127.0.0.1:15432/capital_rebuild_bench

Builds the data set once into the database (kept for later runs; it must exist, see
bench/README.md): the realistic events of `bench/budget_by_source.py`, written with the
tracker's row builders in bulk, on a schema made by the product's migrations. Then times
the rebuild (replay through today's fold into fresh tables, swap) and prints events/s and
this process's peak memory. The target is under 5 minutes for 1,000,000 events.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, text

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from budget_by_source import write_data_set  # noqa: E402

from capital.migrations import upgrade_schema  # noqa: E402
from programme.rag import RagPolicy  # noqa: E402
from projection.database import make_engine  # noqa: E402
from projection.rebuild import FreshTables  # noqa: E402
from projection.tables import SchemeEvent  # noqa: E402
from services.tracker.rebuild import LogSource, rebuild_projection  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://capital@127.0.0.1:15432/capital_rebuild_bench"
TARGET_S = 300


def main() -> None:
    args = _arguments()
    engine = make_engine(args.database_url)
    upgrade_schema(engine)
    with engine.connect() as connection:
        held = connection.execute(select(func.count()).select_from(SchemeEvent)).scalar_one()
    if held != args.events:
        started = time.perf_counter()
        with engine.begin() as connection:
            for table in ("funding_movement", "scheme_version", "scheme_event", "scheme"):
                connection.execute(text(f"DELETE FROM {table}"))
        write_data_set(engine, args.schemes, args.events, args.seed)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        print(f"built {args.events:,} events in {time.perf_counter() - started:.0f} s")
    last_shown = [0.0]

    def progress(done: int, total: int) -> None:
        if time.perf_counter() - last_shown[0] > 15:
            last_shown[0] = time.perf_counter()
            print(f"  {done:,} / {total:,}", flush=True)

    now = dt.datetime.now(dt.UTC)
    report = rebuild_projection(
        FreshTables(engine),
        LogSource(),
        RagPolicy(),
        today=now.date(),
        now=now,
        latest=now,
        progress=progress,
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"rebuilt {report.events:,} events, {report.schemes:,} schemes in {report.seconds:.0f} s "
        f"({report.events / report.seconds:,.0f} events/s; target under {TARGET_S} s for "
        f"1,000,000); peak memory {peak_mb:,.0f} MB"
    )
    engine.dispose()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--schemes", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20240729)
    return parser.parse_args()


if __name__ == "__main__":
    main()
