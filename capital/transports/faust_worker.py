"""Faust workers on Kafka running the same handlers as the in-memory bus.

Run with `capital worker tracker|notifier|all` (see `capital.cli`).

Design choices, from how faust-streaming really behaves:
- topics are read as raw bytes and decoded by our own codec, so a message Faust could not
  decode is never skipped silently: the handler sends it to the dead-letter topic;
- agent concurrency is 1, so an offset is committed only after its message was handled;
- blocking database work runs in a thread (`asyncio.to_thread`), never on the event loop;
- a handler failure is retried with backoff; database outages are retried until the
  database is back, any other error goes to the dead-letter topic after a few attempts.
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
        # Faust acks an event when the loop takes the next one, so nothing is acked before
        # its outputs are on the broker: `_send_all` retries until they are, and is
        # shielded so a shutdown mid-send still finishes it. (Manual acks with
        # `stream.noack()` stopped offsets being committed at all in faust-streaming 0.15.)
        async for event in stream.events():
            raw: bytes = event.value if event.value is not None else b""
            messages = await _handle_with_retries(handler, raw, topic_name)
            await asyncio.shield(_send_all(outgoing, messages))

    consume.__name__ = f"consume_{topic_name.replace('.', '_').replace('-', '_')}"
    app.agent(source, name=consume.__name__, concurrency=1)(consume)


async def _handle_with_retries(handler: Handler, raw: bytes, topic_name: str) -> list[Message]:
    attempt = 0
    while True:
        attempt += 1
        try:
            return await asyncio.to_thread(handler, raw)
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
            if attempt >= MAX_ATTEMPTS_FOR_UNEXPECTED_ERRORS:
                return [dead_letter(topic_name, raw, f"handler failed: {error!r}")]
            await asyncio.sleep(attempt)


async def _send_all(outgoing: dict[str, Any], messages: list[Message]) -> None:
    """Send and wait for the broker's ack, retrying until it takes them: the handlers
    already committed their effects, so giving up here would lose their outputs."""
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
