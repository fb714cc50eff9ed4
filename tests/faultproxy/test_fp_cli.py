"""The ``faultproxy`` command: flags as toxiproxy-server, -config loading, one-line errors with exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from fp_support import RunningServer, free_port, refused, split_listen

from faultproxy import healthcheck
from faultproxy.cli import Options, main, parse_args


def test_parse_go_style_flags() -> None:
    assert parse_args([]) == Options()
    options = parse_args(
        ["-host", "0.0.0.0", "--port=9000", "-config=x.json", "--proxy-metrics", "-seed", "3"]
    )
    assert options == Options(host="0.0.0.0", port=9000, config="x.json", proxy_metrics=True, seed=3)
    assert parse_args(["-proxy-metrics=false"]).proxy_metrics is False
    assert parse_args(["-port", "1", "positional", "-bogus"]).port == 1  # Go stops at the first non-flag


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-bogus"], "flag provided but not defined: -bogus"),
        (["-port"], "flag needs an argument: -port"),
        (["-port", "http"], 'invalid value "http" for flag -port'),
        (["-port", "70000"], 'invalid value "70000" for flag -port'),
        (["---host", "x"], "bad flag syntax: ---host"),
        (["-proxy-metrics=maybe"], 'invalid boolean value "maybe"'),
    ],
)
def test_bad_flags_print_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


def test_version_and_help(capsys: pytest.CaptureFixture) -> None:
    assert main(["-version"]) == 0
    assert capsys.readouterr().out.startswith("2.12.0")
    assert main(["-h"]) == 0
    assert "-config" in capsys.readouterr().err


def test_missing_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nope.json"
    assert main(["-config", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err and "No such file" in err


def test_invalid_json_config_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "bad.json"
    config.write_text('[\n  {"name": "a",\n   "upstream": "x:1",,\n  }\n]\n')
    assert main(["--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{config}:3:" in err, err


def test_invalid_config_content_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "noname.json"
    config.write_text(json.dumps([{"upstream": "127.0.0.1:9"}]))
    assert main(["-config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing required field: name at proxy 1" in err and str(config) in err
    config.write_text(json.dumps({"name": "x"}))
    assert main(["-config", str(config)]) == 2
    assert "cannot unmarshal object" in capsys.readouterr().err


def test_config_that_cannot_bind_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "bad-listen.json"
    config.write_text(json.dumps([{"name": "x", "upstream": "127.0.0.1:9", "listen": "local373"}]))
    assert main(["-config", str(config), "-port", str(free_port()), "-host", "127.0.0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "missing port in address" in err[-1] and str(config) in err[-1]


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


COMMANDS = {
    "python -m": [sys.executable, "-m", "faultproxy"],
    "console script": [str(Path(sys.executable).with_name("faultproxy"))],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_server_process_loads_config_serves_and_stops_on_sigterm(tmp_path: Path, command: list[str]) -> None:
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed here (package not installed with its scripts)")
    config = tmp_path / "proxies.json"
    config.write_text(json.dumps([{"name": "cfg", "upstream": "127.0.0.1:9", "listen": "127.0.0.1:0"}]))
    port = free_port()
    process = subprocess.Popen(
        [*command, "-host", "127.0.0.1", "--port", str(port), "-config", str(config), "-proxy-metrics"],
        stderr=subprocess.PIPE,
        env={**os.environ, "LOG_LEVEL": "info"},
    )
    try:
        deadline = time.monotonic() + 10
        while refused(port):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
        status, body = _get(port, "/proxies")
        assert status == 200
        listen = json.loads(body)["cfg"]["listen"]
        assert split_listen(listen)[1] > 0
        status, body = _get(port, "/metrics")
        assert (
            status == 200 and b'toxiproxy_proxy_received_bytes_total{direction="upstream",proxy="cfg"' in body
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert refused(split_listen(listen)[1])
        assert process.stderr is not None
        lines = process.stderr.read().decode().splitlines()
        events = [json.loads(line) for line in lines]
        messages = [event["message"] for event in events]
        assert "Started proxy" in messages and "Populated proxies from file" in messages
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()


def test_healthcheck_exit_codes(fp: RunningServer, capsys: pytest.CaptureFixture) -> None:
    assert healthcheck.main(["-host", "127.0.0.1", "-port", str(fp.port)]) == 0
    dead = free_port()
    assert healthcheck.main(["--port", str(dead), "-timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unhealthy" in err and str(dead) in err
    assert healthcheck.main(["-bogus"]) == 2


def test_api_port_in_use_is_one_line_exit_1(capsys: pytest.CaptureFixture) -> None:
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        assert main(["-host", "127.0.0.1", "-port", str(port)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"faultproxy: listen tcp 127.0.0.1:{port}: bind: address already in use"
