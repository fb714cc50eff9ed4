"""RabbitMQ: the task queue topology, a publisher with confirms, and the consumer.

Topology (rule 3.3), declared identically by every agent that touches it:
  queue `tasks`       durable, x-max-priority 10, x-message-ttl 60000,
                      x-dead-letter-exchange `tasks.dlx`
  exchange `tasks.dlx` fanout, durable  ->  queue `tasks.dead` durable
The knobs QUEUE_PRIORITY=false and QUEUE_DEAD_LETTER=false leave an argument out (mutants no-priority,
no-dead-letter). Every message carries the x-published-at header (its queue wait is measured from it) and
may carry a per-message TTL (`expiration`) shorter than the queue's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiormq
import aiormq.abc
import aiormq.exceptions
from pamqp.commands import Basic

from .deps import close_in_background
from .guard import bounded
from .queuemetrics import PUBLISHED_AT_HEADER
from .retry import Backoff, Observe, RetryPolicy

log = logging.getLogger("agent.queue")

QUEUE = "tasks"
DLX = "tasks.dlx"
DEAD_QUEUE = "tasks.dead"
MAX_PRIORITY = 10
MESSAGE_TTL_MS = 60000
PREFETCH = 8


@dataclass(frozen=True, slots=True)
class Topology:
    priority: bool = True
    """x-max-priority on `tasks` (QUEUE_PRIORITY=false: a FIFO queue, mutant no-priority)."""
    dead_letter: bool = True
    """x-dead-letter-exchange on `tasks` (QUEUE_DEAD_LETTER=false: rejected and expired messages are
    dropped, mutant no-dead-letter)."""

    def arguments(self) -> dict[str, int | str]:
        args: dict[str, int | str] = {"x-message-ttl": MESSAGE_TTL_MS}
        if self.priority:
            args["x-max-priority"] = MAX_PRIORITY
        if self.dead_letter:
            args["x-dead-letter-exchange"] = DLX
        return args


async def declare_topology(channel: aiormq.abc.AbstractChannel, topology: Topology = Topology()) -> None:
    await channel.exchange_declare(exchange=DLX, exchange_type="fanout", durable=True)
    await channel.queue_declare(DEAD_QUEUE, durable=True)
    await channel.queue_bind(DEAD_QUEUE, DLX, routing_key="")
    await channel.queue_declare(QUEUE, durable=True, arguments=topology.arguments())


async def open_channel(
    connection: aiormq.abc.AbstractConnection, topology: Topology, *, publisher_confirms: bool
) -> aiormq.abc.AbstractChannel:
    """A channel on which the topology is declared. A durable queue's arguments cannot change in place:
    when `tasks` exists with other ones (a broker kept up while the agents changed topology, as the mutant
    runs do), an empty `tasks` is deleted and declared anew; one holding messages is left as it is and
    the declaration fails (PRECONDITION_FAILED) until it is drained."""
    channel = await connection.channel(publisher_confirms=publisher_confirms)
    try:
        await declare_topology(channel, topology)
    except aiormq.exceptions.ChannelPreconditionFailed as exc:
        log.warning("queue %s has other arguments (%s); replacing it if empty", QUEUE, exc)
        spare = await connection.channel(publisher_confirms=False)
        await spare.queue_delete(QUEUE, if_empty=True)
        await spare.close()
        channel = await connection.channel(publisher_confirms=publisher_confirms)
        await declare_topology(channel, topology)
    return channel


class Publisher:
    """Publishes to `tasks` with publisher confirms over one lazily opened connection."""

    def __init__(self, url: Callable[[], str], topology: Topology = Topology()) -> None:
        self._url = url
        self._topology = topology
        self._connection: aiormq.abc.AbstractConnection | None = None
        self._channel: aiormq.abc.AbstractChannel | None = None
        self._lock = asyncio.Lock()

    async def _open(self) -> aiormq.abc.AbstractChannel:
        async with self._lock:
            if self._channel is None or self._channel.is_closed:
                self.reset()
                connection = await aiormq.connect(self._url())
                try:
                    channel = await open_channel(connection, self._topology, publisher_confirms=True)
                except BaseException:
                    close_in_background("rabbitmq", connection.close())
                    raise
                self._connection, self._channel = connection, channel
            return self._channel

    async def publish(
        self,
        *,
        body: bytes,
        priority: int,
        message_id: str,
        headers: dict[str, str],
        expiration_ms: int | None = None,
    ) -> None:
        channel = await self._open()
        confirm = await channel.basic_publish(
            body,
            exchange="",
            routing_key=QUEUE,
            properties=Basic.Properties(
                content_type="application/json",
                delivery_mode=2,
                priority=max(0, min(MAX_PRIORITY, priority)),
                message_id=message_id,
                headers={**headers, PUBLISHED_AT_HEADER: f"{time.time():.6f}"},
                expiration=str(expiration_ms) if expiration_ms else None,
            ),
        )
        if not isinstance(confirm, Basic.Ack):
            raise RuntimeError(f"broker did not confirm the message: {type(confirm).__name__}")

    async def ping(self) -> None:
        await self._open()

    def reset(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            close_in_background("rabbitmq", connection.close())

    async def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            await asyncio.wait_for(connection.close(), 2.0)


Handler = Callable[[aiormq.abc.DeliveredMessage], Awaitable[bool]]


class Consumer:
    """Consumes `tasks` until stopped; reconnects with exponential backoff (rule 10.2): retries after
    1, 2, 4 s, then a cool-down before a new series; a connection that got as far as consuming ends its
    series, and its loss is the failed first attempt of the next.

    The handler returns True to ack, False to reject without requeue (the
    message goes to the dead-letter queue).
    """

    def __init__(
        self,
        url: Callable[[], str],
        handler: Handler,
        policy: RetryPolicy,
        timeout: float | None,
        observe: Observe | None = None,
    ) -> None:
        self._url = url
        self._handler = handler
        self._policy = policy
        self._observe = observe
        self._timeout = timeout
        self._connection: aiormq.abc.AbstractConnection | None = None
        self._stopping = asyncio.Event()
        self.consumed = False  # the current connection reached basic.consume

    async def run(self) -> None:
        backoff = Backoff(self._policy, self._observe)
        while not self._stopping.is_set():
            backoff.attempt()
            try:
                await self._consume_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.consumed:  # it worked: its loss starts a fresh backoff series
                    backoff.succeeded()
                self.consumed = False
                then = "retries used up, a new series" if backoff.exhausted else "reconnecting"
                wait = backoff.failed()
                log.warning("queue consumer lost (%s); %s in %.1f s", _short(exc), then, wait)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), wait)

    async def _consume_once(self) -> None:
        connection = await bounded(aiormq.connect(self._url()), self._timeout)
        self._connection = connection
        try:
            await bounded(self._subscribe(connection), self._timeout)
            self.consumed = True
            log.info("consuming queue %s", QUEUE)
            stop = asyncio.ensure_future(self._stopping.wait())
            try:
                await asyncio.wait({stop, connection.closing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
            if not self._stopping.is_set():
                raise ConnectionError("connection to RabbitMQ closed")
        finally:
            self._connection = None
            if not connection.is_closed:
                close_in_background("rabbitmq-consumer", connection.close())

    topology = Topology()  # the agent sets its knobs' topology

    async def _subscribe(self, connection: aiormq.abc.AbstractConnection) -> None:
        channel = await open_channel(connection, self.topology, publisher_confirms=False)
        await channel.basic_qos(prefetch_count=PREFETCH)
        await channel.basic_consume(QUEUE, self._on_message, no_ack=False)

    async def _on_message(self, message: aiormq.abc.DeliveredMessage) -> None:
        tag = message.delivery.delivery_tag
        assert tag is not None
        if await self._handler(message):
            await message.channel.basic_ack(tag)
        else:
            await message.channel.basic_reject(tag, requeue=False)

    async def stop(self) -> None:
        self._stopping.set()
        connection = self._connection
        if connection is not None and not connection.is_closed:
            try:
                await asyncio.wait_for(connection.close(), 2.0)
            except Exception as exc:  # closing a broken connection during shutdown
                log.debug("closing consumer: %r", exc)


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
