"""Load is bounded in users, rate and time, named by a safe run id, and aimed at loopback only."""

from __future__ import annotations

import math

import pytest
from loopback import loopback_refusal

from harness.catalogue.model import LoadBounds, LoadLevel
from harness.load import LoadError, check_level, check_loopback, check_run_id

BOUNDS = LoadBounds(max_users=50, max_rate=100.0, max_duration=600.0)


def test_a_level_at_its_bounds_passes():
    check_level(LoadLevel(users=50, spawn_rate=5, rate=100.0), 600.0, BOUNDS)


@pytest.mark.parametrize(
    ("level", "duration", "message"),
    [
        (LoadLevel(users=51, spawn_rate=5, rate=10), 60, "users 51 exceeds its bound 50"),
        (LoadLevel(users=5, spawn_rate=5, rate=100.5), 60, "rate 100.5 exceeds its bound 100"),
        (LoadLevel(users=5, spawn_rate=5, rate=10), 601, "duration 601 exceeds its bound 600"),
        (LoadLevel(users=0, spawn_rate=5, rate=10), 60, "users must be positive"),
        (LoadLevel(users=5, spawn_rate=5, rate=0), 60, "rate must be positive"),
        (LoadLevel(users=5, spawn_rate=5, rate=math.nan), 60, "rate must be positive"),
        (LoadLevel(users=5, spawn_rate=5, rate=10), -1, "duration must be positive"),
        (LoadLevel(users=5, spawn_rate=0, rate=10), 60, "spawn rate must be positive"),
        (LoadLevel(users=5, spawn_rate=5, rate=math.inf), 60, "rate must be positive"),
    ],
)
def test_a_level_out_of_bounds_is_refused_naming_the_figure(level, duration, message):
    with pytest.raises(LoadError, match=message):
        check_level(level, duration, BOUNDS)


@pytest.mark.parametrize("run_id", ["baseline", "redis-kill.2026-11-26T13_00", "a", "x" * 128])
def test_safe_run_ids_pass(run_id):
    check_run_id(run_id)


@pytest.mark.parametrize("run_id", ["", "-x", "a/b", "a b", "x" * 129, "ünï", "../etc"])
def test_run_ids_that_would_break_a_url_path_are_refused(run_id):
    with pytest.raises(LoadError, match="run id"):
        check_run_id(run_id)


LOOPBACK = [
    "http://127.0.0.1:8080",
    "http://127.0.0.1",
    "https://127.0.0.1:8443/base",
    "http://127.1.2.3:8080",
    "http://localhost:8080",
    "http://[::1]:8080",
]
NOT_LOOPBACK = [
    "http://10.0.0.1:8080",
    "http://192.168.1.1",
    "http://[::2]:8080",
    "http://example.com",
    "http://localhost.example.com:8080",
    "http://127.0.0.1.nip.io",
    "ftp://127.0.0.1",
    "127.0.0.1:8080",
    "http://",
    "http://[::1",
    "",
]


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_hosts_are_accepted_by_the_driver_and_the_locustfile(url):
    check_loopback(url)
    assert loopback_refusal(url) is None


@pytest.mark.parametrize("url", NOT_LOOPBACK)
def test_other_hosts_are_refused_by_the_driver_and_the_locustfile(url):
    with pytest.raises(LoadError):
        check_loopback(url)
    assert loopback_refusal(url)
