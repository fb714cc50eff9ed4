"""The compose model rewritten as a stack file: what Swarm ignores or refuses, loopback ports, labels."""

from __future__ import annotations

import pytest

from harness.errors import InputError
from harness.swarm.stackfile import (
    PROJECT_LABEL,
    SERVICE_LABEL,
    Published,
    parse_port,
    restart_policy,
    stack_file,
)

MODEL = {
    "services": {
        "redis": {
            "image": "refstack/redis:local",
            "build": {"context": "/x"},
            "container_name": "r",
            "restart": "unless-stopped",
            "cpuset": "0",
            "expose": ["10000"],
            "labels": {"sutazai.phase": "1"},
            "deploy": {
                "resources": {
                    "limits": {"cpus": 0.5, "memory": "128M"},
                    "reservations": {"cpus": "0.25", "memory": "96M"},
                },
                "restart_policy": {"condition": "on-failure", "delay": "30s", "max_attempts": 3},
            },
            "networks": ["infrastructure"],
        },
        "gateway": {
            "image": "refstack/gateway:local",
            "depends_on": {"redis": {"condition": "service_healthy"}},
            "restart": "always",
            "ports": ["127.0.0.1:8080:8080/tcp"],
            "labels": ["sutazai.phase=2"],
            "networks": ["infrastructure", "edge"],
        },
        "exporter": {"image": "x", "user": "1000:1000", "group_add": ["105"]},
    },
    "networks": {"infrastructure": {"internal": True}, "edge": {}},
    "volumes": {"data": None},
    "secrets": {"pw": {"file": "/s/pw"}},
}


def test_keys_swarm_ignores_or_refuses_are_dropped_and_labels_added() -> None:
    out = stack_file(MODEL, "refstack", ["redis", "gateway", "exporter"]).document
    redis = out["services"]["redis"]
    for key in ("build", "container_name", "restart", "cpuset", "expose"):
        assert key not in redis
    assert "depends_on" not in out["services"]["gateway"]
    assert redis["labels"] == {"sutazai.phase": "1", PROJECT_LABEL: "refstack", SERVICE_LABEL: "redis"}
    assert out["services"]["gateway"]["labels"][SERVICE_LABEL] == "gateway"
    assert out["version"] == "3.8"


def test_resources_restart_policy_and_dnsrr() -> None:
    out = stack_file(MODEL, "p", ["redis", "gateway"]).document
    deploy = out["services"]["redis"]["deploy"]
    assert deploy["resources"]["limits"]["cpus"] == "0.5"
    assert deploy["resources"]["reservations"] == {
        "memory": "96M"
    }  # CPU reservations: Swarm would schedule by them
    assert deploy["restart_policy"]["delay"] == "30s"  # the service's own, kept
    assert deploy["endpoint_mode"] == "dnsrr"
    assert out["services"]["gateway"]["deploy"]["restart_policy"] == {"condition": "any"}  # from restart:


def test_ports_are_set_apart_for_loopback_bridges() -> None:
    made = stack_file(MODEL, "p", ["redis", "gateway"])
    assert "ports" not in made.document["services"]["gateway"]
    assert made.published == (Published("gateway", 8080, 8080, "127.0.0.1"),)
    assert stack_file(MODEL, "p", ["redis"]).published == ()  # only the deployed phases' ports


def test_networks_are_attachable_overlays_keeping_internal_and_only_those_used() -> None:
    networks = stack_file(MODEL, "p", ["redis"]).document["networks"]
    assert networks == {
        "infrastructure": {
            "internal": True,
            "driver": "overlay",
            "attachable": True,
            "labels": {PROJECT_LABEL: "p"},
        }
    }
    both = stack_file(MODEL, "p", ["redis", "gateway"]).document["networks"]
    assert set(both) == {"infrastructure", "edge"}


def test_volumes_secrets_labelled_and_cpusets_and_networks_kept_aside() -> None:
    made = stack_file(MODEL, "p", ["redis"])
    assert made.document["volumes"] == {"data": {"labels": {PROJECT_LABEL: "p"}}}
    assert made.document["secrets"]["pw"] == {"file": "/s/pw", "labels": {PROJECT_LABEL: "p"}}
    assert made.cpusets == {"redis": "0"}
    assert made.reservations == {"redis": 96 * 2**20}
    assert made.updates == {"redis": {"cpuset_cpus": "0", "mem_reservation": 96 * 2**20}}
    assert made.networks["gateway"] == ("infrastructure", "edge")
    assert made.networks["exporter"] == ("default",)


def test_group_add_becomes_the_primary_group() -> None:
    exporter = stack_file(MODEL, "p", ["exporter"]).document["services"]["exporter"]
    assert exporter["user"] == "1000:105"
    assert "group_add" not in exporter
    assert "default" in stack_file(MODEL, "p", ["exporter"]).document["networks"]


def test_the_model_is_not_changed() -> None:
    stack_file(MODEL, "p", ["redis", "gateway", "exporter"])
    assert MODEL["services"]["redis"]["cpuset"] == "0"
    assert MODEL["services"]["gateway"]["ports"] == ["127.0.0.1:8080:8080/tcp"]


@pytest.mark.parametrize(
    ("restart", "policy"),
    [
        ("always", {"condition": "any"}),
        ("unless-stopped", {"condition": "any"}),
        ("on-failure:3", {"condition": "on-failure", "max_attempts": 3}),
        ("on-failure", {"condition": "on-failure"}),
        ("no", {"condition": "none"}),
    ],
)
def test_restart_policy(restart: str, policy: dict[str, object]) -> None:
    assert restart_policy(restart) == policy


def test_ports() -> None:
    assert parse_port("s", "8080") == Published("s", 8080, 8080)
    assert parse_port("s", "0.0.0.0:81:80") == Published("s", 81, 80)  # still served on loopback only
    assert parse_port("s", {"target": 80, "published": 8081, "host_ip": "127.0.0.1"}) == Published(
        "s", 8081, 80
    )
    with pytest.raises(InputError, match="loopback only"):
        parse_port("s", "10.0.0.1:80:80")
    with pytest.raises(InputError, match="only tcp"):
        parse_port("s", "127.0.0.1:53:53/udp")
