"""Build the images a compose project declares, only when their inputs changed.

Each image built here carries the label ``harness.inputs-hash``: a SHA-256 over its Dockerfile and the
files of its build context that ``.dockerignore`` lets through. A second ``make`` finds the label equal
and skips the build entirely (Docker's own layer cache would still cost a context upload per image).

Base images named in ``FROM`` are pulled; where no registry answers, a ``debian:<suite>[-slim]`` base is
made with debootstrap and ``docker import`` (see ENVIRONMENT.md: no registry is reachable there).

An image the compose files name without a ``build:`` (built elsewhere, as from a registry) is pulled when
the engine lacks it, before the stack comes up; one that cannot be pulled stops the run with one line naming
it and saying how to get it, instead of a pull failing inside ``compose up``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import StackError

INPUTS_LABEL = "harness.inputs-hash"
BUILD_LOG = Path("reports/build.log")
PULL_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class ImageBuild:
    """One image to build: its tag, its context directory and its Dockerfile."""

    image: str
    context: Path
    dockerfile: Path


def _say(message: str) -> None:
    print(f"harness: {message}", file=sys.stderr, flush=True)


def _ignore_patterns(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """Parse .dockerignore into (is_exception, regex) pairs; the last matching pattern wins."""
    path = context / ".dockerignore"
    if not path.exists():
        return []
    patterns = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        glob = line[1:] if negate else line
        glob = glob.strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]")
        # A pattern that names a directory covers everything below it, as in Docker.
        patterns.append((negate, re.compile(f"^{regex}(/.*)?$")))
    return patterns


def _included(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    included = True
    for negate, regex in patterns:
        if regex.match(relative):
            included = negate
    return included


def context_files(context: Path) -> Iterator[Path]:
    """The files Docker would send as build context, in a stable order."""
    patterns = _ignore_patterns(context)
    for root, dirs, files in os.walk(context):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if _included(path.relative_to(context).as_posix(), patterns):
                yield path


def inputs_hash(build: ImageBuild) -> str:
    digest = hashlib.sha256()
    for path in [build.dockerfile, *context_files(build.context)]:
        digest.update(path.as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _image_label(image: str) -> str | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", f'{{{{index .Config.Labels "{INPUTS_LABEL}"}}}}', image],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _image_exists(image: str) -> bool:
    return (
        subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=False).returncode
        == 0
    )


def base_images(dockerfile: Path) -> list[str]:
    bases = []
    for line in dockerfile.read_text().splitlines():
        match = re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", line, re.IGNORECASE)
        if match and match.group(1).lower() != "scratch":
            bases.append(match.group(1))
    return bases


def _debian_mirror() -> str:
    for source in [*Path("/etc/apt/sources.list.d").glob("*.sources"), Path("/etc/apt/sources.list")]:
        if source.exists():
            match = re.search(r"(?:URIs:|deb)\s+(https?://\S+/debian)\b", source.read_text())
            if match:
                return match.group(1)
    return "http://deb.debian.org/debian"


def _debootstrap_base(image: str) -> None:
    suite = image.split(":", 1)[1].removesuffix("-slim")
    if shutil.which("debootstrap") is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise StackError(f"cannot pull {image} and debootstrap is not installed to build it")
        subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], capture_output=True, check=True)
    _say(f"no registry answers: building {image} with debootstrap (about a minute)")
    with tempfile.TemporaryDirectory(prefix="harness-rootfs-") as tmp:
        root = Path(tmp) / "root"
        with open(BUILD_LOG, "ab") as log:
            step = subprocess.run(
                ["debootstrap", "--variant=minbase", suite, str(root), _debian_mirror()],
                stdout=log,
                stderr=log,
                check=False,
            )
            if step.returncode != 0:
                raise StackError(f"debootstrap of {suite} failed; see {BUILD_LOG}")
            tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
            imported = subprocess.run(
                ["docker", "import", "-", image], stdin=tar.stdout, stdout=log, check=False
            )
            tar.wait()
        if imported.returncode != 0:
            raise StackError(f"docker import of {image} failed; see {BUILD_LOG}")


def ensure_base_image(image: str) -> None:
    if _image_exists(image):
        return
    try:
        pulled = subprocess.run(["docker", "pull", image], capture_output=True, timeout=120, check=False)
        if pulled.returncode == 0:
            return
    except subprocess.TimeoutExpired:
        pass
    if not re.fullmatch(r"debian:[a-z]+(-slim)?", image):
        raise StackError(f"cannot pull base image {image} and know no other way to make it")
    _debootstrap_base(image)


def build_images(builds: list[ImageBuild], force: bool = False, no_cache: bool = False) -> list[str]:
    """Build every image whose inputs changed (all with ``force``; ``no_cache`` also bypasses Docker's
    layer cache, for a cold build); return the tags that were (re)built."""
    BUILD_LOG.parent.mkdir(parents=True, exist_ok=True)
    built = []
    for build in builds:
        digest = inputs_hash(build)
        if not force and _image_label(build.image) == digest:
            continue
        for base in base_images(build.dockerfile):
            ensure_base_image(base)
        _say(f"building {build.image} (log: {BUILD_LOG})")
        argv = ["docker", "build", "--label", f"{INPUTS_LABEL}={digest}", "-t", build.image]
        if no_cache:
            argv.append("--no-cache")
        argv += ["-f", str(build.dockerfile), str(build.context)]
        with open(BUILD_LOG, "ab") as log:
            if subprocess.run(argv, stdout=log, stderr=log, check=False).returncode != 0:
                raise StackError(f"building {build.image} failed; see {BUILD_LOG}")
        built.append(build.image)
    return built


def require_images(images: Mapping[str, Sequence[str]]) -> None:
    """Every image of ``images`` (image -> the services that run it, none built here) on the engine: pulled
    when missing; a StackError naming the image when it cannot be."""
    for image, services in images.items():
        if _image_exists(image):
            continue
        _say(f"pulling {image}: not on the engine, and no compose file given says how to build it")
        try:
            pulled = subprocess.run(
                ["docker", "pull", image], capture_output=True, text=True, timeout=PULL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            reason = f"the pull took longer than {PULL_TIMEOUT_S:g}s"
        else:
            if pulled.returncode == 0:
                continue
            lines = (pulled.stderr or "").strip().splitlines()
            reason = lines[-1] if lines else f"docker pull exited {pulled.returncode}"
        which = f"{'service' if len(services) == 1 else 'services'} {', '.join(services)}"
        raise StackError(
            f"image {image} ({which}) is not on the engine and could not be pulled "
            f"({reason}): build it first, e.g. `harness build --stack <your compose files> <the file declaring "
            "its build:>`, or push it where the engine can pull it"
        )
