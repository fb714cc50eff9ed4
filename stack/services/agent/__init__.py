"""The reference stack's AI agent: one codebase run as agent-orchestrator,
agent-summarizer and agent-indexer, configured only by environment variables.

Pure modules (no third-party imports, unit-tested under the project venv):
config, breaker, guard, modelpool, retry, hibernation, state, tracing.
I/O modules: app, deps, queue, metrics, __main__.
"""
