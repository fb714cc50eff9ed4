"""The SLA catalogue: slas.yaml's schema as frozen dataclasses, and its parser (see README.md, "slas.yaml")."""

from harness.catalogue.model import (
    Catalogue,
    Defaults,
    FaultSpec,
    LoadBounds,
    LoadLevel,
    Measurement,
    Objective,
    PrometheusSettings,
    Scenario,
    WindowDurations,
)
from harness.catalogue.parse import load_catalogue, parse_catalogue, parse_text

__all__ = [
    "Catalogue",
    "Defaults",
    "FaultSpec",
    "LoadBounds",
    "LoadLevel",
    "Measurement",
    "Objective",
    "PrometheusSettings",
    "Scenario",
    "WindowDurations",
    "load_catalogue",
    "parse_catalogue",
    "parse_text",
]
