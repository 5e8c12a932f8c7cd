"""The crawl scheduler on its own (it does no I/O): order, per-host limits, retries, input read
lazily, and when the crawl is done."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from curlx._scheduler import NOT_YET, Scheduler


@dataclass(eq=False)
class Job:
    name: str
    host: str


def _scheduler(items: Iterator[str], per_host: int | None, concurrency: int = 4) -> Scheduler[Job]:
    return Scheduler(items, lambda name: Job(name, name.split("/")[0]), concurrency, per_host)


def test_jobs_start_in_input_order_up_to_the_free_slots() -> None:
    scheduler = _scheduler(iter(["a/1", "b/1", "c/1"]), None)
    assert [job.name for job in scheduler.ready(2, 0.0)] == ["a/1", "b/1"]
    assert [job.name for job in scheduler.ready(5, 0.0)] == ["c/1"]
    assert not scheduler.done  # three still in flight


def test_a_host_at_its_limit_is_held_back_and_started_when_it_has_room() -> None:
    scheduler = _scheduler(iter(["a/1", "a/2", "b/1"]), per_host=1)
    first = list(scheduler.ready(3, 0.0))
    assert [job.name for job in first] == ["a/1", "b/1"]  # a/2 waits for a/1
    assert list(scheduler.ready(3, 0.0)) == []
    scheduler.ended(first[0])
    assert [job.name for job in scheduler.ready(3, 0.0)] == ["a/2"]


def test_a_retry_starts_when_it_is_due_and_wait_says_how_long() -> None:
    scheduler = _scheduler(iter(["a/1"]), None)
    (job,) = scheduler.ready(1, 0.0)
    scheduler.ended(job)
    scheduler.retry(job, due=10.0)
    assert scheduler.wait(now=4.0, ceiling=60.0) == 6.0
    assert scheduler.wait(now=4.0, ceiling=1.0) == 1.0
    assert list(scheduler.ready(1, 9.9)) == []
    assert list(scheduler.ready(1, 10.0)) == [job]
    scheduler.ended(job)
    assert scheduler.done


def test_input_is_read_lazily_with_backpressure() -> None:
    read: list[int] = []

    def items() -> Iterator[str]:
        for i in range(1000):
            read.append(i)
            yield f"a/{i}"

    scheduler = _scheduler(items(), per_host=1, concurrency=2)
    started = list(scheduler.ready(2, 0.0))
    assert [job.name for job in started] == ["a/0"]
    assert len(read) <= 2 + 2 * 4  # held back at most 4 x concurrency, not the whole input


def test_done_only_when_input_is_read_and_nothing_runs_or_waits() -> None:
    scheduler = _scheduler(iter([]), None)
    assert list(scheduler.ready(1, 0.0)) == []
    assert scheduler.done


def test_a_source_with_nothing_yet_is_asked_again_and_not_done() -> None:
    """An async crawl's buffer gives NOT_YET while its async input has no item ready."""
    buffered = iter(["a/1", NOT_YET, "b/1"])
    scheduler = _scheduler(buffered, None)
    assert [job.name for job in scheduler.ready(4, 0.0)] == ["a/1"]
    assert not scheduler.done
    assert [job.name for job in scheduler.ready(4, 0.0)] == ["b/1"]
    assert list(scheduler.ready(4, 0.0)) == []
    for job in ("a/1", "b/1"):
        scheduler.ended(Job(job, "a" if job.startswith("a") else "b"))
    assert scheduler.done and not scheduler.retrying
