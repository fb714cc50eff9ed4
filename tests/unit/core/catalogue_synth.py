"""A one-scenario slas.yaml for the catalogue's unit tests: the fault is written inline at line 4, so an
error about it names ``slas.yaml:4``."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from harness.catalogue import Catalogue, parse_text
from harness.errors import InputError


@dataclass(frozen=True, slots=True)
class OneFault:
    scenario: str  # the scenario's name, e.g. "pressed"
    rule: str  # the objective's rule, e.g. "1.1"
    judged_by: str  # the objective's last line, e.g. "analyzer: {name: memory_limits}"
    objective: str = "limits"  # the objective's id

    def text(self, fault: str) -> str:
        """The catalogue with ``fault`` as its scenario's fault."""
        return (
            "version: 1\n"
            "scenarios:\n"
            f"  {self.scenario}:\n"
            f"    fault: {fault}\n"
            "objectives:\n"
            f"  - id: {self.objective}\n"
            f'    rule: "{self.rule}"\n'
            "    scenarios: all\n"
            "    window: whole\n"
            f"    {self.judged_by}\n"
        )

    def parse(self, fault: str) -> Catalogue:
        return parse_text(self.text(fault), "slas.yaml")

    def error_of(self, fault: str, starts: str) -> str:
        """The one-line InputError message that parsing ``fault`` raises; it must start with ``starts``."""
        with pytest.raises(InputError) as caught:
            self.parse(fault)
        message = str(caught.value)
        assert "\n" not in message and message.startswith(starts)
        return message
