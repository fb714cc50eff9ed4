"""The sections of architecture-rules.md an SLA objective can cite (``rule: "3.4"``), number -> title.

The harness is stack-agnostic and the rules document lives with the stack, outside this repository, so
the outline ships here; tests/unit/core/test_core_catalogue.py compares it with the document when the
document is beside the repository (``../shared/architecture-rules.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

RULES_DOCUMENT = "architecture-rules.md"
SECTIONS: Mapping[str, str] = MappingProxyType(
    {
        "1": "Resource Management and Allocation",
        "1.1": "Memory Limits are Mandatory",
        "1.2": "CPU Affinity Strategy",
        "1.3": "Memory Pool Architecture",
        "1.4": "Resource Monitoring Requirements",
        "2": "Container Orchestration and Deployment",
        "2.1": "Phased Deployment Strategy",
        "2.2": "Health Check Requirements",
        "2.3": "Restart Policy Guidelines",
        "2.4": "Container Dependencies",
        "3": "Service Mesh Communication",
        "3.1": "Service Discovery Requirements",
        "3.2": "API Gateway Routing",
        "3.3": "Message Queue Patterns",
        "3.4": "Circuit Breaker Implementation",
        "4": "Memory and CPU Optimization",
        "4.1": "Model Loading Strategy",
        "4.2": "Shared Library Volume",
        "4.3": "Memory-Mapped Operations",
        "5": "Port Management",
        "5.1": "Port Allocation Strategy",
        "5.2": "Port Conflict Prevention",
        "5.3": "Dynamic Port Assignment",
        "6": "Agent Lifecycle Management",
        "6.1": "Graceful Shutdown",
        "6.2": "State Persistence",
        "6.3": "Idle Timeout Management",
        "6.4": "Resource Release Protocol",
        "7": "Monitoring and Observability",
        "7.1": "Metrics Exposure",
        "7.2": "Structured Logging",
        "7.3": "Distributed Tracing",
        "7.4": "Health Dashboard Requirements",
        "8": "Performance and Scaling",
        "8.1": "Response Time SLAs",
        "8.2": "Concurrent Request Limits",
        "8.3": "Caching Strategy",
        "8.4": "Load Balancing Rules",
        "9": "Security and Isolation",
        "9.1": "Network Segmentation",
        "9.2": "Secret Management",
        "9.3": "Container Security",
        "10": "Error Handling and Recovery",
        "10.1": "Comprehensive Error Handling",
        "10.2": "Retry Strategy",
        "10.3": "Failure Isolation",
        "11": "Operational Excellence",
        "11.1": "Documentation Requirements",
        "11.2": "Automated Testing",
        "11.3": "Deployment Automation",
        "11.4": "Incident Response",
        "12": "Specific Issue Resolutions",
        "12.1": "Ollama CPU Usage",
        "12.2": "Port 8080 Conflicts",
        "12.3": "Claude Instance Management",
    }
)
"""Every "Rule N" and every "N.M" heading of the document, in document order."""


def outline() -> str:
    """The numbers, compactly: ``1-12 and 1.1-1.4, 2.1-2.4, ...`` (for an error message)."""
    rules = [n for n in SECTIONS if "." not in n]
    spans = []
    for rule in rules:
        parts = [n for n in SECTIONS if n.startswith(rule + ".")]
        spans.append(f"{parts[0]}-{parts[-1]}" if len(parts) > 1 else "".join(parts))
    return f"{rules[0]}-{rules[-1]} and {', '.join(s for s in spans if s)}"
