"""Interrupt `harness run` at random instants and prove that nothing is left behind (issue 8, "Proof, repeated").

Each trial starts `python -m harness run` on the reference stack with a short catalogue
(`trials-slas.yaml`), waits for a phase (stack-up, steady, a fault of every family: container, proxy,
pressure, burst, lifecycle; recovery, judging and reporting) as the run's own progress lines announce it, waits a random moment more, and then:
- SIGINT: the run must exit 2 by itself, with no fault left in force and the stack down, or kept when
  `--keep-stack` was asked;
- SIGKILL: `python -m harness clean` (as the README says to run it, no journal path given) must exit 0 and
  leave nothing: no paused or stopped stack container, no `harness-*` toxic, no disabled proxy, no load
  generator, no Pushgateway group, no helper container, no foreign container on the stack's networks.
Every trial's outcome is printed and written to `reports/trials.json`; the test fails if any trial left
something. It runs only when `HARNESS_TRIALS=N` asks for N trials: `make trials` (20 trials, about 20
minutes), so `make test` stays short; `HARNESS_TRIALS_SEED=S` replays a sequence.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import docker
import pytest
from _run_watch import (
    REPO,
    SLAS,
    STACK,
    announced,
    harness,
    load_generators,
    stack_leftovers,
    start_run,
    wait_no_load_generator,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]


# phase -> (scenarios it can be reached in, progress line that announces it, random delay after it in s)
PHASES: dict[str, tuple[tuple[str, ...], str | None, tuple[float, float]]] = {
    "stack-up": (("trial-pause",), None, (3.0, 45.0)),
    "steady": (("trial-pause", "trial-slow"), "steady", (0.0, 4.0)),
    "container fault": (("trial-pause", "trial-kill"), "fault", (0.0, 5.0)),
    "proxy fault": (("trial-slow", "trial-down"), "fault", (0.0, 5.0)),
    "pressure fault": (("trial-memory",), "fault", (0.0, 5.0)),
    "burst fault": (("trial-burst",), "fault", (0.0, 5.0)),
    "lifecycle fault": (("trial-crash",), "fault", (0.0, 5.0)),
    "recovery": (("trial-kill", "trial-down", "trial-memory"), "recovery", (0.0, 3.0)),
    "judging and reporting": (("trial-pause", "trial-slow"), "recovery", (5.0, 9.0)),
}
PLAN = [
    phase for phase in PHASES for _ in range(3 if phase.endswith(("container fault", "proxy fault")) else 2)
]
"""20 trials: every phase twice, the container and proxy faults (two kinds each) three times."""


@dataclass
class Trial:
    number: int
    phase: str
    scenario: str
    signal: str
    keep_stack: bool
    delay: float = 0.0
    exit_code: int | None = None
    clean_exit_code: int | None = None
    leftovers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        expected_exit = 2 if self.signal == "SIGINT" else -signal.SIGKILL
        clean_ok = self.signal == "SIGINT" or self.clean_exit_code == 0
        return self.exit_code == expected_exit and clean_ok and not self.leftovers

    def line(self) -> str:
        clean = "" if self.clean_exit_code is None else f", clean exit {self.clean_exit_code}"
        keep = " --keep-stack" if self.keep_stack else ""
        left = "; ".join(self.leftovers) or "nothing left"
        verdict = "ok" if self.ok else "FAILED"
        return (
            f"trial {self.number:2d} {verdict:6} {self.signal:7} {self.phase:22} ({self.scenario}{keep}, "
            f"+{self.delay:.1f}s): exit {self.exit_code}{clean}; {left} [{self.seconds:.0f}s]"
        )


def _run_trial(trial: Trial, reports: Path, rng: random.Random, client: docker.DockerClient) -> None:
    _, announced_by, (low, high) = PHASES[trial.phase]
    if trial.phase == "stack-up":
        assert harness("down", "--stack", str(STACK)) == 0
    started = time.monotonic()
    extra = ("--keep-stack",) if trial.keep_stack else ()
    process, output = start_run(reports, trial.scenario, *extra)
    try:
        pattern = announced(trial.scenario, announced_by) if announced_by else None
        if pattern and not output.wait_for(pattern, process, timeout=300):
            trial.leftovers.append(f"never reached {trial.phase}: {output.tail()!r}")
        trial.delay = rng.uniform(low, high)
        time.sleep(trial.delay)
        process.send_signal(signal.SIGINT if trial.signal == "SIGINT" else signal.SIGKILL)
        trial.exit_code = process.wait(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
            trial.leftovers.append("the run did not end within 240 s of the signal")
            process.wait()
    if trial.signal == "SIGKILL":
        trial.clean_exit_code = harness("clean", "--stack", str(STACK), "--slas", str(SLAS))
    if pids := wait_no_load_generator(timeout=20):
        trial.leftovers.append(f"load generator still running (pids {pids})")
    if trial.signal == "SIGKILL":
        expect = "any" if trial.phase == "stack-up" else "up"
    else:
        expect = "up" if trial.keep_stack else "down"
    trial.leftovers += stack_leftovers(client, expect)
    trial.seconds = time.monotonic() - started
    if not trial.ok:  # leave the next trial a clean start, so one failure does not breed more
        harness("clean", "--stack", str(STACK), "--slas", str(SLAS))
        for pid in load_generators():
            os.kill(pid, signal.SIGKILL)


def _plan(rng: random.Random, count: int) -> list[Trial]:
    phases = [PLAN[i % len(PLAN)] for i in range(count)]
    rng.shuffle(phases)  # a short run still reaches several phases
    trials = []
    for number, phase in enumerate(phases, 1):
        # Signals alternate within a phase, and phases of odd size start on alternate signals: half and half.
        nth = phases[:number].count(phase) + list(PHASES).index(phase)
        sent = "SIGINT" if nth % 2 else "SIGKILL"
        keep = sent == "SIGKILL" or rng.random() < 0.5
        trials.append(Trial(number, phase, rng.choice(PHASES[phase][0]), sent, keep))
    return trials


def test_interrupted_runs_leave_nothing_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not os.environ.get("HARNESS_TRIALS"):
        pytest.skip("the interrupt trials run from `make trials` (HARNESS_TRIALS=20, about 20 minutes)")
    count = int(os.environ["HARNESS_TRIALS"])
    seed = int(os.environ.get("HARNESS_TRIALS_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    client = docker.from_env()
    trials = _plan(rng, count)
    with capsys.disabled():
        print(f"\n{count} interrupt trials, seed {seed}")
        for trial in trials:
            reports = tmp_path / f"trial-{trial.number}"
            reports.mkdir()
            _run_trial(trial, reports, rng, client)
            print(trial.line(), flush=True)
        failed = [t for t in trials if not t.ok]
        print(f"{count - len(failed)} of {count} trials left nothing behind")
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "seed": seed,
        "trials": [asdict(t) | {"ok": t.ok} for t in trials],
    }
    (REPO / "reports").mkdir(exist_ok=True)
    (REPO / "reports" / "trials.json").write_text(json.dumps(result, indent=2) + "\n")
    harness("down", "--stack", str(STACK))
    assert not failed, "\n".join(t.line() for t in failed)
