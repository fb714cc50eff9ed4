"""The exporter's cpuset series (rule 1.2 at run time): the cores each container may run on, and the host's
cores, which cAdvisor does not export as a cpuset."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "stack" / "services"))

from test_exporter_unit import Clock, parse_metrics, series

from exporter.collector import Collector, OomWatcher
from exporter.dockerapi import DockerError
from exporter.fake import FakeDocker
from exporter.samples import cpuset, sample_from_docker


def test_the_cpuset_is_dockers_or_every_core_of_the_host() -> None:
    assert cpuset({"CpusetCpus": "4-7"}, 12) == ("4-7", True)
    assert cpuset({"CpusetCpus": ""}, 2) == ("0-1", False)
    assert cpuset({}, 1) == ("0", False)
    assert cpuset({}, None) == ("", False)  # the host's cores unknown: nothing said


def test_each_container_says_its_cores_and_the_host_its_core_count() -> None:
    docker = FakeDocker()
    docker.add("p", "pinned", {"sutazai.tier": "critical"}, host_config={"CpusetCpus": "1"})
    docker.add("f", "free", {"sutazai.tier": "monitoring"})
    docker.add("x", "exited", status="exited", host_config={"CpusetCpus": "0"})
    clock = Clock()
    collector = Collector(docker, (), workers=2, oom=OomWatcher(docker, clock=clock), clock=clock)
    collector.step()
    collector.step()
    assert docker.info_calls == 1  # the host's cores do not change: asked once
    parsed = parse_metrics(collector.render(stale_after_s=5))
    info = "container_spec_cpuset_cpus_info"
    assert (
        series(parsed, info, name="pinned", cpus="1", pinned="true", container_label_sutazai_tier="critical")
        == 1
    )
    assert series(parsed, info, name="free", cpus="0-1", pinned="false") == 1
    assert series(parsed, info, name="exited", cpus="0", pinned="true") == 1  # a spec, as cAdvisor's
    assert series(parsed, "machine_cpu_cores") == 2


def test_without_the_hosts_cores_an_unpinned_container_says_nothing() -> None:
    docker = FakeDocker()
    docker.add("f", "free")
    docker.add("p", "pinned", host_config={"CpusetCpus": "0"})

    def failing_info() -> dict[str, object]:
        raise DockerError("docker /info: HTTP 500", 500)

    docker.info = failing_info  # type: ignore[method-assign]
    clock = Clock()
    collector = Collector(docker, (), workers=2, oom=OomWatcher(docker, clock=clock), clock=clock)
    collector.step()
    parsed = parse_metrics(collector.render(stale_after_s=5))
    assert [k for k in parsed if k[0] == "machine_cpu_cores"] == []
    cpusets = [dict(k[1])["name"] for k in parsed if k[0] == "container_spec_cpuset_cpus_info"]
    assert cpusets == ["pinned"]
    assert sample_from_docker(docker.inspect("f"), None, 4).cpus == "0-3"
