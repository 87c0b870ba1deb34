"""Benchmark: the programme, slippage, pack and budget-by-source reports over 2,000 schemes
and 100,000 events on PostgreSQL, now and in three past positions.

Builds the data set once in its own database (created if missing, kept between runs) with
the generator of bench/budget_by_source.py, then times each report now, `--as-at` a past
date, `--known-on` a past date and `--as-of` a past date, several times each, and prints
the median against the 1 s target. Each timing is the work of one report beyond process
start: reading the projection, folding and judging the schemes, building the report and,
for the pack, rendering it as JSON.

    .venv/bin/python bench/reports.py
    .venv/bin/python bench/reports.py --profile pack:as-at   # cProfile one of them

See bench/README.md, "Reports at scale".
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from budget_by_source import (
    build_data_set,
    count_rows,
    data_set_built,
    middle_recorded_date,
)

from programme.rag import RagPolicy
from projection.database import make_engine, session_factory
from projection.tables import Scheme, SchemeEvent
from services.reporter.model import ReportScope
from services.reporter.queries import (
    budget_by_source,
    build_pack,
    build_programme,
    build_slippage,
)
from services.reporter.render import Format, render

TARGET_S = 1.0  # issue: "each under 1 s of work beyond process start"
DATABASE = "capital_reports_bench"
POLICY = RagPolicy()

Report = Callable[[Session, ReportScope, dt.date], object]
REPORTS: dict[str, Report] = {
    "programme": lambda session, scope, judged_on: build_programme(
        session, scope, judged_on, POLICY
    ),
    "slippage": lambda session, scope, judged_on: build_slippage(session, scope, judged_on, POLICY),
    # The pack as `capital report pack --format json` writes it.
    "pack": lambda session, scope, judged_on: render(
        build_pack(session, scope, judged_on, POLICY), Format.json
    ),
    "budget-by-source": lambda session, scope, _judged_on: budget_by_source(session, scope),
}


def main() -> None:
    args = _arguments()
    ensure_database(args.database_url)
    engine = make_engine(args.database_url)
    if args.rebuild or not data_set_built(engine, args.schemes, args.events):
        build_data_set(engine, args.schemes, args.events, args.seed)
    past = middle_recorded_date(engine)
    today = dt.date.today()
    positions = {
        "now": ReportScope(),
        "as-at": ReportScope(as_at=past),
        "known-on": ReportScope(known_on=past),
        "as-of": ReportScope.as_of(past),
    }
    sessions = session_factory(engine)
    print(f"database: {engine.url.render_as_string(hide_password=True)}")
    print(
        f"data set: {count_rows(engine, Scheme):,} schemes, "
        f"{count_rows(engine, SchemeEvent):,} events; past date {past}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for name, build in REPORTS.items():
        for label, scope in positions.items():
            # RAG is judged on the position's date, as the command line does by default.
            judged_on = scope.as_at or scope.known_on or today
            if args.profile == f"{name}:{label}":
                _profile(sessions, build, scope, judged_on)
                continue
            timings = []
            for _ in range(args.runs):
                with sessions() as session:
                    started = time.perf_counter()
                    build(session, scope, judged_on)
                    timings.append(time.perf_counter() - started)
            median = statistics.median(timings)
            print(
                f"{name:<17} {label:<9} median {median * 1000:7.0f} ms   "
                f"min {min(timings) * 1000:7.0f} ms   {median / TARGET_S:5.0%} of the "
                f"{TARGET_S:g} s target"
            )
    engine.dispose()


def ensure_database(url: str) -> None:
    """Create the bench's database on the server when it is missing."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _profile(
    sessions: Callable[[], Session], build: Report, scope: ReportScope, judged_on: dt.date
) -> None:
    profiler = cProfile.Profile()
    with sessions() as session:
        profiler.runcall(build, session, scope, judged_on)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server = os.environ.get(
        "CAPITAL_TEST_POSTGRES_URL", "postgresql+psycopg://capital@127.0.0.1:15432/capital"
    )
    parser.add_argument(
        "--database-url",
        default=make_url(server).set(database=DATABASE).render_as_string(hide_password=False),
        help="PostgreSQL database of the data set (created if missing).",
    )
    parser.add_argument("--schemes", type=int, default=2_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="Timed runs per report.")
    parser.add_argument("--seed", type=int, default=20240729)
    parser.add_argument("--rebuild", action="store_true", help="Build the data set again.")
    parser.add_argument(
        "--profile", metavar="REPORT:POSITION", help="cProfile one, e.g. pack:as-at."
    )
    return parser.parse_args()


if __name__ == "__main__":
    main()
