"""Static compliance lint: judges compose files against architecture-rules.md without running anything.

Flow: ``loader`` (read, interpolate, merge -f overrides; refuse what Compose refuses) -> ``model`` (typed
services with file:line, read by ``fields``; limits resolved by ``limits`` as the Compose CLI of
``compose_cli`` does) -> ``rules`` (one small check per rule number) -> ``engine`` (suppressions, summary)
-> ``formats``.
Nothing is imported here so that ``python -m harness lint`` starts fast.
"""
