"""Entry point: ``python3 -m modelserver``. Reads the environment once, then serves."""

from __future__ import annotations

import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from refstack_common import jsonlog, serve
from refstack_common.jsonlog import fields

from .app import ModelServer
from .config import load_config


def main() -> int:
    config = jsonlog.configure(load_config, os.environ, logger="modelserver", default_service="ollama")
    if config is None:
        return 2
    log = logging.getLogger("modelserver")
    executor = ThreadPoolExecutor(max_workers=config.burner_threads, thread_name_prefix="burn")
    server = ModelServer(config, executor)
    log.info(
        "starting",
        extra=fields(
            host=config.host,
            port=config.port,
            num_parallel=config.num_parallel,
            max_queue=config.max_queue,
            max_loaded_models=config.max_loaded_models,
            keep_alive_s=config.keep_alive_s,
            cpu_threads=config.burner_threads,
            token_cpu_ms=config.token_cpu_ms,
            models={m.name: m.size for m in config.catalog},
        ),
    )
    try:
        serve.run_app(server.build(), host=config.host, port=config.port, shutdown_timeout=5)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
