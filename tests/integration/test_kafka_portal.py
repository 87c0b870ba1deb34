"""The portal on the Kafka transport: a project manager's slip saved in the portal goes
through the broker to a real tracker worker, and the head of capital's board shows it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from capital.api import create_app
from capital.bootstrap import bootstrap
from capital.settings import Settings, WebSettings
from tests.integration.kafka_deployment import KafkaDeployment
from tests.portal import PASSWORD, PEOPLE, PM_SCHEME, ROLES, TODAY, project_managers_scheme

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def signed_in(app, email: str) -> tuple[TestClient, str]:
    browser = TestClient(app)
    form = browser.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = browser.post(
        "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 200, answer.text
    return browser, re.search(r'name="csrf_token" value="([^"]+)"', answer.text).group(1)


def test_a_slip_saved_in_the_portal_reaches_the_board_through_a_kafka_worker(
    kafka_deployment: KafkaDeployment, tmp_path
):
    kafka_deployment.start_worker("tracker")
    admin = {"CAPITAL_ACTOR": PEOPLE.admin}
    for email, role in ROLES.items():
        added = kafka_deployment.cli(
            "users", "add", email, "--role", role, "--password-stdin", input=PASSWORD, **admin
        )
        assert added.returncode == 0, added.stderr
    scheme = tmp_path / "scheme.jsonl"
    scheme.write_text("".join(e.model_dump_json() + "\n" for e in project_managers_scheme()))
    published = kafka_deployment.cli(
        "publish", str(scheme), "--wait", "--timeout", "180", **admin, CAPITAL_TODAY=str(TODAY)
    )
    assert published.returncode == 0, published.stderr + kafka_deployment.worker_logs()
    settings = Settings(
        bus="kafka",
        kafka_bootstrap=kafka_deployment.bootstrap,
        kafka_topic_prefix=kafka_deployment.prefix,
        database_url=kafka_deployment.database_url,
        today=TODAY,
        web=WebSettings(publish_wait_seconds=120),
    )
    container = bootstrap(settings)
    try:
        app = create_app(container)
        manager, csrf = signed_in(app, PEOPLE.project_manager)
        slip = {
            "occurred_on-day": "29", "occurred_on-month": "7", "occurred_on-year": "2024",
            "anticipated_completion-day": "31", "anticipated_completion-month": "1",
            "anticipated_completion-year": "2025", "reason": "Steel deck corroded",
            "csrf_token": csrf,
        }  # fmt: skip

        saved = manager.post(f"/schemes/{PM_SCHEME}/record/completion-revised", data=slip)

        assert saved.status_code == 200, saved.text + kafka_deployment.worker_logs()
        assert "The scheme is now red" in saved.text
        assert "Steel deck corroded" in saved.text
        head, _ = signed_in(app, PEOPLE.head_of_capital)
        board = " ".join(head.get("/schemes", params={"rag": "red", "q": PM_SCHEME}).text.split())
        assert "<strong>1 scheme</strong>: 1 red, 0 amber, 0 green." in board
        assert f'href="/schemes/{PM_SCHEME}">{PM_SCHEME}</a>' in board
    finally:
        container.close()
