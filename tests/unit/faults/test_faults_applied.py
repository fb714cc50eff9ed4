"""applied(): journalled, injected, always reverted; the journal; SIGTERM as KeyboardInterrupt; build_fault."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from harness.catalogue.model import FaultSpec
from harness.faults import (
    ContainerFault,
    FaultError,
    FaultRecord,
    FaultRefused,
    Journal,
    ProxyApi,
    ProxyFault,
    applied,
    build_fault,
    sigterm_as_interrupt,
)
from harness.faults.fake import FakeContainer, FakeStack


def pause(container: FakeContainer) -> ContainerFault:
    return ContainerFault("pause", container.name, container, settle_timeout=0.3)


def test_journal_lists_the_fault_while_in_force_and_is_removed_after(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "reports" / "faults.json")
    container = FakeContainer("redis")
    with applied(pause(container), journal):
        document = json.loads(journal.path.read_text())
        assert [f["record"]["kind"] for f in document["faults"]] == ["container_pause"]
        assert document["faults"][0]["pid"] == os.getpid()
        assert container.attrs["State"]["Paused"]
    assert container.running
    assert not journal.path.exists()


def test_keyboard_interrupt_inside_reverts(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    container = FakeContainer("redis")
    with pytest.raises(KeyboardInterrupt), applied(pause(container), journal):
        raise KeyboardInterrupt
    assert container.running and journal.entries() == []


def test_failed_inject_is_still_reverted(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    container = FakeContainer("redis", inert=frozenset({"stop"}))
    fault = ContainerFault("stop", "redis", container, settle_timeout=0.3)
    with pytest.raises(FaultError), applied(fault, journal):
        pytest.fail("the body must not run when the inject failed")
    assert container.calls[-1] == "reload"  # revert looked, and found it running: nothing to do
    assert journal.entries() == []


def test_failed_inject_on_the_proxy_leaves_nothing(tmp_path: Path, proxy_url: str) -> None:
    journal = Journal(tmp_path / "j.json")
    fault = ProxyFault("latency", "redis", proxy_url, (("latency", 10),), stream="sideways")
    with pytest.raises(FaultError), applied(fault, journal):
        pass
    assert ProxyApi(proxy_url).proxy("redis").toxics == ()
    assert journal.entries() == []


def test_refused_fault_reverts_nothing_so_other_faults_stay(tmp_path: Path, proxy_url: str) -> None:
    journal = Journal(tmp_path / "j.json")
    container = FakeContainer("redis")
    kill = ContainerFault("kill", "redis", container, settle_timeout=0.3)
    down = ProxyFault("down", "redis", proxy_url)
    with applied(kill, journal), applied(down, journal):
        for second in (pause(container), ProxyFault("down", "redis", proxy_url)):
            with pytest.raises(FaultRefused), applied(second, journal):
                pytest.fail("the body must not run when the fault was refused")
        assert not container.attrs["State"]["Running"]
        assert ProxyApi(proxy_url).proxy("redis").enabled is False
        assert len(journal.entries()) == 2
    assert container.running and ProxyApi(proxy_url).proxy("redis").enabled
    assert journal.entries() == []


def test_failed_revert_keeps_the_journal_entry_for_clean(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    container = FakeContainer("redis", inert=frozenset({"unpause"}))
    with pytest.raises(FaultError, match="to run again"), applied(pause(container), journal):
        pass
    assert [e.record.target for e in journal.entries()] == ["redis"]


def test_journal_keeps_several_entries_and_removes_only_the_one_asked(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    first = journal.add(FaultRecord("proxy_down", "redis", "http://x"), pid=1, since=1.0)
    second = journal.add(FaultRecord("container_kill", "pg", "abc"), pid=2, since=2.0)
    journal.remove(first)
    assert journal.entries() == [second]
    journal.remove(second)
    assert not journal.path.exists()


def test_a_corrupt_journal_is_a_fault_error(tmp_path: Path) -> None:
    path = tmp_path / "j.json"
    path.write_text("{not json")
    with pytest.raises(FaultError, match="cannot be read"):
        Journal(path).entries()


def test_sigterm_becomes_keyboard_interrupt_and_the_handler_is_restored(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    container = FakeContainer("redis")
    before = signal.getsignal(signal.SIGTERM)
    with (
        pytest.raises(KeyboardInterrupt, match="SIGTERM"),
        sigterm_as_interrupt(),
        applied(pause(container), journal),
    ):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises at the latest here
        pytest.fail("SIGTERM did not interrupt")
    assert signal.getsignal(signal.SIGTERM) is before
    assert container.running and journal.entries() == []


class InterruptedWhileThawing(FakeContainer):
    """Ctrl-C pressed twice: the second one arrives in the middle of the revert."""

    def unpause(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        super().unpause()


def test_an_interrupt_during_the_revert_waits_for_the_revert_to_finish(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.json")
    container = InterruptedWhileThawing("redis")
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt, match="SIGINT while reverting"), applied(pause(container), journal):
        pass
    assert container.running and journal.entries() == []
    assert signal.getsignal(signal.SIGINT) is before


def test_build_fault_maps_catalogue_kinds() -> None:
    stack = FakeStack(FakeContainer("redis"))
    container = build_fault(FaultSpec("container_stop", "redis", (("timeout", 3.0),)), stack, "http://p:1")
    assert isinstance(container, ContainerFault)
    assert (container.action, container.container, container.stop_timeout) == ("stop", stack.all[0], 3.0)
    kill = build_fault(FaultSpec("container_kill", "redis"), stack, "http://p:1")
    assert isinstance(kill, ContainerFault) and (kill.action, kill.stop_timeout) == ("kill", None)
    spec = FaultSpec(
        "proxy_latency", "redis", (("latency", 3000.0), ("jitter", 0.0), ("toxicity", 0.5)), "upstream"
    )
    proxy = build_fault(spec, stack, "http://p:1")
    assert proxy == ProxyFault(
        "latency", "redis", "http://p:1", (("latency", 3000), ("jitter", 0)), "upstream", 0.5
    )
    assert build_fault(FaultSpec("proxy_down", "redis"), stack, "http://p:1") == ProxyFault(
        "down", "redis", "http://p:1"
    )
    with pytest.raises(FaultError, match="unknown fault kind"):
        build_fault(FaultSpec("container_explode", "redis"), stack, "http://p:1")  # type: ignore[arg-type]
