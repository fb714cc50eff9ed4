"""The documentation: the README stays short and points at every page of docs/; the site builds with
`mkdocs build --strict` (a broken link or anchor, or a page left out of the nav, fails); every heading's
anchor is the same on GitHub and on the site; docs/rules.md covers every rule section and claims only
lint rules and analyzers that exist; the schema page is what `harness slas --schema` prints."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

from harness.analyzers import ANALYZERS
from harness.catalogue.schema import catalogue_schema
from harness.lint.rules import RULES
from harness.rules import SECTIONS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def pages() -> list[str]:
    return sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))


def nav_pages(nav: object) -> list[str]:
    """Every page the mkdocs nav lists, however nested."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return []


def headings(path: Path) -> list[str]:
    """The text of every Markdown heading of a file, outside code fences."""
    found, fence = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.lstrip()):
            fence = not fence
        elif not fence and (m := re.match(r"^#{1,6} +(.*?) *#*$", line)):
            found.append(m.group(1))
    return found


def plain(heading: str) -> str:
    """A heading as both renderers see its text: code spans and links reduced to their text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return text.replace("`", "")


def github_slug(heading: str) -> str:
    """GitHub's anchor: lower case, punctuation other than - and _ dropped, each space a hyphen."""
    text = plain(heading).strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def mkdocs_slug(heading: str) -> str:
    """Python-Markdown's toc anchor (the one mkdocs uses)."""
    text = unicodedata.normalize("NFKD", plain(heading)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def test_the_readme_stays_under_300_lines() -> None:
    count = len(README.read_text(encoding="utf-8").splitlines())
    assert count < 300, f"README.md has {count} lines: move detail into docs/ (issue 12: under 300)"


def test_every_docs_page_is_in_the_nav_and_linked_from_the_readme() -> None:
    config = yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))
    listed = nav_pages(config["nav"])
    assert sorted(listed) == pages(), "mkdocs.yml's nav must list every page of docs/, and only those"
    targets = {link.split("#")[0] for link in LINK.findall(README.read_text(encoding="utf-8"))}
    missing = [page for page in pages() if f"docs/{page}" not in targets]
    assert not missing, f"pages the README does not link to: {missing}"


def test_readme_links_reach_a_file_and_a_heading() -> None:
    """README.md is read on GitHub, not built by mkdocs: its own links are checked here."""
    broken = []
    for link in LINK.findall(README.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = (ROOT / path) if path else README
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in {github_slug(h) for h in headings(target)}:
            broken.append(f"{link}: no heading with that anchor")
    assert not broken, broken


@pytest.mark.parametrize("page", pages())
def test_heading_anchors_are_the_same_on_github_and_on_the_site(page: str) -> None:
    """A link `page.md#anchor` must work both where GitHub renders the file and in the built site."""
    slugs = []
    for heading in headings(DOCS / page):
        assert github_slug(heading) == mkdocs_slug(heading), (
            f"{page}: heading {heading!r} has the anchor #{github_slug(heading)} on GitHub but "
            f"#{mkdocs_slug(heading)} on the site: reword it (no ' -x', no '--')"
        )
        slugs.append(github_slug(heading))
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    assert not duplicates, f"{page}: headings sharing an anchor (GitHub and mkdocs number them differently)"


def test_mkdocs_builds_the_site_strictly(tmp_path: Path) -> None:
    """Through the real mkdocs of this interpreter (the dev extras install it)."""
    site = tmp_path / "site"
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(MKDOCS_YML)]
    result = subprocess.run(
        [*command, "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}{result.stderr}"
    for page in pages():
        built = "index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html"
        assert (site / built).is_file(), f"{page} was not built"


def test_the_schema_page_is_what_harness_slas_schema_prints() -> None:
    shipped = json.loads((DOCS / "slas.schema.json").read_text(encoding="utf-8"))
    assert shipped == catalogue_schema(), (
        "docs/slas.schema.json is stale: python -m harness slas --schema > docs/slas.schema.json"
    )


RULES_PAGE = DOCS / "rules.md"


def rules_rows() -> dict[str, str]:
    """docs/rules.md's table rows by their first cell."""
    rows = {}
    for line in RULES_PAGE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and re.match(r"^\d+\.\d+ ", cells[0]):
            rows[cells[0]] = line
    return rows


def test_the_rules_page_covers_every_section_of_the_rules() -> None:
    numbers = {n for cell in rules_rows() for n in re.findall(r"\b(\d+\.\d+)\b", cell)}
    sections = {n for n in SECTIONS if "." in n}
    assert sections - numbers == set(), (
        f"sections without a row in docs/rules.md: {sorted(sections - numbers)}"
    )
    assert numbers - sections == set(), f"rows naming no section of the rules: {sorted(numbers - sections)}"


def test_the_rules_page_claims_exactly_the_lint_rules_that_exist() -> None:
    text = RULES_PAGE.read_text(encoding="utf-8")
    claimed = dict(re.findall(r"lint (\d+\.\d+), `(\w+\.check_\w+)`", text))
    registry = {
        rule.number: f"{rule.check.__module__.rsplit('.', 1)[1]}.{rule.check.__name__}" for rule in RULES
    }
    assert claimed == registry, (
        "docs/rules.md's static column must name each lint rule and its check as registered"
    )


def test_the_rules_page_names_every_analyzer_and_only_real_ones() -> None:
    text = RULES_PAGE.read_text(encoding="utf-8")
    unnamed = [name for name in ANALYZERS if f"`{name}`" not in text]
    assert not unnamed, f"analyzers docs/rules.md does not place under a rule: {unnamed}"
    # "`name`, objective `id`" and "`name` with the `fault` fault": the name is an analyzer.
    claimed = set(re.findall(r"`([a-z_]+)`,? (?:over [^,]*, )?(?:objectives? `|with the `)", text))
    assert claimed, "the pattern no longer finds the analyzers docs/rules.md names"
    assert claimed <= set(ANALYZERS), f"not analyzers: {sorted(claimed - set(ANALYZERS))}"


def test_the_rules_page_names_only_objectives_and_mutants_that_exist() -> None:
    text = RULES_PAGE.read_text(encoding="utf-8")
    catalogue = yaml.safe_load((ROOT / "slas.yaml").read_text(encoding="utf-8"))
    objectives = {o["id"] for o in catalogue["objectives"]}
    mutants = {p.stem for p in (ROOT / "stack" / "mutants").glob("*.yml")}
    named_objectives = set(re.findall(r"objectives? `([a-z0-9-]+)`", text))
    named_objectives |= set(re.findall(r"\) and `([a-z0-9-]+)` \(", text))
    assert named_objectives <= objectives, f"no such objective in slas.yaml: {named_objectives - objectives}"
    analyzer_objectives = {o["id"] for o in catalogue["objectives"]}
    unplaced = [o for o in analyzer_objectives if f"`{o}`" not in text]
    assert not unplaced, f"objectives of slas.yaml docs/rules.md does not place under a rule: {unplaced}"
    named_mutants = {
        m
        for group in re.findall(r"[Mm]utants? ((?:`[a-z0-9-]+`(?:, | and )?)+)", text)
        for m in re.findall(r"`([a-z0-9-]+)`", group)
    }
    assert named_mutants == mutants, (
        f"mutants named but absent: {sorted(named_mutants - mutants)}; "
        f"mutants not placed under a rule: {sorted(mutants - named_mutants)}"
    )


def page_text(*names: str) -> str:
    return "".join((DOCS / name).read_text(encoding="utf-8") for name in names)


def test_every_cli_command_and_option_is_in_the_cli_page() -> None:
    import argparse

    from harness.cli import COMMANDS, build_parser

    text = page_text("cli.md")
    assert "--version" in text
    missing = []
    for name in COMMANDS:
        if f"`{name}" not in text:
            missing.append(name)
        parser = build_parser([name])
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
        options = {o for action in sub._actions for o in action.option_strings} - {"-h", "--help"}
        missing += [
            f"{name} {o}"
            for o in sorted(options)
            if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", text)
        ]
    assert not missing, f"commands and options docs/cli.md does not mention: {missing}"


def schema_keys() -> list[str]:
    """slas.yaml's keys as the docs name them: top level, `group.key` below defaults, and the keys of
    scenarios, objectives and the top-level mappings."""
    top = catalogue_schema()["properties"]
    keys = list(top)
    for group, spec in top["defaults"]["properties"].items():
        keys += [f"{group}.{key}" for key in spec.get("properties", {})] or [group]
    scenario = top["scenarios"]["additionalProperties"]["properties"]
    keys += list(scenario) + list(top["objectives"]["items"]["properties"])
    for mapping in ("total_score", "load", "labels"):
        keys += list(top[mapping].get("properties", {}))
    return keys


def test_every_slas_key_is_in_the_slas_page() -> None:
    text = page_text("slas.md")

    def named(key: str) -> bool:
        group, _, leaf = key.rpartition(".")
        if f"`{key}" in text or f"{key}`" in text:
            return True
        return bool(group) and f"`{group}." in text and re.search(rf"\W{re.escape(leaf)}\W", text) is not None

    missing = [key for key in schema_keys() if not named(key)]
    assert not missing, f"slas.yaml keys docs/slas.md does not document: {missing}"


def test_every_analyzer_and_fault_kind_has_its_page() -> None:
    from harness.catalogue.model import FAULT_KINDS

    analyzers = page_text("analyzers.md")
    assert [a for a in ANALYZERS if f"`{a}`" not in analyzers] == [], (
        "analyzers missing from docs/analyzers.md"
    )
    faults = page_text("faults.md")
    assert [k for k in FAULT_KINDS if f"`{k}`" not in faults] == [], "fault kinds missing from docs/faults.md"


def test_every_make_target_is_in_the_running_page() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    assert phony, "Makefile has no .PHONY line"
    internal = {"help", "venv", "engine"}  # steps of the others, not targets a user runs
    text = page_text("running.md")
    missing = [t for t in phony.group(1).split() if t not in internal and f"`make {t}" not in text]
    assert not missing, f"make targets docs/running.md does not document: {missing}"


def proofs_table(path: Path) -> list[str]:
    """The rows of the table under the heading "Proofs, and their latest results"."""
    lines = path.read_text(encoding="utf-8").splitlines()
    heading = next(
        i for i, line in enumerate(lines) if line.lstrip("#").strip() == "Proofs, and their latest results"
    )
    rows: list[str] = []
    for line in lines[heading + 1 :]:
        if line.startswith("|"):
            rows.append(line)
        elif rows or line.startswith("#"):
            break
    return rows


def test_the_proofs_table_is_the_same_in_the_readme_and_the_benchmarks_page() -> None:
    """Issue 8 keeps the latest proof results in the README; docs/benchmarks.md repeats them: one edit, both."""
    readme, page = proofs_table(README), proofs_table(DOCS / "benchmarks.md")
    assert readme, "the README lost its table 'Proofs, and their latest results'"
    assert readme == page, "the proofs tables of README.md and docs/benchmarks.md differ: update both"
