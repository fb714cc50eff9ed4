"""Entry point: ``python3 -m modelserver``. Reads the environment once, then serves."""

from __future__ import annotations

import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from refstack_common import jsonlog
from refstack_common.jsonlog import fields

from .app import ModelServer
from .config import load_config


def main() -> int:
    try:
        config = load_config(os.environ)
    except ValueError as exc:
        jsonlog.bad_config("ollama", "modelserver", exc)
        return 2
    jsonlog.setup(config.service, config.log_level)
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
        web.run_app(
            server.build(),
            host=config.host,
            port=config.port,
            access_log=None,
            print=None,
            shutdown_timeout=5,
        )
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
