"""``faultproxy``: run the server with toxiproxy-server's flags.

    faultproxy [-host localhost] [-port 8474] [-config proxies.json] [-proxy-metrics]
               [-runtime-metrics] [-seed N] [-version]

Flags are parsed as Go's flag package does (``-name value``, ``-name=value``, one or two dashes,
booleans without a value). A bad flag or an unreadable/invalid -config file prints one line on stderr
and exits 2; everything the server does is logged as JSON lines on stderr. ``LOG_LEVEL`` (trace,
debug, info, warn, error, off) is read here, as toxiproxy-server reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass

from faultproxy import VERSION, jsonwire, proxy_json
from faultproxy.errors import AddressError, ApiError, ConfigError
from faultproxy.logs import LEVELS, Logger, loop_exception_handler, route_stdlib_logging
from faultproxy.proxy import PopulateError, ProxySpec
from faultproxy.server import FaultProxyServer

USAGE = """Usage of faultproxy:
  -config string
        JSON file containing proxies to create on startup
  -host string
        Host for toxiproxy's API to listen on (default "localhost")
  -port string
        Port for toxiproxy's API to listen on (default "8474")
  -proxy-metrics
        enable metrics for proxy
  -runtime-metrics
        enable metrics for process runtime
  -seed int
        Seed for randomizing toxics with
  -version
        print the version"""

_BOOL_FLAGS = {"proxy-metrics", "runtime-metrics", "version", "help", "h"}
_VALUE_FLAGS = {"host", "port", "config", "seed"}
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


@dataclass(frozen=True, slots=True)
class Options:
    host: str = "localhost"
    port: int = 8474
    config: str | None = None
    proxy_metrics: bool = False
    runtime_metrics: bool = False
    seed: int | None = None
    version: bool = False
    help: bool = False


def parse_go_flags(argv: Sequence[str], booleans: set[str], valued: set[str]) -> dict[str, str | bool]:
    """Go's flag package: ``-name value``, ``-name=value``, one or two dashes, booleans without a value;
    parsing stops at the first non-flag argument or ``--``. Raises ConfigError in Go's words."""
    values: dict[str, str | bool] = {}
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg == "--" or not arg.startswith("-") or arg == "-":
            break
        body = arg[2:] if arg.startswith("--") else arg[1:]
        if not body or body.startswith("-") or body.startswith("="):
            raise ConfigError(f"bad flag syntax: {arg}")
        name, has_value, value = body.partition("=")
        if name in booleans:
            if not has_value:
                values[name] = True
            elif value in _TRUE or value in _FALSE:
                values[name] = value in _TRUE
            else:
                raise ConfigError(f'invalid boolean value "{value}" for -{name}: parse error')
        elif name in valued:
            if not has_value:
                if index >= len(argv):
                    raise ConfigError(f"flag needs an argument: -{name}")
                value = argv[index]
                index += 1
            values[name] = value
        else:
            raise ConfigError(f"flag provided but not defined: -{name}")
    return values


def parse_args(argv: Sequence[str]) -> Options:
    """toxiproxy-server's flags. Raises ConfigError."""
    values = parse_go_flags(argv, _BOOL_FLAGS, _VALUE_FLAGS)
    port_text = str(values.get("port", "8474"))
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f'invalid value "{port_text}" for flag -port: not a port number')
    seed_text = values.get("seed")
    seed = None
    if seed_text is not None:
        try:
            seed = int(str(seed_text))
        except ValueError:
            raise ConfigError(f'invalid value "{seed_text}" for flag -seed: parse error') from None
    config = values.get("config")
    return Options(
        host=str(values.get("host", "localhost")),
        port=int(port_text),
        config=str(config) if config is not None else None,
        proxy_metrics=bool(values.get("proxy-metrics", False)),
        runtime_metrics=bool(values.get("runtime-metrics", False)),
        seed=seed,
        version=bool(values.get("version", False)),
        help=bool(values.get("help", False) or values.get("h", False)),
    )


def load_config(path: str) -> list[ProxySpec]:
    """The proxies of a populate JSON file. Raises ConfigError naming the file (and line)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"config {path}: cannot read: {reason}") from None
    decoder = json.JSONDecoder(object_pairs_hook=jsonwire.Pairs)
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config {path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    try:
        return proxy_json.parse_populate_value(value)
    except ApiError as exc:
        raise ConfigError(f"config {path}: {exc.message}") from None


async def serve(options: Options, logger: Logger, specs: list[ProxySpec]) -> int:
    server = FaultProxyServer(
        options.host,
        options.port,
        proxy_metrics=options.proxy_metrics,
        runtime_metrics=options.runtime_metrics,
        logger=logger,
        seed=options.seed,
    )
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(loop_exception_handler(logger))
    try:
        if specs:
            try:
                proxies = await server.populate(specs)
            except PopulateError as exc:
                raise ConfigError(f"config {options.config}: {exc.error.message}") from None
            logger.info("Populated proxies from file", config=options.config, proxies=len(proxies))
        try:
            await server.start()
        except AddressError as exc:
            print(f"faultproxy: {exc}", file=sys.stderr)
            return 1
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        logger.info("Shutting down")
        return 0
    finally:
        await server.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        options = parse_args(args)
        if options.help:
            print(USAGE, file=sys.stderr)
            return 0
        if options.version:
            print(VERSION)
            return 0
        level = os.environ.get("LOG_LEVEL", "info").lower()
        if level not in LEVELS:
            raise ConfigError(f"LOG_LEVEL {level!r} is not one of {', '.join(LEVELS)}")
        specs = load_config(options.config) if options.config is not None else []
        logger = Logger(sys.stderr, level)
        route_stdlib_logging(logger)
        raise_open_file_limit()
        return _run(serve(options, logger, specs))
    except ConfigError as exc:
        print(f"faultproxy: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def raise_open_file_limit() -> None:
    """Two sockets per proxied connection: lift the soft RLIMIT_NOFILE to the hard one, as Go does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _run(coro: Coroutine[object, object, int]) -> int:
    """asyncio.run, on uvloop when it happens to be installed (it is optional, never required)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    result: int = uvloop.run(coro)
    return result
