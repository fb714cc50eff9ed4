"""Static compliance lint: judges compose files against architecture-rules.md without running anything.

Flow: ``loader`` (read, interpolate, merge -f overrides) -> ``model`` (typed services with file:line)
-> ``rules`` (one small check per rule number) -> ``engine`` (suppressions, summary) -> ``formats``.
Nothing is imported here so that ``python -m harness lint`` starts fast.
"""
