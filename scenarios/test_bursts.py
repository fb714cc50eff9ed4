"""Bounded bursts of requests at one service beside the steady load (slas.yaml: ollama_load, http_burst)."""

import pytest

pytestmark = pytest.mark.fault_family("burst")


def test_burst(chaos, scenario):
    chaos.check(scenario)
