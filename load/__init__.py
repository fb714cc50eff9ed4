"""The locustfiles and their helpers, installed as ``harness.locustfiles`` (pyproject.toml maps this
folder there). Locust runs them as files: they import each other by module name, not through the package."""
