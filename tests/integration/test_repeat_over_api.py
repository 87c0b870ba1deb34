"""The repeat check through the API: a signed-in user sending the same change twice within
minutes is asked to confirm (`capital publish --again`, `POST /api/events?again=true`)."""

from __future__ import annotations

from tests.builders import event
from tests.integration.test_login_client import capital, service, sign_in  # noqa: F401


def test_the_same_change_twice_through_the_api_needs_again(service, tmp_path):  # noqa: F811
    url, user = service
    signed_in = sign_in(url, user)
    assert signed_in.returncode == 0, signed_in.stderr

    def change_file(name: str):
        change = event(
            "budget.changed", "2024-07-29", "CYPE-018", funding_source="CCIP6",
            amount="5000", reason="Fire doors",
        )  # fmt: skip
        file = tmp_path / name
        file.write_text(change.model_dump_json(exclude={"actor", "recorded_at"}) + "\n")
        return file

    assert capital("publish", str(change_file("first.jsonl")), env=user).returncode == 0
    twice = capital("publish", str(change_file("second.jsonl")), env=user)
    assert twice.returncode == 1
    assert "recorded the same budget.changed for CYPE-018" in twice.stderr
    again = capital("publish", "--again", str(change_file("third.jsonl")), env=user)
    assert again.returncode == 0, again.stderr
