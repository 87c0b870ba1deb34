"""`capital publish` streams its input: a chunk of lines is read, checked and published
before the next is read, and what is refused is reported by line as before."""

from __future__ import annotations

import datetime as dt

from capital.application.publishing import LineError, publish, publish_lines
from capital.bootstrap import bootstrap
from capital.settings import Settings
from capital.transports import Message
from events import Envelope
from tests.builders import event, operator_as, registered


def lines_of(*items: Envelope | bytes) -> list[bytes]:
    return [
        item.model_dump_json().encode() if isinstance(item, Envelope) else item for item in items
    ]


def test_each_chunk_is_published_before_the_next_is_read(container):
    reads: list[int] = []
    published_when: list[int] = []
    source = lines_of(
        registered("S-1"), event("scheme.started", "2024-02-01", "S-1"),
        registered("S-2"), event("scheme.started", "2024-02-01", "S-2"),
        registered("S-3"),
    )  # fmt: skip

    def read():
        for number, line in enumerate(source, start=1):
            reads.append(number)
            yield line

    principal = operator_as("pm.tester", container)

    def publish_chunk(numbered):
        published_when.append(len(reads))
        return publish(container, numbered, principal)

    report = publish_lines(read(), publish_chunk, lambda errors: None, chunk_size=2)

    assert published_when == [2, 4, 5]  # never more than a chunk read ahead
    assert (report.published, report.refused_lines, report.ok) == (5, 0, True)


def test_refusals_name_their_lines_in_every_chunk(container):
    source = lines_of(
        registered("S-1"),
        b"{not json",
        b"",
        event("scheme.started", "2024-02-01", "S-1"),
        event("scheme.started", "2024-02-01", "NOPE-1"),
        b"\xff\xfe",
    )
    principal = operator_as("pm.tester", container)
    reported: list[list[LineError]] = []

    report = publish_lines(
        source, lambda numbered: publish(container, numbered, principal), reported.append, 2
    )

    assert [[e.line for e in chunk] for chunk in reported] == [[2], [5, 6]]  # lines 1-2, 5-6
    assert "NOPE-1" in reported[1][0].reason and "UTF-8" in reported[1][1].reason
    assert (report.published, report.refused_lines, report.ok) == (2, 3, False)


class Recorded:
    """A bus whose consumer has not run yet, as on Kafka: messages are only kept."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, messages: list[Message]) -> None:
        self.sent.extend(messages)

    def close(self) -> None:
        pass


def test_a_scheme_registered_in_an_earlier_chunk_is_known_before_it_is_tracked(sqlite_url):
    bus = Recorded()
    container = bootstrap(Settings(database_url=sqlite_url, today=dt.date(2024, 7, 29)), bus)
    try:
        principal = operator_as("pm.tester", container)
        registered_so_far: set[str] = set()
        source = lines_of(registered("S-9"), event("scheme.started", "2024-02-01", "S-9"))
        reported: list[list[LineError]] = []

        publish_lines(
            source,
            lambda numbered: publish(
                container, numbered, principal, 0, registered=registered_so_far
            ),
            reported.append,
            chunk_size=1,
        )

        assert reported == []  # no "unknown scheme" for the event of the second chunk
        assert len(bus.sent) == 2
    finally:
        container.close()
