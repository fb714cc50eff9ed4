from pathlib import Path

import _paths  # noqa: F401  (puts stack/services on sys.path)
import pytest

from agent.state import AgentState, BufferedTask, StateCorrupt, load_state, save_state, state_path


def sample() -> AgentState:
    return AgentState(
        service="agent-orchestrator",
        saved_at=1_700_000_000.5,
        starts=3,
        tasks_completed=41,
        tasks_failed=2,
        buffered=(BufferedTask("t1", '{"input": "x"}', 7, (("X-Trace-ID", "abc"),)),),
    )


def test_round_trip(tmp_path: Path) -> None:
    path = state_path(str(tmp_path / "state"), "agent-orchestrator")
    save_state(path, sample())
    assert load_state(path) == sample()


def test_missing_file_means_no_state(tmp_path: Path) -> None:
    assert load_state(tmp_path / "none.json") is None


def test_save_replaces_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "a.state.json"
    save_state(path, sample())
    newer = AgentState(service="agent-orchestrator", saved_at=2.0, starts=4)
    save_state(path, newer)
    assert load_state(path) == newer
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.state.json"]


def test_failed_write_keeps_the_old_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.state.json"
    save_state(path, sample())

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("agent.state.os.replace", boom)
    with pytest.raises(OSError):
        save_state(path, AgentState(service="x", saved_at=1.0))
    assert load_state(path) == sample()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.state.json"]


@pytest.mark.parametrize("text", ["", "{", "[]", '{"version": 99}', '{"version": 1, "service": "x"}'])
def test_corrupt_state_is_reported(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(StateCorrupt):
        load_state(path)


def test_state_path_sanitises_the_service_name(tmp_path: Path) -> None:
    assert state_path(str(tmp_path), "../evil name").name == ".._evil_name.state.json"
    assert state_path(str(tmp_path), "../evil name").parent == tmp_path
