"""How many threads a kernel may use, and a barrier-free way to hand work to them.

On a shared machine a parallel region that waits at a barrier for every thread is as slow as its
most descheduled thread: measured here at load 5 on 2 cores, a 2-thread numba/OpenMP epoch took
64 ms against 10 ms for one thread. So the kernels split their rows into many small chunks that
threads claim one at a time (:func:`run_blocks`): a thread the OS does not schedule simply claims
nothing, and the call returns when every chunk is done. :func:`free_threads` sizes the pool from
the cores this process may use minus the load the others put on them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["available_cores", "free_threads", "others_running", "run_blocks", "run_chunks", "shared_pool"]

THREADS_ENV = "MOVIEREC_THREADS"


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity; ``os.cpu_count()`` where that is unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def others_running(loadavg_text: str) -> int | None:
    """Threads of other processes runnable right now, from ``/proc/loadavg``'s ``R/T`` field.

    That field counts every runnable thread on the machine, this one included (it is running when it
    reads the file), so the others are one fewer. ``None`` when the text has no such field.
    """
    fields = loadavg_text.split()
    if len(fields) < 4 or "/" not in fields[3]:
        return None
    running = fields[3].split("/", 1)[0]
    return max(0, int(running) - 1) if running.isdigit() else None


def _others_now() -> float | None:
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            n = others_running(f.read())
    except OSError:  # not Linux
        return None
    return None if n is None else float(n)


def free_threads(limit: int | None = None) -> int:
    """Threads worth starting now: ``$MOVIEREC_THREADS`` if set, else the cores not taken by others.

    Others' load is the smaller of two views: the 1-minute load average minus this process's own
    runnable thread, and the threads of other processes runnable at this instant (Linux). The average
    alone lags by a minute, so work this process has just finished (Surprise's fit before ours in one
    ``compare``, the previous model of a report) would keep the next fit on one thread on an idle
    machine; the instant alone is noisy. A machine that stays busy is high in both and gives 1 thread;
    a wrong guess costs little, as the chunks are claimed without a barrier (:func:`run_blocks`).
    ``limit`` caps the answer.
    """
    env = os.environ.get(THREADS_ENV, "").strip()
    if env.isdigit() and int(env) > 0:
        n = int(env)
    else:
        cores = available_cores()
        try:
            others = max(0.0, os.getloadavg()[0] - 1.0)
        except OSError:  # no load average on this platform: be conservative
            others = float(cores - 1)
        now = _others_now()
        if now is not None:
            others = min(others, now)
        n = max(1, min(cores, int(cores - others + 0.5)))
    return n if limit is None else max(1, min(n, int(limit)))


def run_blocks(
    kernel: Callable[[int, int], None],
    n_blocks: int,
    pool: ThreadPoolExecutor | None = None,
    helpers: int = 0,
) -> None:
    """Run ``kernel(first, last)`` over blocks ``0..n_blocks-1``: one call without ``pool``, else
    blocks claimed one at a time by the calling thread and ``helpers`` threads of ``pool``.

    Returns when every block is done, without waiting for a pool thread that never got to start
    (it finds nothing left and returns). A failure in any thread is re-raised here.
    """
    if pool is None or helpers <= 0:
        kernel(0, n_blocks)
        return
    lock = threading.Lock()
    done = threading.Event()
    claimed = [0, 0]  # next block to hand out, blocks finished
    errors: list[BaseException] = []

    def work() -> None:
        while not done.is_set():
            with lock:
                t = claimed[0]
                if t >= n_blocks:
                    return
                claimed[0] = t + 1
            try:
                kernel(t, t + 1)
            except BaseException as exc:  # surfaced by the caller below
                errors.append(exc)
                done.set()
                return
            with lock:
                claimed[1] += 1
                if claimed[1] == n_blocks:
                    done.set()

    for _ in range(helpers):
        pool.submit(work)
    work()
    done.wait()
    if errors:
        raise errors[0]


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def shared_pool(helpers: int) -> ThreadPoolExecutor:
    """One process-wide pool of helper threads (grown when more are asked for)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < helpers:
            _POOL = ThreadPoolExecutor(max(helpers, 1), thread_name_prefix="movierec-kernel")
        return _POOL


def run_chunks(kernel: Callable[[int, int], None], n_items: int, *, per_thread: int = 16) -> None:
    """Call ``kernel(chunk, n_chunks)`` for every chunk of a row-strided split of ``n_items`` rows.

    One thread (one chunk) when only one core is free; otherwise ``per_thread`` chunks per thread,
    claimed one at a time (:func:`run_blocks`), so a descheduled thread delays at most one chunk.
    """
    threads = free_threads(limit=max(1, n_items))
    if threads == 1:
        kernel(0, 1)
        return
    n_chunks = max(1, min(n_items, per_thread * threads))
    run_blocks(lambda first, _last: kernel(first, n_chunks), n_chunks, shared_pool(threads - 1), threads - 1)
