"""The models this server can "pull": names, sizes and the metadata /api/tags reports."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEFAULT_CATALOG = "tinyllama=33554432,phi=50331648,llama3.2=67108864"


@dataclass(frozen=True, slots=True)
class Model:
    name: str  # always with a tag, e.g. "tinyllama:latest"
    size: int  # bytes held in memory while loaded

    @property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.name}:{self.size}".encode()).hexdigest()

    @property
    def family(self) -> str:
        return self.name.split(":", 1)[0].rstrip("0123456789.") or "llama"

    @property
    def parameter_size(self) -> str:
        # A Q4 model holds about half a byte per parameter.
        params = self.size * 2
        if params >= 1_000_000_000:
            return f"{params / 1e9:.1f}B"
        return f"{params / 1e6:.0f}M"


def normalize_name(name: str) -> str:
    """Ollama treats "phi" and "phi:latest" as the same model."""
    name = name.strip()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def parse_catalog(text: str) -> tuple[Model, ...]:
    """Parse MODEL_CATALOG, e.g. "tinyllama=50331648,phi=67108864" (sizes in bytes)."""
    models: dict[str, Model] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, size_text = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"MODEL_CATALOG entry {item!r} is not name=bytes")
        try:
            size = int(size_text)
        except ValueError:
            raise ValueError(f"MODEL_CATALOG entry {item!r}: size {size_text!r} is not an integer") from None
        if size <= 0:
            raise ValueError(f"MODEL_CATALOG entry {item!r}: size must be positive")
        model = Model(normalize_name(name), size)
        if model.name in models:
            raise ValueError(f"MODEL_CATALOG names {model.name!r} twice")
        models[model.name] = model
    if not models:
        raise ValueError("MODEL_CATALOG is empty")
    return tuple(models.values())
