"""Bounds on what reading YAML may cost, and the refusals Compose makes too, through every reader.

An alias "bomb" of a few hundred bytes expands to billions of nodes; ``/dev/zero`` never ends; a key
written twice silently loses a value. Each is refused by ``harness.yamlsource`` with one line naming
the file and the line, and each command that reads YAML (``lint``, ``slas``, ``run``, ``judge``) says
so and exits 2 within a second or so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness import yamlsource
from harness.errors import InputError
from harness.yamlsource import load_file, load_text

ROOT = Path(__file__).resolve().parents[2]


def alias_bomb(levels: int) -> str:
    """The classic: each level a list of nine aliases of the level below, the top one a service's command."""
    lines = ['x-a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"x-a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    lines += ["services:", "  app:", "    image: busybox", f"    command: *a{levels}"]
    return "\n".join(lines) + "\n"


# --- aliases ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [8, 9])
def test_an_alias_bomb_is_refused_at_the_alias_in_linear_time(levels: int) -> None:
    start = time.monotonic()
    with pytest.raises(InputError, match=r"^bomb\.yml:7: excessive aliasing: with \*a5, aliases add more"):
        load_text(alias_bomb(levels), "bomb.yml")  # line 7: x-a6, nine times a5's 597,871 nodes
    assert time.monotonic() - start < 1


def test_aliases_adding_up_to_the_bound_load_and_one_node_more_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = "a: &a [1, 2]\nb: [*a,\n  *a]\n"  # each *a adds the list and its two items: 3 nodes
    monkeypatch.setattr(yamlsource, "MAX_ALIAS_NODES", 6)
    assert load_text(document)["b"] == [[1, 2], [1, 2]]
    monkeypatch.setattr(yamlsource, "MAX_ALIAS_NODES", 5)
    with pytest.raises(InputError, match=r"^f\.yml:3: excessive aliasing: with \*a, aliases add more than 5"):
        load_text(document, "f.yml")


def test_merge_keys_count_as_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsource, "MAX_ALIAS_NODES", 100)
    lines = ["a0: &a0 {k0: 1, k1: 1, k2: 1}"]
    lines += [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}, *a{i - 1}]}}" for i in range(1, 6)]
    with pytest.raises(InputError, match=r"^m\.yml:\d+: excessive aliasing: with \*a\d"):
        load_text("\n".join(lines) + "\n", "m.yml")


def test_real_files_are_far_from_the_alias_bound() -> None:
    four_levels = alias_bomb(4)  # 141,148 nodes from aliases: more than any compose file or catalogue
    assert len(load_text(four_levels)["services"]["app"]["command"]) == 9


def test_an_alias_inside_the_node_it_names_is_refused() -> None:
    with pytest.raises(InputError, match=r"^c\.yml:2: alias \*a is inside the node it names$"):
        load_text("a: &a\n  - *a\n", "c.yml")


# --- nesting ----------------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "v: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"  # the mapping is level 1


def test_nesting_to_the_bound_loads_and_one_level_more_is_refused() -> None:
    assert load_text(nested(yamlsource.MAX_DEPTH)) is not None
    with pytest.raises(InputError, match=rf"^n\.yml:1: nested deeper than {yamlsource.MAX_DEPTH} levels$"):
        load_text(nested(yamlsource.MAX_DEPTH + 1), "n.yml")


def test_nesting_deeper_than_python_recurses_is_one_line_not_a_traceback() -> None:
    with pytest.raises(InputError, match=r"nested deeper than"):
        load_text(nested(990), "n.yml")


# --- size -------------------------------------------------------------------------------------------


def test_a_file_at_the_size_cap_is_read_and_one_byte_more_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlsource, "MAX_BYTES", 2**20)
    path = tmp_path / "big.yml"
    path.write_text("a: 1\n#" + "x" * (2**20 - 7) + "\n")
    assert load_file(path) == {"a": 1}
    path.write_text("a: 1\n#" + "x" * (2**20 - 6) + "\n")
    with pytest.raises(InputError, match=rf"^{path}: larger than 1 MiB: not read$"):
        load_file(path)


def test_dev_zero_ends_at_the_cap() -> None:
    start = time.monotonic()
    with pytest.raises(InputError, match=r"^/dev/zero: larger than 8 MiB: not read$"):
        load_file("/dev/zero")
    assert time.monotonic() - start < 2


def test_an_endless_fifo_ends_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsource, "MAX_BYTES", 2**20)
    fifo = tmp_path / "endless.yml"
    os.mkfifo(fifo)

    def write_forever() -> None:
        with open(fifo, "wb") as stream:
            try:
                while True:
                    stream.write(b"# endless\n" * 1000)
            except BrokenPipeError:  # the reader stopped: what this test wants
                pass

    writer = threading.Thread(target=write_forever, daemon=True)
    writer.start()
    with pytest.raises(InputError, match=rf"^{fifo}: larger than 1 MiB: not read$"):
        load_file(fifo)
    writer.join(timeout=5)
    assert not writer.is_alive()


# --- through the commands ---------------------------------------------------------------------------


def harness(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    return done, time.monotonic() - start


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    return line


@pytest.fixture(params=[8, 9])
def bomb(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"bomb{request.param}.yml"
    path.write_text(alias_bomb(request.param))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["lint", "{bomb}"],
        ["slas", "--slas", "{bomb}"],
        ["run", "--slas", "{bomb}"],
        ["judge", "--slas", "{bomb}"],
    ],
    ids=["lint", "slas", "run", "judge"],
)
def test_every_command_refuses_an_alias_bomb_in_one_line(
    command: list[str], bomb: Path, tmp_path: Path
) -> None:
    args = [arg.format(bomb=bomb) for arg in command]
    if command[0] == "run":  # run checks its compose files exist before it reads the catalogue
        compose = tmp_path / "compose.yml"
        compose.write_text("services:\n  app:\n    image: busybox\n")
        args += ["--stack", str(compose)]
    done, elapsed = harness(*args)
    assert f"{bomb}:7: excessive aliasing: with *a5" in one_line(done)
    assert elapsed < 5


def test_lint_of_dev_zero_is_one_line_at_once() -> None:
    done, elapsed = harness("lint", "/dev/zero")
    assert one_line(done) == "/dev/zero: larger than 8 MiB: not read"
    assert elapsed < 5


def test_lint_names_both_lines_of_a_service_written_twice(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yml"
    compose.write_text(
        "services:\n  web:\n    image: nginx\n  db:\n    image: postgres\n  web:\n    image: httpd\n"
    )
    done, _ = harness("lint", str(compose))
    assert one_line(done) == f"{compose}:6: duplicate key 'web' (first at line 2)"


def test_slas_names_both_lines_of_a_scenario_written_twice(tmp_path: Path) -> None:
    slas = tmp_path / "slas.yaml"
    slas.write_text(
        "version: 1\n"
        "scenarios:\n"
        "  redis-kill:\n"
        "    description: Redis killed\n"
        "    fault: {kind: container_kill, target: redis}\n"
        "  redis-kill:\n"
        "    description: Redis killed again\n"
        "    fault: {kind: container_kill, target: redis}\n"
        "objectives: {}\n"
    )
    done, _ = harness("slas", "--slas", str(slas))
    assert one_line(done).endswith(f"{slas}:6: duplicate key 'redis-kill' (first at line 3)")
