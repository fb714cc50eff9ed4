"""A passing and a failing case for every rule the lint judges, on small documents built for the project."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
from _lint_support import CONFIG, errors, good_stack, lint_docs, of_rule, service, warnings, with_service

from harness.labels import DEFAULT_LABELS
from harness.lint.config import LintConfig
from harness.lint.model import infer_tier
from harness.lint.rules import RULES


def test_registry_lists_exactly_the_rules_of_issue_4() -> None:
    assert [r.number for r in RULES] == [
        "1.1", "1.2", "1.3", "2.2", "2.3", "2.4", "3.2", "4.2", "5.1", "5.2", "5.3", "9.1", "9.2", "9.3", "12.1", "12.2",
        "12.3",
    ]  # fmt: skip


def test_good_stack_has_no_errors_and_only_the_swarm_caveat(tmp_path: Path) -> None:
    report = lint_docs(tmp_path, good_stack())
    assert report.summary.errors == 0
    assert [(f.rule, f.service) for f in report.findings] == [("2.3", "db")]
    assert "only Swarm honours them" in report.findings[0].message
    assert report.exit_code == 0


# --- 1.1 -----------------------------------------------------------------------------------------


def test_1_1_v2_style_limits_pass(tmp_path: Path) -> None:
    svc = service(mem_limit="1g", mem_reservation="600m", cpus=1.5)
    del svc["deploy"]["resources"]
    report = lint_docs(tmp_path, with_service("worker", svc))
    assert of_rule(report, "1.1") == [w for w in of_rule(report, "1.1") if w.severity.value == "warning"]
    assert len(warnings(report, "1.1", "worker")) == 1  # v2 keys have no CPU reservation


def test_1_1_missing_limits_fail(tmp_path: Path) -> None:
    svc = service()
    del svc["deploy"]["resources"]
    report = lint_docs(tmp_path, with_service("worker", svc))
    messages = [f.message for f in errors(report, "1.1", "worker")]
    assert any("no memory limit" in m for m in messages)
    assert any("no CPU limit" in m for m in messages)


def test_1_1_reservation_outside_50_to_75_percent_fails(tmp_path: Path) -> None:
    svc = service()
    svc["deploy"]["resources"]["reservations"]["memory"] = "128M"  # 25 % of 512M
    report = lint_docs(tmp_path, with_service("worker", svc))
    (finding,) = errors(report, "1.1", "worker")
    assert "25% of the limit" in finding.message
    assert finding.line > 0


# --- 1.2 -----------------------------------------------------------------------------------------


def test_1_2_pinning_inside_the_tier_cores_passes(tmp_path: Path) -> None:
    assert of_rule(lint_docs(tmp_path, good_stack()), "1.2") == []


def test_1_2_pinning_outside_the_tier_cores_fails(tmp_path: Path) -> None:
    report = lint_docs(tmp_path, with_service("core", service("critical", cpuset="0-3")))
    (finding,) = errors(report, "1.2", "core")
    assert "4-7" in finding.message


def test_1_2_absent_pinning_is_a_warning(tmp_path: Path) -> None:
    svc = service("standard")
    del svc["cpuset"]
    report = lint_docs(tmp_path, with_service("worker", svc))
    assert errors(report, "1.2") == []
    assert len(warnings(report, "1.2", "worker")) == 1


def test_1_2_pinning_of_an_unlabelled_tier_is_not_judged(tmp_path: Path) -> None:
    svc = service("critical", cpuset="0-3")
    del svc["labels"]
    (finding,) = of_rule(lint_docs(tmp_path, with_service("core", svc)), "1.2", "core")
    assert finding.severity.value == "warning" and "not judged" in finding.message


def test_1_2_ranges_scale_to_a_two_core_host(tmp_path: Path) -> None:
    two_cores = replace(CONFIG, host_cores=2)
    ok = with_service("worker", service("standard", cpuset="1"))
    assert errors(lint_docs(tmp_path, ok, config=two_cores), "1.2", "worker") == []
    bad = with_service("worker", service("standard", cpuset="0"))
    assert len(errors(lint_docs(tmp_path, bad, config=two_cores), "1.2", "worker")) == 1
    absent_core = with_service("worker", service("standard", cpuset="8-11"))
    (finding,) = errors(lint_docs(tmp_path, absent_core, config=two_cores), "1.2", "worker")
    assert "absent on this 2-core host" in finding.message


# --- 1.3 -----------------------------------------------------------------------------------------


def test_1_3_pools_within_budget_pass(tmp_path: Path) -> None:
    assert of_rule(lint_docs(tmp_path, good_stack()), "1.3") == []


def test_1_3_pool_over_budget_fails(tmp_path: Path) -> None:
    doc = good_stack()
    for i in range(9):  # 9 x 1 GiB in the 8 GiB critical pool
        svc = service("critical")
        svc["deploy"]["resources"] = {
            "limits": {"memory": "1g", "cpus": "1"},
            "reservations": {"memory": "600m"},
        }
        doc["services"][f"critical-{i}"] = svc
    del doc["services"]["core"]
    del doc["services"]["gateway"]["depends_on"]  # on core: Compose refuses a dependency on no service
    (finding,) = errors(lint_docs(tmp_path, doc), "1.3")
    assert finding.service == "critical-8"
    assert "agent-critical" in finding.message and "9 GiB" in finding.message


def test_1_3_replicas_count_against_the_pool(tmp_path: Path) -> None:
    doc = good_stack()
    doc["services"]["worker"]["deploy"]["replicas"] = 12  # 12 x 512M = 6 GiB: exactly the standard budget
    assert errors(lint_docs(tmp_path, doc), "1.3") == []
    doc["services"]["worker"]["deploy"]["replicas"] = 13
    (finding,) = errors(lint_docs(tmp_path, doc), "1.3", "worker")
    assert "6.5 GiB" in finding.message


def test_1_3_emergency_reserve_and_unknown_pools_fail(tmp_path: Path) -> None:
    doc = good_stack()
    doc["services"]["worker"]["labels"]["sutazai.memory-pool"] = "emergency-reserve"
    doc["services"]["metrics"]["labels"]["sutazai.memory-pool"] = "spare"
    report = lint_docs(tmp_path, doc)
    assert "never allocated" in errors(report, "1.3", "worker")[0].message
    assert "unknown memory pool" in errors(report, "1.3", "metrics")[0].message


# --- 2.2 -----------------------------------------------------------------------------------------


def test_2_2_healthcheck_as_the_rule_passes(tmp_path: Path) -> None:
    assert of_rule(lint_docs(tmp_path, good_stack()), "2.2") == []


@pytest.mark.parametrize("healthcheck", [None, {"disable": True}, {"test": ["NONE"]}])
def test_2_2_missing_or_disabled_healthcheck_fails(tmp_path: Path, healthcheck: object) -> None:
    svc = service()
    if healthcheck is None:
        del svc["healthcheck"]
    else:
        svc["healthcheck"] = healthcheck
    assert len(errors(lint_docs(tmp_path, with_service("worker", svc)), "2.2", "worker")) == 1


def test_2_2_different_timings_are_a_warning(tmp_path: Path) -> None:
    svc = service()
    svc["healthcheck"]["interval"] = "1m"
    del svc["healthcheck"]["start_period"]
    report = lint_docs(tmp_path, with_service("worker", svc))
    (finding,) = warnings(report, "2.2", "worker")
    assert "interval 60s (rule 30s)" in finding.message
    assert "start_period 0s by default (rule 60s)" in finding.message


# --- 2.3 -----------------------------------------------------------------------------------------


def test_2_3_bounded_on_failure_passes(tmp_path: Path) -> None:
    assert errors(lint_docs(tmp_path, good_stack()), "2.3") == []


@pytest.mark.parametrize(
    ("restart", "policy", "expected"),
    [
        ("always", None, "restart: always"),
        ("unless-stopped", None, "unless-stopped"),
        ("on-failure", None, "unbounded"),
        (None, {"condition": "on-failure", "max_attempts": 5}, "max_attempts 5"),
        (None, {"condition": "on-failure"}, "without max_attempts"),
        (None, {"condition": "on-failure", "max_attempts": 0}, "0 means unlimited"),
        (None, {"condition": "any", "max_attempts": 3}, "condition any"),
        (None, None, "no restart policy"),
    ],
)
def test_2_3_unbounded_restarts_fail(
    tmp_path: Path, restart: str | None, policy: dict | None, expected: str
) -> None:
    svc = service()
    del svc["deploy"]["restart_policy"]
    if restart:
        svc["restart"] = restart
    if policy:
        svc["deploy"]["restart_policy"] = policy
    found = errors(lint_docs(tmp_path, with_service("worker", svc)), "2.3", "worker")
    assert any(expected in f.message for f in found), found


def test_2_3_on_failure_count_is_accepted_with_a_warning_about_delay(tmp_path: Path) -> None:
    svc = service(restart="on-failure:3")
    del svc["deploy"]["restart_policy"]
    report = lint_docs(tmp_path, with_service("worker", svc))
    assert errors(report, "2.3", "worker") == []
    assert "cannot set the rule's delay" in warnings(report, "2.3", "worker")[0].message


# --- 2.4 -----------------------------------------------------------------------------------------


def test_2_4_service_healthy_passes(tmp_path: Path) -> None:
    assert of_rule(lint_docs(tmp_path, good_stack()), "2.4") == []


def test_2_4_list_form_on_a_service_with_healthcheck_fails(tmp_path: Path) -> None:
    report = lint_docs(tmp_path, with_service("worker", service(depends_on=["db"])))
    (finding,) = errors(report, "2.4", "worker")
    assert "service_started" in finding.message


# --- 3.2 -----------------------------------------------------------------------------------------


def test_3_2_gateway_and_configured_loopback_monitoring_pass(tmp_path: Path) -> None:
    doc = with_service(
        "metrics", service("monitoring", ports=["127.0.0.1:10400:10400"], networks=["backend", "edge"])
    )
    config = replace(CONFIG, publish_on_loopback=frozenset({"monitoring"}))
    report = lint_docs(tmp_path, doc, config=config)
    assert of_rule(report, "3.2") == [] and of_rule(report, "9.1") == []


def test_3_2_publishing_outside_the_gateway_fails(tmp_path: Path) -> None:
    doc = with_service("worker", service(ports=["10200:10200"]))
    doc["services"]["metrics"]["ports"] = ["127.0.0.1:10400:10400"]  # not allowed by default
    report = lint_docs(tmp_path, doc)
    assert len(errors(report, "3.2", "worker")) == 1
    assert len(errors(report, "3.2", "metrics")) == 1


# --- 5.1 -----------------------------------------------------------------------------------------


def test_5_1_ports_in_the_tier_range_and_the_debug_range_pass(tmp_path: Path) -> None:
    doc = with_service("worker", service(expose=["10200", "10550"]))
    assert of_rule(lint_docs(tmp_path, doc), "5.1") == []


def test_5_1_ports_outside_the_tier_range_fail(tmp_path: Path) -> None:
    doc = with_service("worker", service(expose=["10100"], ports=["9000:10200"]))
    found = errors(lint_docs(tmp_path, doc), "5.1", "worker")
    assert sorted(f.message.split(" outside")[0] for f in found) == [
        "exposed port 10100",
        "published port 9000",
    ]


# --- 5.2 and 12.2 --------------------------------------------------------------------------------


def test_5_2_and_12_2_gateway_may_use_8080(tmp_path: Path) -> None:
    report = lint_docs(tmp_path, good_stack())
    assert of_rule(report, "5.2") == [] and of_rule(report, "12.2") == []


def test_5_2_forbidden_ports_on_both_sides_fail(tmp_path: Path) -> None:
    doc = with_service("worker", service(expose=["3000"], ports=["80:10200"]))
    found = errors(lint_docs(tmp_path, doc), "5.2", "worker")
    assert sorted(f.message.split(" is ")[0] for f in found) == ["exposed port 3000", "published port 80"]


def test_12_2_port_8080_outside_the_gateway_fails(tmp_path: Path) -> None:
    doc = with_service("worker", service(port=8080))
    report = lint_docs(tmp_path, doc)
    assert {f.message.split(" is ")[0] for f in errors(report, "12.2", "worker")} == {
        "exposed port 8080",
        "PORT port 8080",
    }
    assert len(errors(report, "5.2", "worker")) == 2


# --- 5.3 -----------------------------------------------------------------------------------------


def test_5_3_port_variable_present_passes(tmp_path: Path) -> None:
    assert of_rule(lint_docs(tmp_path, good_stack()), "5.3") == []


def test_5_3_http_service_without_port_fails_and_non_http_passes(tmp_path: Path) -> None:
    agent = service("standard", environment={})
    cache = service("infrastructure", environment={})
    cache["healthcheck"]["test"] = ["CMD", "redis-cli", "ping"]
    web = service("infrastructure", environment={})  # an infrastructure service whose healthcheck speaks HTTP
    doc = with_service("worker", agent)
    doc["services"]["db"] = cache
    doc["services"]["web"] = web
    report = lint_docs(tmp_path, doc)
    assert {f.service for f in errors(report, "5.3")} == {"worker", "web"}


# --- 9.1 -----------------------------------------------------------------------------------------


def test_9_1_internal_networks_pass(tmp_path: Path) -> None:
    assert of_rule(lint_docs(tmp_path, good_stack()), "9.1") == []


def test_9_1_default_plain_external_and_host_networks_fail(tmp_path: Path) -> None:
    doc = good_stack()
    doc["networks"]["shared"] = {"external": True}
    del doc["services"]["worker"]["networks"]
    doc["services"]["metrics"]["networks"] = ["edge"]
    doc["services"]["core"]["networks"] = ["shared"]
    doc["services"]["db"]["network_mode"] = "host"
    del doc["services"]["db"]["networks"]
    report = lint_docs(tmp_path, doc)
    assert "default network" in errors(report, "9.1", "worker")[0].message
    assert "network edge" in errors(report, "9.1", "metrics")[0].message
    assert "external" in warnings(report, "9.1", "core")[0].message
    assert "network_mode: host" in errors(report, "9.1", "db")[0].message


# --- 9.2 -----------------------------------------------------------------------------------------


def test_9_2_interpolated_and_file_secrets_pass(tmp_path: Path) -> None:
    env = {
        "PORT": "10200",
        "DB_PASSWORD": "${DB_PASSWORD}",
        "DB_PASSWORD_FILE": "/run/secrets/db",
        "TOKEN_CPU_MS": "5",
        "API_KEY": "",
        "REDIS_URL": "redis://:${REDIS_PASSWORD}@redis:6379/0",
    }
    report = lint_docs(
        tmp_path, with_service("worker", service(environment=env)), environ={"DB_PASSWORD": "x"}
    )
    assert of_rule(report, "9.2") == []


def test_9_2_literal_secrets_fail_without_printing_them(tmp_path: Path) -> None:
    env = [
        "PORT=10200",
        "POSTGRES_PASSWORD=hunter2",
        "SECRET_KEY_BASE=abc",
        "AMQP_URL=amqp://u:hunter3@mq:5672/",
    ]
    report = lint_docs(tmp_path, with_service("worker", service(environment=env)))
    found = errors(report, "9.2", "worker")
    assert sorted(f.message.split(" ")[0] for f in found) == [
        "AMQP_URL",
        "POSTGRES_PASSWORD",
        "SECRET_KEY_BASE",
    ]
    assert not any("hunter" in f.message for f in found)


# --- 9.3 -----------------------------------------------------------------------------------------


def test_9_3_non_root_user_and_dockerfile_user_pass(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "Dockerfile").write_text("FROM debian AS build\nUSER root\nFROM debian\nUSER app\n")
    svc = service(build="img")
    del svc["user"]
    assert of_rule(lint_docs(tmp_path, with_service("worker", svc)), "9.3") == []


@pytest.mark.parametrize("user", [None, "root", "0", "0:0", "root:root"])
def test_9_3_root_or_absent_user_fails(tmp_path: Path, user: str | None) -> None:
    svc = service(user=user) if user else service()
    if user is None:
        del svc["user"]
    assert len(errors(lint_docs(tmp_path, with_service("worker", svc)), "9.3", "worker")) == 1


def test_9_3_dockerfile_without_user_in_its_final_stage_fails(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "Dockerfile").write_text("FROM debian AS build\nUSER app\nFROM debian\nRUN true\n")
    svc = service(build={"context": "img"})
    del svc["user"]
    (finding,) = errors(lint_docs(tmp_path, with_service("worker", svc)), "9.3", "worker")
    assert "Dockerfile" in finding.message


# --- 12.1 ----------------------------------------------------------------------------------------


def _ollama(**env: str) -> dict:
    svc = service("critical", port=10110, image="ollama/ollama:0.3")
    svc["environment"].update(env)
    return svc


def test_12_1_ollama_within_limits_passes(tmp_path: Path) -> None:
    doc = with_service(
        "ollama", _ollama(OLLAMA_NUM_PARALLEL="2", OLLAMA_MAX_LOADED_MODELS="1", OLLAMA_CPU_LIMIT="4")
    )
    assert of_rule(lint_docs(tmp_path, doc), "12.1") == []


def test_12_1_ollama_unlimited_fails(tmp_path: Path) -> None:
    svc = _ollama(OLLAMA_NUM_PARALLEL="8")
    svc["deploy"]["resources"]["limits"]["cpus"] = "6"
    svc["deploy"]["resources"]["reservations"]["cpus"] = "3.5"
    found = errors(lint_docs(tmp_path, with_service("ollama", svc)), "12.1", "ollama")
    assert sorted(f.message.split(" ")[0] for f in found) == [
        "CPU",
        "OLLAMA_MAX_LOADED_MODELS",
        "OLLAMA_NUM_PARALLEL=8",
    ]


# --- 12.3 ----------------------------------------------------------------------------------------


def test_12_3_one_claude_instance_within_800mb_passes(tmp_path: Path) -> None:
    doc = with_service("claude-client", service(image="example/claude-proxy:1"))
    assert of_rule(lint_docs(tmp_path, doc), "12.3") == []


def test_12_3_large_or_many_claude_instances_fail(tmp_path: Path) -> None:
    big = service(image="example/claude-proxy:1")
    big["deploy"]["resources"] = {
        "limits": {"memory": "1g", "cpus": "1"},
        "reservations": {"memory": "600m", "cpus": "0.6"},
    }
    doc = with_service("claude-a", big)
    doc["services"]["claude-b"] = service(image="example/claude-proxy:1")
    report = lint_docs(tmp_path, doc)
    assert "1 GiB per instance" in errors(report, "12.3", "claude-a")[0].message
    assert "2 instances" in warnings(report, "12.3")[0].message


# --- tier inference ------------------------------------------------------------------------------


def test_unlabelled_tier_is_inferred_and_said_so(tmp_path: Path) -> None:
    svc = service(image="redis:7", ports=["6379:6379"])
    del svc["labels"]
    (finding,) = errors(lint_docs(tmp_path, with_service("cache", svc)), "3.2", "cache")
    assert "[tier inferred from image 'redis']" in finding.message


def test_config_can_tighten_a_rule(tmp_path: Path) -> None:
    strict = replace(CONFIG, memory_reservation_ratio=(0.7, 0.75))
    assert len(errors(lint_docs(tmp_path, copy.deepcopy(good_stack()), config=strict), "1.1")) == 5
    assert isinstance(strict, LintConfig)


@pytest.mark.parametrize(
    ("name", "image", "tier"),
    [
        ("db", "bitnami/postgresql:15", "infrastructure"),
        ("metrics", "prom/node-exporter:v1", "monitoring"),
        ("edge", "library/haproxy:2.6", "infrastructure"),  # a gateway only by label or configuration
        ("llm", "ollama/ollama", "critical"),
        ("hongkong-app", "example/app:1", "standard"),
        ("kong-database", "postgres:13-alpine", "infrastructure"),  # the image speaks first
    ],
)
def test_tier_inference_from_image_then_name(name: str, image: str, tier: str) -> None:
    assert infer_tier(name, image, {}, DEFAULT_LABELS.tier)[0] == tier
