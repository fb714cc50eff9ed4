"""Memory and CPU pressed inside one service's own cgroup under load (slas.yaml: memory_pressure, cpu_pressure)."""

import pytest

pytestmark = pytest.mark.fault_family("pressure")


def test_pressure(chaos, scenario):
    chaos.check(scenario)
