"""The sweep: journal entries reverted, then paused containers, harness-* toxics and disabled proxies."""

from __future__ import annotations

from pathlib import Path

from harness.faults import ContainerFault, FaultRecord, Journal, ProxyApi, ProxyFault, sweep
from harness.faults.fake import FakeContainer, FakeStack
from harness.faults.proxy import Toxic


def test_sweep_reverts_the_journal_and_what_the_state_shows(tmp_path: Path, proxy_url: str) -> None:
    journal = Journal(tmp_path / "j.json")
    killed, paused, one_shot = FakeContainer("redis"), FakeContainer("pg"), FakeContainer("init")
    stack = FakeStack(killed, paused, one_shot)
    # a crashed run: the kill and the latency were journalled, the pause was not (crash mid-write)
    for fault in (
        ContainerFault("kill", "redis", killed),
        ProxyFault("latency", "redis", proxy_url, (("latency", 100),)),
    ):
        journal.add(fault.record(), pid=99999, since=0.0)
        fault.inject()
    ContainerFault("pause", "pg", paused).inject()
    one_shot.stop(timeout=0)  # exited by design: not the sweep's business
    api = ProxyApi(proxy_url)
    api.set_enabled("postgres", False)
    foreign = Toxic("someone-elses", "latency", "downstream", 1.0, (("jitter", 0), ("latency", 7)))
    api.add_toxic("postgres", foreign)
    api.add_toxic(
        "postgres", Toxic("harness-timeout-upstream", "timeout", "upstream", 1.0, (("timeout", 0),))
    )

    report = sweep(journal, stack, proxy_url)

    assert report.ok, report.errors
    assert killed.running and paused.running and not one_shot.running
    assert api.proxy("redis").toxics == ()
    postgres = api.proxy("postgres")
    assert postgres.enabled and postgres.toxics == (foreign,)
    assert journal.entries() == []
    assert report.cleaned == (
        "reverted kill service redis (container redis) (journal, pid 99999)",
        "reverted proxy redis latency downstream () (journal, pid 99999)",
        "unpaused container pg",
        "removed toxic harness-timeout-upstream from proxy postgres",
        "enabled proxy postgres",
    )
    again = sweep(journal, stack, proxy_url)
    assert again.ok and again.cleaned == ()


def test_sweep_reports_errors_and_keeps_what_it_could_not_revert(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    stuck = FakeContainer("redis", inert=frozenset({"start"}))
    fault = ContainerFault("stop", "redis", stuck, settle_timeout=0.3)
    journal.add(fault.record(), pid=1, since=0.0)
    fault.inject()
    report = sweep(journal, FakeStack(stuck), "http://127.0.0.1:9", settle_timeout=0.3)
    assert not report.ok
    assert any("to run again" in e for e in report.errors)
    assert any("does not answer" in e for e in report.errors)
    assert len(journal.entries()) == 1


def test_container_entries_need_the_stack_and_gone_containers_are_dropped(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    journal.add(FaultRecord("container_pause", "redis", "fake-redis"), pid=1, since=0.0)
    report = sweep(journal, None, None)
    assert report.errors == ("container_pause on redis: reverting it needs the stack (--stack)",)
    report = sweep(journal, FakeStack(), None)
    assert report.ok and report.cleaned == ("container_pause on redis: container gone, nothing to revert",)
    assert journal.entries() == []


def test_a_corrupt_journal_does_not_stop_the_state_sweep(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    journal.path.write_text("[")
    paused = FakeContainer("pg")
    paused.pause()
    report = sweep(journal, FakeStack(paused), None)
    assert paused.running
    assert report.cleaned == ("unpaused container pg",)
    assert len(report.errors) == 1 and "cannot be read" in report.errors[0]


def test_a_stopped_container_that_always_runs_is_started_one_that_may_exit_is_left(tmp_path: Path) -> None:
    # No journal: the run crashed before writing it, or it was lost. The restart policy decides.
    killed = FakeContainer("redis", restart_policy="unless-stopped")
    stopped = FakeContainer("gateway", restart_policy="always")
    one_shot = FakeContainer("migrate", restart_policy="on-failure")
    plain = FakeContainer("worker")
    killed.kill()
    stopped.stop(timeout=0)
    one_shot.stop(timeout=0)
    plain.kill()
    report = sweep(Journal(tmp_path / "j.json"), FakeStack(killed, stopped, one_shot, plain), None)
    assert report.ok, report.errors
    assert killed.running and stopped.running
    assert not one_shot.running and not plain.running
    assert report.cleaned == (
        "started container redis (stopped, though it always runs)",
        "started container gateway (stopped, though it always runs)",
    )


def test_a_journalled_kill_is_brought_back_whatever_the_restart_policy(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    killed = FakeContainer("redis", restart_policy="no")
    fault = ContainerFault("kill", "redis", killed)
    journal.add(fault.record(), pid=4242, since=0.0)
    fault.inject()
    report = sweep(journal, FakeStack(killed), None)
    assert killed.running and journal.entries() == []
    assert report.cleaned == ("reverted kill service redis (container redis) (journal, pid 4242)",)
