"""What a Faust worker tells its operator: the partitions it was given at each rebalance,
and its lag on them, printed when either changes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import faust

from capital.transports.kafka_admin import PartitionLag, consumer_lag

log = logging.getLogger(__name__)

LAG_CHECK_INTERVAL_S = 10.0


def report_progress(
    app: faust.App,
    bootstrap: str,
    group: str,
    topic_names: Sequence[str],
    say: Callable[[str], None] = lambda line: print(line, flush=True),
) -> None:
    """Print the partitions this worker holds after every rebalance, and its lag on them
    then and whenever it changes (checked every `LAG_CHECK_INTERVAL_S`)."""
    held: set[tuple[str, int]] = set()
    last_shown: dict[tuple[str, int], int] = {}

    async def show_lag(always: bool) -> None:
        if not held:
            return
        try:
            rows = await asyncio.to_thread(consumer_lag, bootstrap, {group: topic_names})
        except Exception as error:  # the worker goes on; only the report is missing
            log.warning("cannot read the lag of %s: %s", group, error)
            return
        mine = {
            (row.topic, row.partition): row for row in rows if (row.topic, row.partition) in held
        }
        lags = {key: row.lag for key, row in mine.items()}
        if always or lags != last_shown:
            last_shown.clear()
            last_shown.update(lags)
            say(f"{group}: lag {sum(lags.values())} " + _partitions(mine.values()))

    async def on_assigned(_app: Any, *args: Any, signal: Any, **_: Any) -> None:
        [assigned] = args
        now = {(tp.topic, tp.partition) for tp in assigned if tp.topic in topic_names}
        if now == held:
            return
        held.clear()
        held.update(now)
        shown = ", ".join(f"{topic}[{partition}]" for topic, partition in sorted(held))
        say(f"{group}: assigned {len(held)} partition(s): {shown or 'none'}")
        await show_lag(always=True)

    app.on_partitions_assigned.connect(on_assigned)  # type: ignore[arg-type]  # mode types it narrowly

    @app.timer(LAG_CHECK_INTERVAL_S)
    async def lag_check() -> None:
        await show_lag(always=False)


def _partitions(rows: Iterable[PartitionLag]) -> str:
    shown = sorted(rows, key=lambda row: (row.topic, row.partition))
    return "(" + ", ".join(f"{row.topic}[{row.partition}] {row.lag}" for row in shown) + ")"
