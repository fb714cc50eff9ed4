"""Dependencies killed, stopped, frozen (docker pause) or restarted under load (slas.yaml: container_*)."""

import pytest

pytestmark = pytest.mark.fault_family("container")


def test_container_fault(chaos, scenario):
    chaos.check(scenario)
