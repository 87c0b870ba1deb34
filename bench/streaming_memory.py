"""Peak memory of `capital publish FILE` on the embedded default as the file grows: the
same generated events (the realistic mix of `budget_by_source.generate`) at each size, each
published into a fresh SQLite database by a fresh process, its peak resident set read from
the kernel (`getrusage` of the child). With `--compare DIR`, the same files are published
by another checkout (an earlier commit) in the same run.

    .venv/bin/python bench/streaming_memory.py [--sizes 20000 100000] [--compare /tmp/before]

Memory that stays flat as the file grows is what streaming promises; the time each run
takes is printed too (it is not what this bench is for: see the throughput bench).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from budget_by_source import generate  # noqa: E402

EVENTS_PER_SCHEME = 50
PEAK = (
    "import resource, subprocess, sys; "
    "done = subprocess.run(sys.argv[1:], capture_output=True); "
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
    "print(done.returncode, peak, done.stdout.decode().strip().splitlines()[-1:])"
)
ENTRY = "import sys; from capital.cli import main; sys.argv[0] = 'capital'; main()"


def write_events(path: Path, events: int, seed: int = 12) -> None:
    with path.open("w", encoding="utf-8") as out:
        for applied in generate(max(events // EVENTS_PER_SCHEME, 1), events, seed):
            out.write(applied.event.model_dump_json(exclude_none=True) + "\n")


def publish_peak(source: Path, events_file: Path, folder: Path) -> tuple[int, float, str]:
    """Peak RSS in KB, seconds taken and the summary line of one `capital publish`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPITAL_")}
    env["PYTHONPATH"] = str(source)
    env["CAPITAL_DATABASE_URL"] = f"sqlite:///{folder / 'capital.db'}"
    env["CAPITAL_LOGIN_FILE"] = str(folder / "no-login.json")
    env["CAPITAL_TODAY"] = "2027-01-01"
    start = time.perf_counter()
    # A wrapper process measures its only child: ru_maxrss of RUSAGE_CHILDREN is the
    # largest of all children ever waited for, so each measurement needs its own parent.
    done = subprocess.run(
        [sys.executable, "-c", PEAK, sys.executable, "-c", ENTRY, "publish", str(events_file)],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    code, peak, summary = done.stdout.split(" ", 2)
    if code not in ("0", "1"):
        raise SystemExit(f"publish failed ({code}): {done.stderr[-2000:]}")
    return int(peak), seconds, summary.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--compare", type=Path, help="another checkout to measure beside")
    args = parser.parse_args()
    print(
        f"{platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · load {os.getloadavg()[0]:.1f}"
    )
    checkouts = {"this": HERE.parent}
    if args.compare:
        checkouts["compare"] = args.compare.resolve()
    peaks: dict[tuple[str, int], int] = {}
    print(f"{'events':>8} {'checkout':<8} {'peak MB':>8} {'KB/event':>9} {'seconds':>8}  summary")
    with tempfile.TemporaryDirectory(prefix="capital-stream-") as name:
        folder = Path(name)
        for size in args.sizes:
            events_file = folder / f"events-{size}.jsonl"
            write_events(events_file, size)
            for label, source in checkouts.items():
                run_folder = folder / f"{label}-{size}"
                run_folder.mkdir()
                peak, seconds, summary = publish_peak(source, events_file, run_folder)
                peaks[label, size] = peak
                print(
                    f"{size:>8} {label:<8} {peak / 1024:8.1f} {peak / size:9.2f} "
                    f"{seconds:8.1f}  {summary}"
                )
    smallest, largest = min(args.sizes), max(args.sizes)
    for label in checkouts if largest > smallest else []:
        grown = peaks[label, largest] - peaks[label, smallest]
        print(
            f"{label}: peak grows {grown / 1024:.1f} MB from {smallest:,} to {largest:,} "
            f"events ({grown / (largest - smallest) * 1024:.0f} bytes per extra event)"
        )
    if args.compare:
        for size in args.sizes:
            ratio = peaks["compare", size] / peaks["this", size]
            print(f"{size:,} events: compare/this peak = {ratio:.2f}x")


if __name__ == "__main__":
    main()
