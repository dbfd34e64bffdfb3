"""The generation queue: first come first served, positions, a full queue refuses, waits time out."""

from __future__ import annotations

import threading
import time

import pytest

from kb.queue import GenerationQueue, QueueFull, QueueTimeout


def hold(queue: GenerationQueue, started: threading.Event, release: threading.Event, order: list, name: str,
         positions: dict) -> None:
    with queue.slot(poll_s=0.02) as waiting:
        positions[name] = list(waiting)
        order.append(name)
        started.set()
        release.wait(5)


def test_one_at_a_time_in_arrival_order_with_positions() -> None:
    queue = GenerationQueue(concurrency=1, max_waiting=5, timeout_s=10)
    order: list[str] = []
    positions: dict[str, list[int]] = {}
    releases = {n: threading.Event() for n in "abc"}
    starts = {n: threading.Event() for n in "abc"}
    threads = []
    for name in "abc":
        t = threading.Thread(target=hold, args=(queue, starts[name], releases[name], order, name, positions))
        t.start()
        threads.append(t)
        time.sleep(0.1)  # arrive in order
    assert starts["a"].wait(2) and not starts["b"].is_set()
    assert queue.stats() == {"running": 1, "waiting": 2}
    releases["a"].set()
    assert starts["b"].wait(2) and not starts["c"].is_set()
    time.sleep(0.5)  # let c see that it moved up to place 1
    releases["b"].set()
    assert starts["c"].wait(2)
    releases["c"].set()
    for t in threads:
        t.join(5)
    assert order == ["a", "b", "c"]
    assert positions["a"] == []  # went straight in
    assert positions["b"] == [1]
    assert positions["c"] == [2, 1]  # moved up when a finished
    assert queue.stats() == {"running": 0, "waiting": 0}


def test_full_queue_refuses_at_once() -> None:
    queue = GenerationQueue(concurrency=1, max_waiting=1, timeout_s=10)
    release = threading.Event()
    started = threading.Event()
    t1 = threading.Thread(target=hold, args=(queue, started, release, [], "a", {}))
    t1.start()
    started.wait(2)
    waiting = queue.slot(poll_s=0.02)
    waiting.__enter__()  # the one allowed waiter
    t0 = time.monotonic()
    with pytest.raises(QueueFull), queue.slot():
        pass
    assert time.monotonic() - t0 < 0.5
    waiting.__exit__(None, None, None)
    release.set()
    t1.join(5)
    assert queue.stats() == {"running": 0, "waiting": 0}


def test_wait_times_out_and_frees_the_place() -> None:
    queue = GenerationQueue(concurrency=1, max_waiting=3, timeout_s=0.3)
    release = threading.Event()
    started = threading.Event()
    t1 = threading.Thread(target=hold, args=(queue, started, release, [], "a", {}))
    t1.start()
    started.wait(2)
    with pytest.raises(QueueTimeout), queue.slot(poll_s=0.05) as waiting:
        for _ in waiting:
            pass
    assert queue.stats() == {"running": 1, "waiting": 0}
    release.set()
    t1.join(5)


def test_abandoned_waiter_is_released() -> None:
    """A user who leaves while waiting (the generator is closed) gives up their place."""
    queue = GenerationQueue(concurrency=1, max_waiting=3, timeout_s=5)
    release = threading.Event()
    started = threading.Event()
    t1 = threading.Thread(target=hold, args=(queue, started, release, [], "a", {}))
    t1.start()
    started.wait(2)

    def waiter():  # noqa: ANN202
        with queue.slot(poll_s=0.02) as waiting:
            yield from waiting
            yield "running"

    gen = waiter()
    assert next(gen) == 1
    assert queue.stats()["waiting"] == 1
    gen.close()
    assert queue.stats() == {"running": 1, "waiting": 0}
    release.set()
    t1.join(5)


def test_concurrency_two_runs_two() -> None:
    queue = GenerationQueue(concurrency=2, max_waiting=0, timeout_s=5)
    with queue.slot() as a:
        assert list(a) == []
        with queue.slot() as b:
            assert list(b) == []
            with pytest.raises(QueueFull), queue.slot():
                pass


class HeldBackend:
    """Plumbing stand-in for the LLM: answers with a sentence quoted from the first source, once released."""

    name = "held-fake"

    def __init__(self) -> None:
        self.release = threading.Event()

    def stream_chat(self, messages, max_tokens=None):  # noqa: ANN001, ANN201
        import re

        quoted = re.search(r'\[1\] \([^)]*\) "(.+?)"\n', messages[-1]["content"] + "\n")
        self.release.wait(60)
        yield (quoted.group(1) if quoted else "Ja.") + " [1]"


def test_assistant_queues_generation_and_answers_busy_when_full(small_index) -> None:  # noqa: ANN001
    from dataclasses import replace

    from kb.assistant import Assistant

    settings = replace(small_index, answer_mode="llm", llm_concurrency=1, queue_size=1, queue_timeout_s=60)
    assistant = Assistant(settings)
    backend = HeldBackend()
    assistant._backend = backend
    results: dict[int, list[dict]] = {}

    def ask(n: int) -> None:
        results[n] = list(assistant.ask_stream("Vilka är handlingsplanens fyra insatsområden?"))

    def wait_for(condition) -> None:  # noqa: ANN001
        deadline = time.monotonic() + 60
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert condition(), assistant.queue.stats()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    threads[0].start()
    wait_for(lambda: assistant.queue.stats() == {"running": 1, "waiting": 0})  # 0 generates (held)
    threads[1].start()
    wait_for(lambda: assistant.queue.stats() == {"running": 1, "waiting": 1})  # 1 waits
    threads[2].start()
    threads[2].join(60)  # 2 finds the queue full and is answered at once, while 0 is still held
    assert 2 in results and not threads[2].is_alive()
    backend.release.set()
    for t in threads:
        t.join(60)
    kinds = {n: [e["type"] for e in events] for n, events in results.items()}
    answers = {n: events[-1]["answer"] for n, events in results.items()}
    assert all(k[0] == "sources" and k[-1] == "answer" for k in kinds.values()), kinds
    assert answers[0].backend == answers[1].backend == "held-fake", {n: a.backend for n, a in answers.items()}
    assert "queue" not in kinds[0] and [e["position"] for e in results[1] if e["type"] == "queue"] == [1]
    busy = answers[2]
    assert busy.backend == "extractive" and busy.citations
    assert any("Många frågar just nu" in n for n in busy.notices)
    assert assistant.queue.stats() == {"running": 0, "waiting": 0}
