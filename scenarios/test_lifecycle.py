"""Lifecycle under load (slas.yaml: crash_loop, sigterm, idle): a crash loop against the restart policy, a
graceful stop and start as a rolling deploy does one, and no load at all so a service can hibernate."""

import pytest

pytestmark = pytest.mark.fault_family("lifecycle")


def test_lifecycle_fault(chaos, scenario):
    chaos.check(scenario)
