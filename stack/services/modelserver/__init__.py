"""Ollama-API-compatible model server that burns real CPU per token and holds real memory per model.

Run with ``python3 -m modelserver``. Pure logic (config, catalog, scheduler, pool, burn, generation) uses
only the standard library so it can be unit-tested from any interpreter; ``app`` and ``metrics`` need
aiohttp and prometheus_client (Debian packages).
"""
