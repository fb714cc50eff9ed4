"""The scenario suites, installed as ``harness.suites`` (pyproject.toml maps this folder there)."""
