"""How long `capital` takes to start: `capital --help` and `capital scheme ID`, timed in
fresh processes, beside a bare `python -c pass`; with `--compare DIR`, the same commands
of another checkout (an earlier commit: `git worktree add /tmp/before main`) in the same
run, with the ratios.

    .venv/bin/python bench/startup.py [--runs 9] [--compare /tmp/before]

Each checkout gets its own embedded database (`capital demo`, in a temporary folder), so
`capital scheme CYPE-018` reads a real scheme. Wall time is what a person waits; CPU time
(user + system, of the child) is steadier on a shared machine, so both are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
COMMANDS: dict[str, list[str]] = {
    "capital --help": ["--help"],
    "capital scheme CYPE-018": ["scheme", "CYPE-018"],
}
ENTRY = "import sys; from capital.cli import main; sys.argv[0] = 'capital'; main()"


@dataclass(frozen=True)
class Timing:
    wall: list[float]
    cpu: list[float]

    def row(self) -> str:
        return (
            f"{min(self.wall) * 1000:7.0f} {statistics.median(self.wall) * 1000:7.0f} "
            f"{min(self.cpu) * 1000:7.0f}"
        )


def timed(argv: list[str], env: dict[str, str], cwd: Path, runs: int) -> Timing:
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return Timing(walls, cpus)


def checkout_env(source: Path, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPITAL_")}
    env["PYTHONPATH"] = str(source)
    env["CAPITAL_DATABASE_URL"] = f"sqlite:///{folder / 'capital.db'}"
    env["CAPITAL_LOGIN_FILE"] = str(folder / "no-login.json")
    env["COLUMNS"] = "120"
    return env


def measure(source: Path, runs: int) -> dict[str, Timing]:
    with tempfile.TemporaryDirectory(prefix="capital-startup-") as name:
        folder = Path(name)
        env = checkout_env(source, folder)
        subprocess.run(
            [sys.executable, "-c", ENTRY, "demo"],
            env=env,
            cwd=folder,
            check=True,
            capture_output=True,
        )
        found = {"python -c pass": timed([sys.executable, "-c", "pass"], env, folder, runs)}
        for label, args in COMMANDS.items():
            argv = [sys.executable, "-c", ENTRY, *args]
            timed(argv, env, folder, 1)  # compiles the checkout's bytecode once
            found[label] = timed(argv, env, folder, runs)
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--compare", type=Path, help="another checkout to time beside this one")
    args = parser.parse_args()
    print(
        f"{platform.node()} · {os.cpu_count()} CPUs · Python {platform.python_version()} · "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC · load {os.getloadavg()[0]:.1f} · "
        f"{args.runs} runs each"
    )
    here = measure(HERE, args.runs)
    there = measure(args.compare.resolve(), args.runs) if args.compare else None
    print(f"{'command':<26} {'checkout':<10} {'min ms':>7} {'median':>7} {'cpu ms':>7}")
    for label, timing in here.items():
        print(f"{label:<26} {'this':<10} {timing.row()}")
        if there is not None:
            other = there[label]
            print(f"{'':<26} {'compare':<10} {other.row()}")
            print(
                f"{'':<26} {'ratio':<10} {min(other.wall) / min(here[label].wall):6.2f}x "
                f"{'':7} {min(other.cpu) / max(min(here[label].cpu), 1e-3):6.2f}x"
            )


if __name__ == "__main__":
    main()
