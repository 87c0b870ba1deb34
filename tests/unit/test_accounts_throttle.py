"""The sign-in throttle: refuses after repeated failures, and forgets what has left its
window rather than growing with every made-up name tried."""

from __future__ import annotations

import datetime as dt

import pytest

from capital.application.accounts import SignInThrottle, SignInThrottled

START = dt.datetime(2024, 7, 29, 9, tzinfo=dt.UTC)


def test_an_account_is_refused_after_five_failures_until_the_window_passes():
    throttle = SignInThrottle(limit=5, window=dt.timedelta(minutes=15))
    for minute in range(5):
        throttle.failed(["account:ana"], START + dt.timedelta(minutes=minute))
    with pytest.raises(SignInThrottled):
        throttle.check(["account:ana"], START + dt.timedelta(minutes=5))
    throttle.check(["account:ana"], START + dt.timedelta(minutes=16))


def test_made_up_names_are_forgotten_once_out_of_the_window():
    throttle = SignInThrottle(limit=5, window=dt.timedelta(minutes=15))
    throttle.FORGET_BEYOND = 100
    for n in range(150):
        throttle.failed([f"account:guess{n}"], START)
    later = START + dt.timedelta(minutes=20)
    throttle.failed(["account:latest"], later)
    assert len(throttle._failures) == 1
