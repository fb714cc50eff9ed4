"""The user a locally built image runs as: the last ``USER`` of the Dockerfile's final stage.

Rule 9.3 accepts a non-root ``USER`` in the Dockerfile a service builds from, as Docker does when the
compose file sets no ``user``. Remote build contexts (git, http) are not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.lint.merge import key_loc
from harness.yamlsource import LinedDict


@dataclass(frozen=True, slots=True)
class ImageUser:
    dockerfile: str  # path as shown in findings
    user: str | None  # None: the final stage sets no USER
    line: int


def final_stage_user(text: str) -> tuple[str | None, int]:
    user: str | None = None
    line_of_user = 0
    logical = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if not logical:
            start = number
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        instruction, _, argument = logical.partition(" ")
        logical = ""
        if instruction.upper() == "FROM":
            user, line_of_user = None, 0
        elif instruction.upper() == "USER":
            user, line_of_user = argument.strip(), start
    return user, line_of_user


def image_user(service: LinedDict) -> ImageUser | None:
    """The final stage's USER of the service's local Dockerfile; None when there is none to read."""
    build = service.get("build")
    if build is None:
        return None
    compose_dir = Path(key_loc(service, "build").file).parent
    if isinstance(build, LinedDict):
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
        inline = build.get("dockerfile_inline")
        if isinstance(inline, str):
            user, line = final_stage_user(inline)
            return ImageUser("dockerfile_inline", user, line)
    else:
        context, dockerfile = build, "Dockerfile"
    context = str(context)
    if "://" in context or context.startswith("git@"):
        return None
    path = compose_dir / context / str(dockerfile)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    user, line = final_stage_user(text)
    return ImageUser(str(path), user, line)
