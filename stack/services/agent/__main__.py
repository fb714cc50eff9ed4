"""`python3 -m agent`: read the environment once, serve until SIGTERM/SIGINT, exit 0."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from aiohttp import web

from refstack_common import jsonlog
from refstack_common.jsonlog import fields

from . import tracing
from .app import Agent
from .config import Config, ConfigError

log = logging.getLogger("agent")


async def serve(cfg: Config) -> int:
    agent = Agent(cfg)
    agent.restore_state()
    runner = web.AppRunner(agent.build_app(), handle_signals=False, access_log=None)
    await runner.setup()
    loop = asyncio.get_running_loop()
    try:
        # our own listener, so that shutdown can stop accepting while in-flight requests finish
        server = await loop.create_server(
            runner.server, host=cfg.bind_host, port=cfg.port, reuse_address=True
        )
    except OSError as exc:
        log.error("cannot listen", extra=fields(host=cfg.bind_host, port=cfg.port, error=str(exc)))
        await runner.cleanup()
        return 1

    stop = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        log.info("shutdown signal received", extra=fields(signal=signum.name))
        stop.set()

    def ignore_sigterm() -> None:
        log.warning("SIGTERM ignored (SIGTERM_HANDLING=ignore)")

    loop.add_signal_handler(signal.SIGINT, on_signal, signal.SIGINT)
    if cfg.sigterm_handling == "ignore":
        loop.add_signal_handler(signal.SIGTERM, ignore_sigterm)
    else:
        loop.add_signal_handler(signal.SIGTERM, on_signal, signal.SIGTERM)

    agent.start_background()
    log.info(
        "listening",
        extra=fields(
            port=cfg.port,
            dependencies=sorted(agent.breakers),
            consumes_queue=agent.consumer is not None,
            breaker_enabled=cfg.breaker_enabled,
            fallback_enabled=cfg.fallback_enabled,
            dependency_timeout_s=cfg.dependency_timeout_s,
            max_concurrent=cfg.max_concurrent,
        ),
    )
    await stop.wait()

    server.close()
    await agent.stop()
    if runner.server is not None:
        await runner.server.shutdown(1.0)
    await runner.cleanup()
    log.info("stopped")
    return 0


def main() -> int:
    try:
        cfg = Config.from_env(os.environ)
    except ConfigError as exc:
        jsonlog.bad_config("agent", "agent", exc)
        return 2
    jsonlog.setup(cfg.agent_name, logging.INFO, context=tracing.log_fields, plain=cfg.log_format == "text")
    logging.captureWarnings(True)  # library warnings become JSON lines too, not raw stderr text
    return asyncio.run(serve(cfg))


if __name__ == "__main__":
    sys.exit(main())
