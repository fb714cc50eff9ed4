"""The two real SutazAI compose files (../shared/fixtures/compose), with every expected finding written out.

Each row was checked by hand against the file: (line, rule, E=error / W=warning). The tier of every service
is inferred (the files carry no sutazai.tier labels): consul, postgres, rabbitmq, redis images are
infrastructure; kong images look like the gateway, but only a label makes one, so they are judged as
infrastructure (the gateway's pool); agents with PRIORITY=critical are critical; the rest standard.
"""

from __future__ import annotations

from collections import Counter

import pytest
from _lint_support import CONFIG, SUTAZAI

from harness.lint.engine import lint_model
from harness.lint.findings import Report
from harness.lint.loader import load_compose

pytestmark = pytest.mark.skipif(not SUTAZAI.is_dir(), reason="../shared/fixtures is absent")

INFRASTRUCTURE = {
    # consul: publishes 5 ports (8500 behind 10006 in range; 8300-8302 and 8600 out of range on both sides)
    "consul": [(5, "1.2", "W"), (5, "9.3", "E"), (10, "3.2", "E"), (10, "5.1", "E"), (11, "3.2", "E"),
               (11, "5.1", "E"), (11, "5.1", "E"), (12, "3.2", "E"), (12, "5.1", "E"), (12, "5.1", "E"),
               (13, "3.2", "E"), (13, "5.1", "E"), (13, "5.1", "E"), (14, "3.2", "E"), (14, "5.1", "E"),
               (14, "5.1", "E"), (21, "9.1", "E"), (25, "1.1", "E"), (26, "1.1", "W"), (27, "2.3", "E"),
               (30, "2.2", "W")],
    # kong-database: no healthcheck, POSTGRES_PASSWORD: kongpass
    "kong-database": [(35, "1.2", "W"), (35, "2.2", "E"), (35, "9.3", "E"), (41, "9.2", "E"), (45, "9.1", "E"),
                      (49, "1.1", "E"), (50, "1.1", "W"), (51, "2.3", "E")],
    # kong-migration (kong image, unlabelled: infrastructure): no limits at all, restart: on-failure without a
    # count, joins the non-internal service-mesh
    "kong-migration": [(53, "1.1", "E"), (53, "1.1", "E"), (53, "1.2", "W"), (53, "2.2", "E"), (53, "9.3", "E"),
                       (61, "9.2", "E"), (64, "9.1", "E"), (67, "2.3", "E")],
    # kong looks like the gateway but is not labelled one: its published ports, container port 8000 (forbidden,
    # outside the infrastructure range), 8001 and the non-internal network are errors
    "kong": [(69, "1.2", "W"), (69, "9.3", "E"), (76, "9.2", "E"), (85, "3.2", "E"), (85, "5.1", "E"), (85, "5.2", "E"),
             (86, "3.2", "E"), (86, "5.1", "E"), (88, "9.1", "E"), (95, "1.1", "E"), (96, "1.1", "W"), (97, "2.3", "E"),
             (100, "2.2", "W")],
    # rabbitmq: reservations at 25 %, depends_on consul (which has a healthcheck) in list form
    "rabbitmq": [(105, "1.2", "W"), (105, "9.3", "E"), (109, "3.2", "E"), (109, "5.1", "E"), (110, "3.2", "E"),
                 (110, "5.1", "E"), (113, "9.2", "E"), (120, "9.1", "E"), (127, "1.1", "E"), (128, "1.1", "E"),
                 (129, "2.3", "E"), (132, "2.2", "W"), (137, "2.4", "E")],
    "service-discovery": [(140, "1.2", "W"), (140, "2.2", "E"), (140, "9.3", "E"), (154, "9.1", "E"),
                          (161, "1.1", "E"), (162, "1.1", "W"), (163, "2.3", "E")],
    # health-check-server: an HTTP healthcheck without PORT, container port 8080 published on 10008
    "health-check-server": [(166, "1.2", "W"), (166, "5.3", "E"), (166, "9.3", "E"), (172, "3.2", "E"),
                            (172, "5.1", "E"), (172, "5.1", "E"), (172, "5.2", "E"), (172, "12.2", "E"),
                            (181, "9.1", "E"), (188, "1.1", "E"), (189, "1.1", "W"), (190, "2.3", "E"),
                            (195, "2.2", "W")],
    # service-mesh-orchestrator: RABBITMQ_PASS=adminpass
    "service-mesh-orchestrator": [(198, "1.2", "W"), (198, "2.2", "E"), (198, "9.3", "E"), (208, "9.2", "E"),
                                  (216, "9.1", "E"), (227, "1.1", "E"), (228, "1.1", "W"), (229, "2.3", "E")],
    "redis-service-mesh": [(232, "1.2", "W"), (232, "9.3", "E"), (239, "9.1", "E"), (243, "1.1", "E"),
                           (244, "1.1", "W"), (245, "2.3", "E"), (248, "2.2", "W")],
}  # fmt: skip

# Every phase-1 agent has the same shape: (service line, healthcheck interval line, ports item line, host port).
# deploy comes from the anchor &id001 (lines 10-17), networks from &id002 (lines 34-35).
PHASE1_AGENTS = [
    ("adversarial-attack-detector", 5, 24, 37, 11014),
    ("agent-creator", 43, 55, 67, 11015),
    ("agent-debugger", 73, 85, 97, 11016),
    ("agent-orchestrator", 103, 115, 127, 11000),
    ("agentzero-coordinator", 133, 145, 157, 11001),
    ("ai-product-manager", 163, 175, 187, 11008),
    ("ai-qa-team-lead", 193, 205, 217, 11010),
    ("ai-scrum-master", 223, 235, 247, 11009),
    ("ai-senior-backend-developer", 253, 265, 277, 11004),
    ("ai-senior-engineer", 283, 295, 307, 11007),
    ("ai-senior-frontend-developer", 313, 325, 337, 11005),
    ("ai-senior-full-stack-developer", 343, 355, 367, 11006),
    ("ai-system-architect", 373, 385, 397, 11002),
    ("ai-system-validator", 403, 415, 427, 11003),
    ("ai-testing-qa-validator", 433, 445, 457, 11011),
    ("cicd-pipeline-orchestrator", 463, 475, 487, 11012),
    ("compute-scheduler-and-optimizer", 493, 505, 517, 11017),
    ("cpu-only-hardware-optimizer", 523, 535, 547, 11019),
    ("deployment-automation-master", 553, 565, 577, 11013),
    ("emergency-shutdown-coordinator", 583, 595, 607, 11018),
]


def _phase1_expected() -> dict[str, list[tuple[int, str, str]]]:
    expected = {}
    for name, line, interval, ports, _ in PHASE1_AGENTS:
        expected[name] = [
            (line, "1.2", "W"),  # no cpuset (critical, inferred from PRIORITY=critical)
            (line, "5.3", "E"),  # uvicorn serves HTTP, no PORT
            (line, "9.3", "E"),  # no user
            (interval, "2.2", "W"),  # interval 60s, timeout 30s, retries 5, no start_period
            (35, "9.1", "W"),  # sutazai-network is external: cannot be verified internal
            (ports, "3.2", "E"),  # publishes 110xx:8080
            (ports, "5.1", "E"),  # 110xx outside 10100-10199
            (ports, "5.1", "E"),  # 8080 outside 10100-10199
            (ports, "5.2", "E"),  # 8080 forbidden
            (ports, "12.2", "E"),  # 8080 reserved for the gateway
            (ports + 1, "2.3", "E"),  # restart: unless-stopped
            (line + 1, "4.2", "E"),  # its command pip-installs its Python packages at every start
        ]
    # 20 x 512M in the 8 GiB agent-critical pool: the 17th service crosses the budget; line 14 is the
    # memory limit inside the anchor.
    expected["compute-scheduler-and-optimizer"].append((14, "1.3", "E"))
    return expected


def _lint(name: str) -> Report:
    model = load_compose([str(SUTAZAI / name)], {}, CONFIG)
    return lint_model(model, CONFIG)


def _as_table(report: Report) -> dict[str, Counter[tuple[int, str, str]]]:
    table: dict[str, Counter[tuple[int, str, str]]] = {}
    for f in report.findings:
        table.setdefault(f.service, Counter())[(f.line, f.rule, f.severity.value[0].upper())] += 1
    return table


def _expected_table(
    expected: dict[str, list[tuple[int, str, str]]],
) -> dict[str, Counter[tuple[int, str, str]]]:
    return {service: Counter(rows) for service, rows in expected.items()}


def test_infrastructure_file_findings() -> None:
    report = _lint("docker-compose.infrastructure.yml")
    assert _as_table(report) == _expected_table(INFRASTRUCTURE)
    assert report.summary.services == 9
    assert (report.summary.errors, report.summary.warnings) == (77, 21)
    assert report.exit_code == 1


def test_phase1_critical_file_findings() -> None:
    report = _lint("docker-compose.phase1-critical.yml")
    assert _as_table(report) == _expected_table(_phase1_expected())
    assert report.summary.services == 20
    assert (report.summary.errors, report.summary.warnings) == (181, 60)
    published = {f.message.split(" outside")[0] for f in report.findings if f.rule == "5.1"}
    assert published == {f"published port {port}" for *_, port in PHASE1_AGENTS} | {"container port 8080"}


def test_both_files_merged_as_overrides() -> None:
    paths = [
        str(SUTAZAI / "docker-compose.infrastructure.yml"),
        str(SUTAZAI / "docker-compose.phase1-critical.yml"),
    ]
    report = lint_model(load_compose(paths, {}, CONFIG), CONFIG)
    assert report.summary.services == 29
    files = {f.file.rsplit("/", 1)[-1] for f in report.findings}
    assert files == {"docker-compose.infrastructure.yml", "docker-compose.phase1-critical.yml"}
