"""The per-process limit on searches at once: never more than its slots inside, the waiting
ones let in first come first served (a plain semaphore let the releasing thread straight back
in), and an engine's searches go through it."""

from __future__ import annotations

import threading
import time

from search import Engine, SearchRequest
from search.gate import FairGate


def _wait(check, what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def test_no_more_than_the_slots_inside_and_waiters_enter_in_arrival_order() -> None:
    gate = FairGate(2)
    inside, entered, most = set(), [], [0]
    lock = threading.Lock()
    leave = {k: threading.Event() for k in range(6)}

    def visitor(k: int) -> None:
        with gate:
            with lock:
                inside.add(k)
                entered.append(k)
                most[0] = max(most[0], len(inside))
            leave[k].wait(30)
            with lock:
                inside.discard(k)

    threads = []
    for k in range(6):                    # arrive one after the other: 0 and 1 enter, 2..5 queue up
        threads.append(threading.Thread(target=visitor, args=(k,)))
        threads[-1].start()
        _wait(lambda k=k: len(entered) == min(k + 1, 2) and gate.waiting == max(0, k - 1), f"visitor {k} arrived")
    for k in range(6):
        leave[k].set()
        if k < 4:
            _wait(lambda k=k: len(entered) == k + 3, f"the next in line entered after {k} left")
    for t in threads:
        t.join(30)
    assert entered == [0, 1, 2, 3, 4, 5]
    assert most[0] == 2


def test_a_released_slot_goes_to_the_waiter_not_back_to_the_releaser() -> None:
    gate = FairGate(1)
    order = []
    gate.__enter__()
    waiter = threading.Thread(target=lambda: (gate.__enter__(), order.append("waiter"), gate.__exit__()))
    waiter.start()
    _wait(lambda: gate.waiting == 1, "the waiter queued")
    gate.__exit__()
    with gate:                             # the releaser comes straight back: it queues behind
        order.append("releaser")
    waiter.join(30)
    assert order == ["waiter", "releaser"]


def test_no_limit_when_the_slots_are_zero() -> None:
    gate = FairGate(0)
    with gate, gate, gate:
        assert gate.waiting == 0


def test_engine_searches_from_many_threads_all_answer_through_the_gate(demo_index, demo_settings) -> None:
    with Engine.open(demo_settings.replace(concurrent_searches=1)) as engine:
        expected = engine.search(SearchRequest(q="貓")).total
        totals = []
        threads = [threading.Thread(target=lambda: totals.append(engine.search(SearchRequest(q="貓")).total))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert totals == [expected] * 8 and expected > 0
        assert engine.gate.waiting == 0
