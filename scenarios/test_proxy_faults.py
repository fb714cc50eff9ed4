"""Dependencies down, slowed, timing out, reset or throttled through the fault proxy (slas.yaml: proxy_*)."""

import pytest

pytestmark = pytest.mark.fault_family("proxy")


def test_proxy_fault(chaos, scenario):
    chaos.check(scenario)
