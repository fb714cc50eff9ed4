"""The compose labels the harness reads from a stack's services, defined once.

The SutazAI names are the defaults; slas.yaml's ``labels:`` section names others for a stack that labels
its services otherwise. The lint reads the tier and the pool (rules 1.2, 1.3, 5.1), the runner the phase
(rule 2.1: a phase comes up healthy before the next starts), ``harness status`` all three.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StackLabels:
    tier: str = "sutazai.tier"
    """infrastructure, critical, standard, monitoring or gateway; inferred when absent (the lint)."""
    pool: str = "sutazai.memory-pool"
    """The memory pool a service draws from (rule 1.3); its tier's pool when absent."""
    phase: str = "sutazai.phase"
    """The deployment phase, a number (rule 2.1); phase 1 when absent."""


DEFAULT_LABELS = StackLabels()
