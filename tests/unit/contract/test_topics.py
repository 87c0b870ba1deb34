"""The AsyncAPI document's who-reads-what is the wiring the workers really run."""

from __future__ import annotations

from capital.bootstrap import WORKER_TOPICS
from events.topics import ALL_TOPICS, CHANNELS


def test_each_worker_consumes_the_topics_the_contract_says_it_does():
    described = {
        service: tuple(c.topic for c in CHANNELS if service in c.consumers)
        for service in WORKER_TOPICS
    }
    assert described == WORKER_TOPICS


def test_every_topic_is_described_once():
    assert sorted(c.topic for c in CHANNELS) == sorted(ALL_TOPICS)


def test_the_topics_with_handlers_are_those_the_contract_says_a_service_consumes(container):
    services = set(WORKER_TOPICS)
    consumed = {c.topic for c in CHANNELS if services & set(c.consumers)}
    assert set(container.routes) == consumed
