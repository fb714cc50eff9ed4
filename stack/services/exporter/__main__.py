"""Entry point: ``python3 -m exporter``. Reads the environment once, starts the collector threads, serves."""

from __future__ import annotations

import logging
import os
import sys
import threading

from refstack_common import jsonlog, serve
from refstack_common.jsonlog import fields

from .app import build_app
from .collector import Collector, OomWatcher
from .config import load_config
from .dockerapi import DockerClient


def main() -> int:
    config = jsonlog.configure(load_config, os.environ, logger="exporter", default_service="exporter")
    if config is None:
        return 2
    log = logging.getLogger("exporter")
    api = DockerClient(config.docker_host, config.docker_api_version, config.docker_timeout_s)
    oom = OomWatcher(api)
    collector = Collector(api, config.label_filters, config.workers, oom)
    stop = threading.Event()
    threads = [
        threading.Thread(target=oom.run, args=(stop,), name="oom-events", daemon=True),
        threading.Thread(
            target=collector.run, args=(stop, config.scrape_interval_s), name="collector", daemon=True
        ),
    ]
    for thread in threads:
        thread.start()
    log.info(
        "starting",
        extra=fields(
            port=config.port,
            docker_host=config.docker_host,
            label_filters=list(config.label_filters),
            scrape_interval_s=config.scrape_interval_s,
        ),
    )
    try:
        serve.run_app(build_app(config, collector), host=config.host, port=config.port, shutdown_timeout=2)
    finally:
        stop.set()
        collector.close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
