"""The Allure report of a test, built and served the way a person gets it: by the Makefile's own
``report`` target (which installs Allure 2 from npm on first use and carries the previous report's
history forward), on 127.0.0.1 (Allure builds its pages with JavaScript, which ``file://`` does not load).
"""

from __future__ import annotations

import re
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "reports" / "screenshots"


def make_report(results: Path, report: Path) -> None:
    """``make report`` on these folders: the history of ``report`` is carried into the new one."""
    if shutil.which("java") is None:
        pytest.skip("no java: Allure 2 runs on it (make host-tools installs openjdk-17-jre-headless)")
    command = [
        "make",
        "-s",
        "-C",
        str(ROOT),
        "report",
        f"ALLURE_RESULTS={results}",
        f"ALLURE_REPORT={report}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def serve(directory: Path) -> Iterator[str]:
    """``python -m http.server`` on a free port of 127.0.0.1; yields its URL, stops it after."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(directory),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], 15)
        line = server.stdout.readline() if ready else ""
        port = re.search(r" port (\d+) ", line)
        assert port, f"http.server did not say where it serves: {line!r}"
        yield f"http://127.0.0.1:{port.group(1)}"
    finally:
        server.terminate()
        server.wait(timeout=10)
