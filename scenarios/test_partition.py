"""One service cut from a network under load, and connected again (slas.yaml: partition)."""

import pytest

pytestmark = pytest.mark.fault_family("partition")


def test_partition(chaos, scenario):
    chaos.check(scenario)
