"""What a /api/generate or /api/chat request asks for, the fake text it produces, and Ollama's shapes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from .catalog import normalize_name
from .durations import parse_duration

_VOCABULARY = [
    "the",
    "model",
    "considers",
    "the",
    "request",
    "and",
    "answers",
    "with",
    "care",
    "about",
    "systems",
    "queues",
    "latency",
    "memory",
    "budget",
    "token",
    "agent",
    "service",
    "health",
    "metric",
    "circuit",
    "breaker",
    "fallback",
    "retry",
    "timeout",
    "signal",
    "state",
    "pool",
    "cache",
    "graph",
    "phase",
    "limit",
    "cpu",
    "core",
    "container",
    "network",
    "proxy",
    "fault",
    "chaos",
    "steady",
    "hypothesis",
]


class RequestError(Exception):
    """A request Ollama would refuse; ``status`` is the HTTP status, ``str(self)`` the error text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    model: str  # normalized, with tag
    prompt: str  # for chat: the messages' contents joined
    chat: bool  # /api/chat: answers are {"message": {...}} instead of {"response": ...}
    stream: bool
    num_predict: int
    limited: bool  # num_predict came from the request: stopping there is done_reason "length"
    keep_alive_s: float | None  # None = server default


def _chat_prompt(messages: object) -> str:
    if messages is None:
        return ""
    if not isinstance(messages, list):
        raise RequestError(400, "messages must be a list")
    parts = []
    for message in messages:
        if not isinstance(message, Mapping) or not isinstance(message.get("content", ""), str):
            raise RequestError(400, "each message must be an object with a string content")
        parts.append(message.get("content", ""))
    return "\n".join(parts)


def parse_request(
    body: object, default_num_predict: int, max_num_predict: int, chat: bool
) -> GenerateRequest:
    if not isinstance(body, Mapping):
        raise RequestError(400, "invalid request body: expected a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise RequestError(400, "model is required")
    if chat:
        prompt = _chat_prompt(body.get("messages"))
    else:
        prompt = body.get("prompt") or ""
        if not isinstance(prompt, str):
            raise RequestError(400, "prompt must be a string")
    stream = body.get("stream", True)
    if stream is None:
        stream = True
    if not isinstance(stream, bool):
        raise RequestError(400, "stream must be a boolean")
    options = body.get("options") or {}
    if not isinstance(options, Mapping):
        raise RequestError(400, "options must be an object")
    raw_predict = options.get("num_predict")
    limited = raw_predict is not None
    if raw_predict is None:
        num_predict = default_num_predict
    elif isinstance(raw_predict, bool) or not isinstance(raw_predict, int | float):
        raise RequestError(400, "options.num_predict must be an integer")
    elif raw_predict < 0:
        # -1 means "until the model stops" in Ollama; bounded here.
        num_predict, limited = max_num_predict, False
    else:
        num_predict = min(int(raw_predict), max_num_predict)
    keep_alive_s = None
    raw_keep = body.get("keep_alive")
    if raw_keep is not None:
        try:
            keep_alive_s = parse_duration(raw_keep)
        except ValueError:
            raise RequestError(400, f"time: invalid duration {raw_keep!r}") from None
    return GenerateRequest(normalize_name(model), prompt, chat, stream, num_predict, limited, keep_alive_s)


def prompt_tokens(prompt: str) -> int:
    return max(1, len(prompt.split()))


def words(prompt: str, count: int) -> Iterator[str]:
    """Deterministic pseudo-text for a prompt: the same prompt gives the same answer."""
    seed = hashlib.sha256(prompt.encode()).digest()
    for i in range(count):
        index = int.from_bytes(hashlib.sha256(seed + i.to_bytes(4, "big")).digest()[:4], "big")
        word = _VOCABULARY[index % len(_VOCABULARY)]
        yield word if i == 0 else f" {word}"


def timestamp(now: datetime | None = None) -> str:
    """RFC 3339 in UTC with a Z, as Ollama prints created_at/expires_at."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def ns(seconds: float) -> int:
    return int(seconds * 1e9)


def chunk(model: str, chat: bool, text: str, done: bool = False) -> dict[str, object]:
    """One answer object: a stream chunk, or the head of the final one."""
    body: dict[str, object] = {"model": model, "created_at": timestamp()}
    if chat:
        body["message"] = {"role": "assistant", "content": text}
    else:
        body["response"] = text
    body["done"] = done
    return body


@dataclass(frozen=True, slots=True)
class Timings:
    total_s: float
    load_s: float
    prompt_eval_count: int
    prompt_eval_s: float
    eval_count: int
    eval_s: float


def final_fields(timings: Timings, done_reason: str, chat: bool) -> dict[str, object]:
    fields: dict[str, object] = {"done": True, "done_reason": done_reason}
    if not chat:
        fields["context"] = []  # token ids in Ollama; nothing to continue from here
    fields.update(
        total_duration=ns(timings.total_s),
        load_duration=ns(timings.load_s),
        prompt_eval_count=timings.prompt_eval_count,
        prompt_eval_duration=ns(timings.prompt_eval_s),
        eval_count=timings.eval_count,
        eval_duration=ns(timings.eval_s),
    )
    return fields
