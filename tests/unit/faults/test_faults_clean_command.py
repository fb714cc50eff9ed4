"""`python -m harness clean` prints what it cleaned and exits 0, or 2 when something could not be cleaned."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.commands import clean
from harness.faults import ContainerFault, Journal, ProxyApi
from harness.faults.burst import HELPER, HELPER_LABEL, HELPER_PROJECT_LABEL, IMAGE
from harness.faults.fake import FakeContainer, FakeStack
from harness.state import ProjectLock, StackBusy, journal_path


def run_clean(monkeypatch: pytest.MonkeyPatch, stack: FakeStack, *argv: str) -> int:
    monkeypatch.setattr(clean, "open_stack", lambda args: (stack, SimpleNamespace(name="demo")))
    # slas.yaml names the reference stack's Pushgateway: a unit test must never sweep a live run's groups.
    monkeypatch.setattr(clean, "delete_stale_groups", lambda url, job: ())
    parser = argparse.ArgumentParser()
    clean.add_arguments(parser)
    return clean.run(parser.parse_args(list(argv)))


def test_clean_reverts_and_says_what(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, proxy_url: str
) -> None:
    journal = Journal(tmp_path / "j.json")
    stopped = FakeContainer("pg")
    fault = ContainerFault("stop", "pg", stopped, settle_timeout=0.5)
    journal.add(fault.record(), pid=4242, since=0.0)
    fault.inject()
    ProxyApi(proxy_url).set_enabled("redis", False)
    code = run_clean(
        monkeypatch, FakeStack(stopped), "--proxy-url", proxy_url, "--journal", str(journal.path)
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "cleaned: reverted stop service pg (container pg) (journal, pid 4242)" in out
    assert "cleaned: enabled proxy redis" in out
    assert out.rstrip().endswith("stack demo: no fault left in force")
    assert stopped.running and ProxyApi(proxy_url).proxy("redis").enabled


def test_clean_with_nothing_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run_clean(
        monkeypatch, FakeStack(FakeContainer("pg")), "--no-proxy", "--journal", str(tmp_path / "j")
    )
    assert code == 0
    assert capsys.readouterr().out == "stack demo: no fault left in force (nothing to clean)\n"


def test_clean_exits_2_when_the_proxy_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = run_clean(
        monkeypatch, FakeStack(), "--proxy-url", "http://127.0.0.1:9", "--journal", str(tmp_path / "j")
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "harness clean: could not clean: fault proxy http://127.0.0.1:9 does not answer" in captured.err


def test_clean_refuses_while_a_run_holds_the_stack_and_reverts_nothing(
    monkeypatch: pytest.MonkeyPatch, state_home: Path
) -> None:
    paused = FakeContainer("pg")
    paused.pause()
    with ProjectLock("demo"), pytest.raises(StackBusy, match=r"^stack project demo is in use by pid \d+ "):
        run_clean(monkeypatch, FakeStack(paused), "--no-proxy")
    assert not paused.running


def test_clean_reads_the_projects_journal_by_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_home: Path
) -> None:
    stopped = FakeContainer("pg")
    fault = ContainerFault("stop", "pg", stopped, settle_timeout=0.5)
    Journal(journal_path("demo")).add(fault.record(), pid=4242, since=0.0)
    fault.inject()
    assert run_clean(monkeypatch, FakeStack(stopped), "--no-proxy") == 0
    assert "cleaned: reverted stop service pg (container pg) (journal, pid 4242)" in capsys.readouterr().out
    assert stopped.running and not journal_path("demo").exists()


def test_clean_removes_a_burst_helper_that_only_its_labels_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stack = FakeStack(FakeContainer("ollama"), project="demo")
    labels = {
        HELPER_LABEL: HELPER,
        HELPER_PROJECT_LABEL: "demo",
        "harness.fault": "ollama_load",
        "harness.target": "ollama",
    }
    helper = stack.client.containers.run(IMAGE.image, ["{}"], name="harness-burst-ollama-1", labels=labels)
    code = run_clean(monkeypatch, stack, "--no-proxy", "--journal", str(tmp_path / "j"))
    assert code == 0
    out = capsys.readouterr().out
    assert (
        "cleaned: removed burst helper harness-burst-ollama-1 (ollama_load on ollama, by its labels)" in out
    )
    assert helper.removed
