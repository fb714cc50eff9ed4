"""graceful_shutdown (rules 6.1, 6.2, 6.4) on synthetic series of a sigterm scenario: exit 0 in the grace
with the state saved at the stop and restored passes; SIGKILL at the end of the grace, an empty start, a
state from an earlier save fail; a request lost after it was accepted fails while those refused while it
was down are reported apart; no exit, no fault, no failure series or too few scrapes is an error, never a
pass."""

from __future__ import annotations

from core_synth import T0, context, timeline

from harness.analyzers.graceful_shutdown import GracefulShutdownParams, queries
from harness.analyzers.graceful_shutdown import run as graceful_shutdown
from harness.metrics.fake import FakeMetricsSource

SERVICE = "agent-summarizer"
STOP = T0 + 29.0  # the sigterm fault stops it just before the fault window (T0 + 30)


def scenario(
    exit_code: str = "0",
    stop_duration: float = 0.4,
    restored: float = 1.0,
    saved_at: float = STOP + 0.3,
    params: GracefulShutdownParams | None = None,
    refused_at: tuple[float, ...] = (STOP + 0.5, STOP + 1.0, STOP + 1.5),
    lost_at: tuple[float, ...] = (),
    pushed_until: float = T0 + 136,
) -> FakeMetricsSource:
    """The event follower's, the agent's and the load's series, every second over the whole run; the load
    pushes its failures by kind, each kind's counter there (at 0) from its first request on."""
    fake = FakeMetricsSource()
    asked = queries(params or GracefulShutdownParams(), SERVICE, "service")
    exited = STOP + stop_duration
    seconds = [T0 + i for i in range(136)]
    old, new = [t for t in seconds if t < STOP], [t for t in seconds if t > exited + 1.5]
    # As pushed: the exit code's series appears at 1 (no 0 before it), up to a push and a scrape after the
    # exit; the exit's own time is in the last-exit gauge
    seen = exited + 2
    fake.put(asked["exits"], {"exit_code": exit_code}, [(t, 1.0) for t in seconds if t > seen])
    fake.put(asked["last_exit"], {}, [(t, exited if t > seen else 0.0) for t in seconds])
    fake.put(asked["stop_duration"], {}, [(t, stop_duration if t > exited else 0.0) for t in seconds])
    fake.put(asked["stop_timeout"], {}, [(t, 20.0) for t in seconds])
    fake.put(asked["restored"], {}, [(t, 1.0) for t in old] + [(t, restored) for t in new])
    if "saved_at" in asked:
        fake.put(asked["saved_at"], {}, [(t, T0 - 250.0) for t in old] + [(t, saved_at) for t in new])
    if "failures" in asked:
        for kind, events in (("refused", refused_at), ("lost", lost_at), ("rejected", ())):
            # a failure shows up to a push and a scrape after it happened
            fake.put(
                asked["failures"],
                {"kind": kind},
                [(t, sum(e + 2 <= t for e in events)) for t in seconds if t <= pushed_until],
            )
    return fake


def judged(fake: FakeMetricsSource, params: GracefulShutdownParams | None = None, **kwargs: object):
    options = {"faulted": SERVICE, "service_label": "service", **kwargs}
    return graceful_shutdown(context(fake, "whole", **options), params or GracefulShutdownParams())  # type: ignore[arg-type]


def test_exit_0_in_the_grace_with_the_state_saved_and_restored_passes() -> None:
    finding = judged(scenario())
    assert finding.status == "pass", finding.reason
    figures = {f.name: f.value for f in finding.measured}  # type: ignore[union-attr]
    assert figures[f"exit_code[{SERVICE}]"] == 0 and figures[f"stop_duration[{SERVICE}]"] == 0.4
    # the requests refused while it was down fail nothing, and are reported apart
    assert figures[f"requests_lost[{SERVICE}]"] == 0 and figures[f"requests_refused[{SERVICE}]"] == 3
    checks = {c.name: c for c in finding.evidence.checks}
    assert "3 refused while down" in checks[f"{SERVICE} accepted requests lost"].detail


def test_a_request_lost_after_it_was_accepted_fails() -> None:
    finding = judged(scenario(lost_at=(STOP + 0.2, STOP + 0.3)))
    assert finding.status == "fail"
    assert f"{SERVICE} accepted requests lost: 2 lost after they were accepted" in finding.reason
    assert "3 refused while down (never taken: not a loss)" in finding.reason


def test_a_loss_before_the_stop_signal_is_not_the_shutdowns() -> None:
    assert judged(scenario(lost_at=(T0 + 5.0,))).status == "pass"


def test_no_failure_series_is_an_error_and_a_load_that_does_not_classify_is_skipped() -> None:
    params = GracefulShutdownParams(failures_metric="")
    unclassified = scenario(params=params)  # the same run, without the load's failures by kind
    finding = judged(unclassified)
    assert finding.status == "error"
    assert 'no locust_request_failures_total{kind="lost"}' in finding.reason
    pushed_before_only = scenario(pushed_until=STOP - 5.0)  # its last count before the stop is no data
    assert judged(pushed_before_only).status == "error"
    skipped = judged(unclassified, params)
    assert skipped.status == "pass"
    checks = {c.name: c for c in skipped.evidence.checks}
    assert checks[f"{SERVICE} accepted requests lost"].status == "skipped"


def test_sigkill_at_the_end_of_the_grace_fails() -> None:
    finding = judged(scenario(exit_code="137", stop_duration=20.01, saved_at=T0 - 250.0))
    assert finding.status == "fail"
    assert "SIGKILLed at the end of its 20 s grace period (exit 137)" in finding.reason
    assert "the stop did not save it" in finding.reason


def test_a_start_without_state_fails() -> None:
    finding = judged(scenario(restored=0.0, saved_at=0.0))
    assert finding.status == "fail" and "it started empty" in finding.reason


def test_a_state_from_an_earlier_save_fails() -> None:
    finding = judged(scenario(saved_at=T0 - 250.0))
    assert finding.status == "fail" and "before the stop: the stop did not save it" in finding.reason


def test_a_service_without_a_save_time_is_judged_on_the_rest_and_says_so() -> None:
    params = GracefulShutdownParams(saved_at_metric="")
    finding = judged(scenario(params=params), params)
    assert finding.status == "pass"
    checks = {c.name: c for c in finding.evidence.checks}
    assert checks[f"{SERVICE} state saved at the stop"].status == "skipped"


def test_no_exit_no_fault_or_too_few_scrapes_is_an_error() -> None:
    assert judged(FakeMetricsSource()).status == "error"
    no_exit = FakeMetricsSource()  # an exit from before the run: its series there from the start
    no_exit.put(
        queries(GracefulShutdownParams(), SERVICE, "service")["exits"],
        {"exit_code": "0"},
        [(T0 + i, 1) for i in range(99)],
    )
    finding = judged(no_exit)
    assert finding.status == "error" and "did not exit" in finding.reason
    baseline = graceful_shutdown(
        context(scenario(), "whole", tl=timeline(fault=None)), GracefulShutdownParams()
    )
    assert baseline.status == "error" and "no sigterm fault" in baseline.reason
    coarse = judged(scenario(), scrape=60.0)
    assert coarse.status == "error" and "fewer than 4 scrapes" in coarse.reason
