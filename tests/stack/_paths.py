"""Puts stack/services on sys.path so tests can import the stack's pure modules
(e.g. `agent.breaker`) under the project venv, which lacks the stack's runtime packages."""

import sys
from pathlib import Path

STACK_SERVICES = Path(__file__).resolve().parents[2] / "stack" / "services"

if str(STACK_SERVICES) not in sys.path:
    sys.path.insert(0, str(STACK_SERVICES))
