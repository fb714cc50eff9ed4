"""The steady state under load, no fault: every SLA that applies holds before anything is broken."""

import pytest

pytestmark = pytest.mark.fault_family("none")


def test_baseline(chaos, scenario):
    chaos.check(scenario)
