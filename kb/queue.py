"""A bounded, first-come-first-served queue in front of LLM generation.

Design choices:
- Retrieval is cheap and runs for every user at once; only generation (one llama.cpp model,
  2 cores) is scarce. So the queue guards generation alone, and the sources reach the user
  before they start waiting.
- Waiting is a generator of positions, not a blocking call: the chat shows "place 3 in the
  queue" while the user waits, and a caller that stops iterating (the user left) must still
  ``release`` its ticket, which ``slot`` guarantees.
- A full queue refuses at once (``QueueFull``) and a wait has a time limit (``QueueTimeout``):
  a busy machine answers "busy, try again", it never hangs.
- Thread-based (a ``Condition``), because Gradio runs handlers in threads.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class QueueFull(Exception):
    """Too many users are already waiting."""


class QueueTimeout(Exception):
    """Waited longer than the queue's time limit."""


class GenerationQueue:
    def __init__(self, concurrency: int = 1, max_waiting: int = 20, timeout_s: float = 120.0) -> None:
        if concurrency < 1 or max_waiting < 0:
            raise ValueError("concurrency must be ≥ 1 and max_waiting ≥ 0")
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self.timeout_s = timeout_s
        self._cond = threading.Condition()
        self._waiting: deque[int] = deque()
        self._running: set[int] = set()
        self._tickets = itertools.count(1)

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {"running": len(self._running), "waiting": len(self._waiting)}

    def _enter(self) -> int:
        with self._cond:
            if not self._waiting and len(self._running) < self.concurrency:
                ticket = next(self._tickets)
                self._running.add(ticket)
                return ticket
            if len(self._waiting) >= self.max_waiting:
                raise QueueFull
            ticket = next(self._tickets)
            self._waiting.append(ticket)
            return ticket

    def _wait(self, ticket: int, poll_s: float) -> Iterator[int]:
        """Yield the 1-based position whenever it changes, until the ticket runs."""
        deadline = time.monotonic() + self.timeout_s
        last = None
        while True:
            with self._cond:
                if ticket in self._running:
                    return
                if self._waiting and self._waiting[0] == ticket and len(self._running) < self.concurrency:
                    self._waiting.popleft()
                    self._running.add(ticket)
                    self._cond.notify_all()
                    return
                position = self._waiting.index(ticket) + 1
                if position == last:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise QueueTimeout
                    self._cond.wait(min(poll_s, remaining))
                    continue
            last = position
            yield position

    def _release(self, ticket: int) -> None:
        with self._cond:
            self._running.discard(ticket)
            if ticket in self._waiting:
                self._waiting.remove(ticket)
            self._cond.notify_all()

    @contextmanager
    def slot(self, poll_s: float = 0.5) -> Iterator[Iterator[int]]:
        """``with queue.slot() as positions: for p in positions: show(p)`` — then generate.

        Raises ``QueueFull`` on entry when the queue is full, ``QueueTimeout`` from the
        iteration when the wait is too long. The ticket is always released on exit.
        """
        ticket = self._enter()
        try:
            yield self._wait(ticket, poll_s)
        finally:
            self._release(ticket)
