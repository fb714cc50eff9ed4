"""A real process holding a proxy fault is interrupted (SIGINT, or SIGTERM under sigterm_as_interrupt):
it reverts before it exits. SIGKILL leaves the fault and its journal entry, and the sweep removes both."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.faults import Journal, ProxyApi, sweep

CHILD = textwrap.dedent(
    """
    import sys, time
    from harness.faults import Journal, ProxyFault, applied, sigterm_as_interrupt
    fault = ProxyFault("latency", "redis", sys.argv[1], (("latency", 500),))
    try:
        with sigterm_as_interrupt(), applied(fault, Journal(sys.argv[2])):
            print("in force", flush=True)
            time.sleep(60)
    except KeyboardInterrupt as exc:
        print(f"interrupted: {exc}", flush=True)
        sys.exit(130)
    """
)


def start_child(proxy_url: str, journal: Journal) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, proxy_url, str(journal.path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "in force"
    assert ProxyApi(proxy_url).proxy("redis").toxic("harness-latency-downstream") is not None
    assert len(journal.entries()) == 1
    return child


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_reverts_before_it_exits(tmp_path: Path, proxy_url: str, signum: int) -> None:
    journal = Journal(tmp_path / "j.json")
    child = start_child(proxy_url, journal)
    try:
        child.send_signal(signum)
        out, _ = child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 130 and "interrupted" in out
    assert ProxyApi(proxy_url).proxy("redis").toxics == ()
    assert not journal.path.exists()


def test_a_sigkilled_run_is_cleaned_by_the_sweep(tmp_path: Path, proxy_url: str) -> None:
    journal = Journal(tmp_path / "j.json")
    child = start_child(proxy_url, journal)
    child.kill()
    child.wait(20)
    assert ProxyApi(proxy_url).proxy("redis").toxics != ()
    report = sweep(journal, None, proxy_url)
    assert report.ok and len(report.cleaned) == 1
    assert ProxyApi(proxy_url).proxy("redis").toxics == ()
    assert not journal.path.exists()
