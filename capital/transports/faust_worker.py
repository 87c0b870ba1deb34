"""Faust workers on Kafka running the same handlers as the in-memory bus.

Run with `capital worker tracker|notifier|all` (see `capital.cli`).

Design choices, from how faust-streaming really behaves:
- topics are read as raw bytes and decoded by our own codec, so a message Faust could not
  decode is never skipped silently: the handler sends it to the dead-letter topic;
- agent concurrency is 1, so an offset is committed only after its message was handled;
- an agent takes what is waiting (`stream.take`: up to `BATCH_SIZE` messages, waiting at
  most `BATCH_WAIT_S` for more), hands the batch to its handler (the tracker applies it in
  one transaction), sends what the batch emitted, and only then lets Faust ack the batch
  (take acks a batch when the loop asks for the next one, so the body must not raise);
- blocking database work runs in a thread (`asyncio.to_thread`), never on the event loop;
- a handler failure is retried with backoff; database outages are retried until the
  database is back; a batch failing otherwise is handled again one message at a time, so
  only the message that fails goes to the dead-letter topic, after a few attempts.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from capital.settings import Settings
from capital.transports import Handler, Message, dead_letter
from capital.transports.worker_progress import report_progress
from events import topics

log = logging.getLogger(__name__)

MAX_ATTEMPTS_FOR_UNEXPECTED_ERRORS = 3
BATCH_SIZE = 1_000
BATCH_WAIT_S = 0.01
"""How long a batch waits for more messages once one is waiting: short, so a lone event is
applied at once (latency) while a backlog fills each batch (throughput)."""


def build_app(settings: Settings, routes: dict[str, Handler], name: str) -> faust.App:
    datadir = settings.worker_data_dir / name
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.kafka_group(name),
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        topic_partitions=settings.kafka_partitions,
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=settings.worker_web_port is not None,
        web_port=settings.worker_web_port or 6066,
        datadir=str(datadir),
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_heartbeat_interval=max(settings.kafka_session_timeout_s / 4, 1.0),
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
    )
    outgoing = {
        name: app.topic(settings.kafka_topic(name), key_serializer="raw", value_serializer="raw")
        for name in topics.ALL_TOPICS
    }
    for topic_name, handler in routes.items():
        _add_agent(app, outgoing, topic_name, handler)
    report_progress(
        app,
        settings.kafka_bootstrap,
        settings.kafka_group(name),
        [settings.kafka_topic(topic_name) for topic_name in routes],
    )
    return app


def _add_agent(app: faust.App, outgoing: dict[str, Any], topic_name: str, handler: Handler) -> None:
    source = outgoing[topic_name]

    async def consume(stream: Any) -> None:
        # Faust acks a taken batch when the loop asks for the next one, so nothing is
        # acked before its outputs are on the broker: `_send_all` retries until they are,
        # and is shielded so a shutdown mid-send still finishes it. (Manual acks with
        # `stream.noack()` stopped offsets being committed at all in faust-streaming 0.15.)
        async for values in stream.take(BATCH_SIZE, within=BATCH_WAIT_S):
            raws = [value if value is not None else b"" for value in values]
            messages = await _handle_batch(handler, raws, topic_name)
            await asyncio.shield(_send_all(outgoing, messages))

    consume.__name__ = f"consume_{topic_name.replace('.', '_').replace('-', '_')}"
    app.agent(source, name=consume.__name__, concurrency=1)(consume)


async def _handle_batch(handler: Handler, raws: list[bytes], topic_name: str) -> list[Message]:
    """The batch's outputs; a batch that fails for a reason other than the database being
    away is handled again message by message, so one bad message cannot hold up the rest."""
    if len(raws) > 1:
        try:
            return await _handle_with_retries(handler, raws, topic_name, attempts=1)
        except _GaveUp:
            log.warning("a batch of %d from %s failed; handling each alone", len(raws), topic_name)
    messages: list[Message] = []
    for raw in raws:
        try:
            messages += await _handle_with_retries(
                handler, [raw], topic_name, attempts=MAX_ATTEMPTS_FOR_UNEXPECTED_ERRORS
            )
        except _GaveUp as error:
            messages.append(dead_letter(topic_name, raw, error.reason))
    return messages


class _GaveUp(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _handle_with_retries(
    handler: Handler, raws: list[bytes], topic_name: str, attempts: int
) -> list[Message]:
    attempt = 0
    while True:
        attempt += 1
        try:
            return await asyncio.to_thread(handler, raws)
        except Exception as error:
            if isinstance(error, DBAPIError) and _database_unreachable(error):
                delay = min(2**attempt, 30)
                log.error(
                    "database unreachable handling %s (attempt %d), retry in %ss: %s",
                    topic_name,
                    attempt,
                    delay,
                    error,
                )
                await asyncio.sleep(delay)
                continue
            log.exception("handler for %s failed (attempt %d)", topic_name, attempt)
            if attempt >= attempts:
                raise _GaveUp(f"handler failed: {error!r}") from error
            await asyncio.sleep(attempt)


async def _send_all(outgoing: dict[str, Any], messages: list[Message]) -> None:
    """Send and wait for the broker's acks, retrying until it takes them: the handlers
    already committed their effects, so giving up here would lose their outputs.

    All are handed to the producer first, in order (it keeps that order per partition),
    and their acks awaited together. From the first that failed, the rest are sent again
    one at a time: order is kept, and a message the broker did take twice is one that
    consumers de-duplicate by its message id."""
    deliveries = []
    try:
        for message in messages:
            deliveries.append(
                await outgoing[message.topic].send(key=message.key, value=message.value)
            )
        results = await asyncio.gather(*deliveries, return_exceptions=True)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("sending a batch of %d failed; sending one by one", len(messages))
        results = [None] * len(deliveries) + [RuntimeError("not sent")] * (
            len(messages) - len(deliveries)
        )
    failed = next(
        (index for index, result in enumerate(results) if isinstance(result, BaseException)),
        None,
    )
    if failed is not None:
        await _send_each(outgoing, messages[failed:])


async def _send_each(outgoing: dict[str, Any], messages: list[Message]) -> None:
    for message in messages:
        attempt = 0
        while True:
            attempt += 1
            try:
                delivery = await outgoing[message.topic].send(key=message.key, value=message.value)
                await delivery
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = min(2**attempt, 30)
                log.exception(
                    "sending to %s failed (attempt %d), retry in %ss", message.topic, attempt, delay
                )
                await asyncio.sleep(delay)


def _database_unreachable(error: DBAPIError) -> bool:
    return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)


def run_worker(app: faust.App, loglevel: str = "info") -> None:
    """Run until SIGTERM/SIGINT; Faust commits what was handled on the way out."""
    worker = faust.Worker(app, loglevel=loglevel, redirect_stdouts=False)
    worker.execute_from_commandline()
