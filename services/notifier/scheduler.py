"""The notifier's clock (APScheduler 3): the daily sweep at 07:00 Europe/London (settings:
`sweep.at`, `sweep.timezone`) and, for a long-running notifier, the outbox retried every
`sweep.dispatch_interval_s` seconds.

The jobs only work out today's date and call the functions they are given; what the sweep
does is tested by calling those functions with a fixed date, never by waiting for 07:00.
Every replica may run a scheduler: the sweep claims its date (see `sweep.py`), so it still
runs once per deployment.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from services.notifier.settings import SweepSchedule

log = logging.getLogger(__name__)

SWEEP_JOB = "daily-sweep"
CATCH_UP_JOB = "daily-sweep-catch-up"
DISPATCH_JOB = "outbox-dispatch"


def build_scheduler(
    schedule: SweepSchedule,
    sweep: Callable[[dt.date], object],
    dispatch: Callable[[], object] | None = None,
    fixed_today: dt.date | None = None,
    *,
    blocking: bool = False,
    now: Callable[[], dt.datetime] | None = None,
) -> BaseScheduler:
    """A scheduler (not started) running `sweep(today)` daily and `dispatch()` often.

    `fixed_today` pins the date the sweep is given (`--today`); otherwise it is the date
    in the schedule's time zone when the job fires. A process that starts after today's
    sweep time sweeps once at start-up, in case the replica that should have swept was
    down; the sweep's claim makes that a no-op when today was swept already.
    """
    zone = schedule.zone
    clock = now or (lambda: dt.datetime.now(zone))
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(
        timezone=zone,
        # A job that missed its moment (process busy or suspended) runs late rather than
        # never, and two overdue runs of the same job collapse into one.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )

    def daily_sweep() -> None:
        today = fixed_today or clock().astimezone(zone).date()
        log.info("daily sweep for %s", today)
        sweep(today)

    scheduler.add_job(
        daily_sweep,
        CronTrigger(hour=schedule.at.hour, minute=schedule.at.minute, timezone=zone),
        id=SWEEP_JOB,
        name=f"daily sweep at {schedule.at:%H:%M} {schedule.timezone}",
    )
    local_now = clock().astimezone(zone)
    if local_now.time() >= schedule.at:
        scheduler.add_job(daily_sweep, id=CATCH_UP_JOB, name="sweep missed today at start-up")
    if dispatch is not None:
        scheduler.add_job(
            dispatch,
            IntervalTrigger(seconds=schedule.dispatch_interval_s, timezone=zone),
            id=DISPATCH_JOB,
            name="retry due deliveries",
        )
    return scheduler
