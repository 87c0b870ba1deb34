"""Generated scheme histories: long, valid streams for reliability tests and benchmarks."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from events import Envelope, new_event

NAMESPACE = uuid.UUID("2f0c8e0e-55a4-4c38-9d0b-6a4f3e3b2a11")


def generated_programme(schemes: int, events_per_scheme: int, seed: int = 7) -> list[Envelope]:
    """Interleaved histories of `schemes` schemes, each valid in its own order."""
    rng = random.Random(seed)
    histories = [_history(f"GEN-{n:05d}", events_per_scheme, rng) for n in range(schemes)]
    stream: list[Envelope] = []
    while any(histories):
        pick = rng.choice([h for h in histories if h])
        stream.append(pick.pop(0))
    return stream


def _history(scheme_id: str, length: int, rng: random.Random) -> list[Envelope]:
    start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(365))
    baseline = start + dt.timedelta(days=rng.randrange(60, 400))
    budget = rng.randrange(20, 5000) * 1000
    counter = iter(range(10**6))

    def make(kind: str, on: dt.date, **payload: object) -> Envelope:
        return new_event(
            kind,
            scheme_id,
            on,
            payload,
            actor="pm.generator",
            recorded_at=dt.datetime.combine(on, dt.time(9), dt.UTC),
            event_id=uuid.uuid5(NAMESPACE, f"{scheme_id}/{next(counter)}"),
        )

    events = [
        make(
            "scheme.registered",
            start,
            title=f"Generated scheme {scheme_id}",
            budget=budget,
            funding=[
                {
                    "source": rng.choice(["CCIP6", "CCIP7", "DfE", "Policy Provision"]),
                    "amount": budget,
                }
            ],
            baseline_completion=baseline.isoformat(),
        ),
        make("scheme.started", start),
    ]
    day, anticipated, snags = start, baseline, 0
    while len(events) < length:
        day += dt.timedelta(days=rng.randrange(1, 20))
        roll = rng.random()
        if roll < 0.3:
            anticipated += dt.timedelta(days=rng.randrange(-10, 40))
            events.append(
                make(
                    "completion.revised",
                    day,
                    anticipated_completion=anticipated.isoformat(),
                    reason="revised",
                )
            )
        elif roll < 0.45:
            snags += 1
            events.append(make("snagging.raised", day, snag_id=f"S{snags}", description="snag"))
        elif roll < 0.55 and snags:
            events.append(make("snagging.cleared", day, snag_id=f"S{snags}"))
            snags -= 1
        elif roll < 0.7:
            events.append(
                make(
                    "budget.changed",
                    day,
                    funding_source="CCIP7",
                    amount=rng.randrange(1, 50) * 500,
                    reason="variation",
                )
            )
        elif roll < 0.8:
            events.append(
                make(
                    "forecast.revised", day, forecast_outturn=budget + rng.randrange(-20, 80) * 1000
                )
            )
        else:
            events.append(
                make(
                    "progress.reported",
                    day,
                    note=f"update {len(events)}",
                    percent_complete=min(99, len(events) * 3),
                )
            )
    return events
