"""`history` and `compare` through the real entry point, and `judge` with a history: listings, the
noise verdict, and every bad input (a corrupt, foreign or other-version history, an unknown run or
objective) one stderr line and exit 2, the file left as it was."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from test_cli_entrypoints import RECORD, SLAS, T0, harness, one_line, prometheus  # noqa: F401 (a fixture)

from harness.history.store import RunInfo, open_for_append, open_history
from harness.metrics.fake import FakeMetricsSource
from harness.verdict import Evidence, Figure, Verdict

DAY = 86_400.0


def _verdict(p99: float) -> Verdict:
    evidence = Evidence(figures=(Figure("p99", p99, "s"),))
    return Verdict("api-latency", "8.1", "baseline", "whole", "gate", "pass", p99, "< 5 s", "ok", evidence)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Fourteen nights of p99 around 1 s (5% noise), the last three 20% higher, from revision b."""
    path = tmp_path / "history.sqlite"
    store = open_for_append(str(path))
    rng = random.Random(11)
    for night in range(14):
        stepped = night >= 11
        run = RunInfo(f"n{night:02d}", T0 - (14 - night) * DAY, ("b" if stepped else "a") * 40)
        store.append(run, [_verdict(rng.gauss(1.0, 0.05) * (1.2 if stepped else 1.0))], 0)
    store.close()
    return path


def test_history_lists_the_runs_and_one_objectives_figures(history: Path) -> None:
    result = harness("history", "--history", str(history), "--last", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["run", "time", "(UTC)", "revision", "verdicts", "exit"]
    assert [line.split()[0] for line in lines[1:]] == ["n12", "n13"]
    assert lines[2].split()[3:] == ["bbbbbbbbbbbb", "1", "pass", "0"]
    result = harness(
        "history", "--history", f"sqlite:///{history}", "--objective", "api-latency", "--last", "1"
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert [(r[0], r[3], r[4], r[-1]) for r in rows] == [
        ("n13", "baseline", "measured", "pass"),
        ("n13", "baseline", "p99", "pass"),
    ]


def test_compare_shows_the_change_and_whether_the_noise_explains_it(history: Path) -> None:
    result = harness("compare", "n08", "n11", "--history", str(history), "--slas", "/dev/null/none")
    assert result.returncode == 2 and "/dev/null/none" in one_line(result.stderr, "compare")
    slas = history.parent / "slas.yaml"
    slas.write_text(SLAS)

    def p99(a: str, b: str) -> str:
        result = harness("compare", a, b, "--history", str(history), "--slas", str(slas))
        assert result.returncode == 0, result.stderr
        return next(line for line in result.stdout.splitlines() if " p99 " in line)

    assert "beyond the noise: step at n11 (e_divisive, last 10)" in p99("n13", "n10")
    assert "within the noise (e_divisive, last 10)" in p99("n09", "n10")
    assert "unknown: 9 values up to n08, needs 10" in p99("n08", "n09")
    a, _, b, _, change, percent = p99("n10", "n13").split()[3:9]
    assert float(change) == pytest.approx(float(b) - float(a), abs=1e-5)
    assert percent == f"{(float(b) - float(a)) / float(a):+.1%}"


def _foreign(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (text)")
    db.commit()
    db.close()


def _other_version(path: Path) -> None:
    open_for_append(str(path)).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(b"\x00garbage" * 64), "not a harness history: not an SQLite database"),
        (_foreign, "not a harness history: an SQLite database without the history's meta and tables"),
        (_other_version, "history schema version 9, but this harness reads version 1"),
    ],
    ids=["corrupt", "foreign", "schema"],
)
def test_a_bad_history_is_one_line_exit_2_and_left_as_it_was(tmp_path: Path, make, words: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "history.sqlite"
    make(path)
    before = path.read_bytes()
    # judge reads it from slas.yaml, and checks it before the first query when an objective has regression:
    slas = SLAS.replace("version: 1\n", f"version: 1\ndefaults: {{history: {path}}}\n")
    (tmp_path / "slas.yaml").write_text(slas + "    regression: {metric: measured}\n")
    (tmp_path / "run.json").write_text(json.dumps(RECORD))
    for argv in (
        ["history"],
        ["history", "--history", str(path)],
        ["compare", "a", "b"],
        ["judge", "--prometheus", "http://127.0.0.1:9", "--run", "run.json", "--reports", "out"],
    ):
        result = harness(*argv, cwd=tmp_path)
        assert result.returncode == 2, result
        assert one_line(result.stderr, argv[0]).startswith(f"{path}: {words}")
    assert path.read_bytes() == before
    assert not (tmp_path / "out").exists()  # judge refused before writing a report


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (
            ["history", "--objective", "nope"],
            "{history}: no figures of objective 'nope' (recorded: api-latency)",
        ),
        (["compare", "n01", "n99"], "{history}: no run 'n99' in the history (latest: n11, n12, n13)"),
        (["compare", "zz", "n01"], "{history}: no run 'zz' in the history"),
        (
            ["history", "--history", "postgresql://db/h"],
            "--history: expected a file path or a sqlite:/// URL",
        ),
        (
            ["history", "--history", "{missing}"],
            "{missing}: no such history file (no run recorded there yet)",
        ),
    ],
)
def test_an_unknown_run_or_objective_is_one_line_exit_2(history: Path, argv: list[str], words: str) -> None:
    (history.parent / "slas.yaml").write_text(SLAS)
    names = {"history": str(history), "missing": str(history.parent / "none.sqlite")}
    extra = [] if "--history" in argv else ["--history", str(history)]
    result = harness(*(a.format(**names) for a in argv), *extra, cwd=history.parent)
    assert result.returncode == 2
    assert one_line(result.stderr, argv[0]).startswith(words.format(**names))
    assert result.stdout == ""


def test_a_re_judge_is_not_a_new_night_but_gets_its_regression_verdict(
    history: Path,
    prometheus: tuple[str, FakeMetricsSource],  # noqa: F811
) -> None:
    url, fake = prometheus
    fake.put("min(up)", {}, [(T0 + 20, 1.0)])
    folder = history.parent
    slas = SLAS.replace("version: 1\n", f"version: 1\ndefaults: {{history: sqlite:///{history}}}\n")
    (folder / "slas.yaml").write_text(slas + "    regression: {metric: measured}\n")
    (folder / "run.json").write_text(json.dumps(RECORD))
    result = harness("judge", "--prometheus", url, "--run", "run.json", "--reports", "out", cwd=folder)
    assert result.returncode == 0, result.stderr
    verdicts = json.loads((folder / "out" / "verdicts.json").read_text())["verdicts"]
    assert [(v["id"], v["status"]) for v in verdicts] == [("up", "pass"), ("up:regression", "skipped")]
    assert "only 0 earlier values of measured" in verdicts[1]["evidence"]["reason"]
    assert len(open_history(str(history)).runs()) == 14
