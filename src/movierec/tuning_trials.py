"""Trials left RUNNING by a process that no longer exists (killed, out of memory, a power cut).

Optuna marks a trial RUNNING when it starts and COMPLETE, PRUNED or FAIL when its process says so; a
process killed in the middle (``kill -9``, the kernel's out-of-memory killer) never says so, and the
trial stays RUNNING in the study database for good. The next run counted it as a trial ("1 trials
there already"). Optuna's own cure, heartbeats (``RDBStorage(heartbeat_interval=…, grace_period=…)``
and :func:`optuna.storages.fail_stale_trials`), waits a grace period after the last beat, writes to the
database from a thread every interval, and reads a live trial as dead when a compiled loop holds the
GIL past the grace period.

Here each trial records its process (:func:`process_attrs`: ``worker`` = ``host:pid`` and the
process's start time from ``/proc``), and a run that continues a study marks FAIL every RUNNING trial
whose process is gone from this host (:func:`close_dead_trials`): at once, without a grace period. A
trial of another host is left as it is (its process cannot be asked); it does not count as finished.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

__all__ = [
    "DEAD_REASON",
    "INTERRUPTED_REASON",
    "close_dead_trials",
    "close_own_trials",
    "process_attrs",
    "process_gone",
]

DEAD_REASON = "left running by a process that no longer exists"
"""What a trial closed by :func:`close_dead_trials` records in its ``failed_because`` user attr."""

INTERRUPTED_REASON = "interrupted (Ctrl-C or SIGTERM) while it ran"
"""What a trial closed by :func:`close_own_trials` records in its ``failed_because`` user attr."""


def _started(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/PID/stat`` field 22), which tells a
    pid taken again by a later process apart; None where there is no ``/proc`` or no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()  # the command name in (…) may hold spaces
    try:
        return int(fields[19])  # field 22 counts from 1 with pid and (comm) before the ones split here
    except (IndexError, ValueError):
        return None


def process_attrs() -> dict[str, Any]:
    """The user attrs a trial records at its start: ``worker`` (``host:pid``, as before) and
    ``process_started`` (None where it cannot be read)."""
    pid = os.getpid()
    return {"worker": f"{socket.gethostname()}:{pid}", "process_started": _started(pid)}


def process_gone(attrs: dict[str, Any], host: str | None = None) -> bool:
    """Whether the process that ran a trial with these user attrs is surely gone: it ran on this host
    (``host``, default this one) and no process has its pid, or the one that has it started at another
    time. False when that cannot be told (another host, no ``worker`` attr, a pid not ours to signal)."""
    worker = attrs.get("worker")
    if not isinstance(worker, str) or ":" not in worker:
        return False
    where, _, pid_text = worker.rpartition(":")
    if where != (host or socket.gethostname()) or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process holds the pid: alive, and not the trial's
        pass
    except OSError:
        return False
    started, recorded = _started(pid), attrs.get("process_started")
    return isinstance(recorded, int) and started is not None and started != recorded


def close_own_trials(storage: Any, study_name: str, reason: str = INTERRUPTED_REASON) -> int:
    """Mark FAIL every RUNNING trial of ``study_name`` that this process started (its ``worker`` and
    ``process_started`` attrs are this process's), with ``failed_because`` = ``reason``; the number closed.

    Called by a run that stops on Ctrl-C or SIGTERM. Optuna fails the trial it was running itself, unless
    the interrupt lands in its own bookkeeping after the objective returned (``_tell_with_warning``): then
    the trial stayed RUNNING, the interrupted run's "N finished trials are kept" line counted it, and the
    next run found one fewer and closed it as a dead process's (seen in a fresh-clone ``make test``)."""
    mine = process_attrs()

    def own(attrs: dict[str, Any]) -> bool:
        return (
            attrs.get("worker") == mine["worker"] and attrs.get("process_started") == mine["process_started"]
        )

    return _fail_running(storage, study_name, own, reason)


def close_dead_trials(storage: Any, study_name: str) -> int:
    """Mark FAIL every RUNNING trial of ``study_name`` whose process is gone (:func:`process_gone`), with
    ``failed_because`` saying why; the number closed. A trial another process closes or finishes at the
    same moment is skipped. Nothing happens to a study that does not exist."""
    host = socket.gethostname()
    return _fail_running(storage, study_name, lambda attrs: process_gone(attrs, host), DEAD_REASON)


def _fail_running(storage: Any, study_name: str, which: Callable[[dict[str, Any]], bool], reason: str) -> int:
    """Mark FAIL, with ``failed_because`` = ``reason``, each RUNNING trial of ``study_name`` whose user
    attrs ``which`` accepts; the number closed. One finished or closed meanwhile is skipped; a study that
    does not exist closes nothing."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        return 0
    closed = 0
    for trial in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
        if not which(trial.user_attrs):
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        try:
            storage.set_trial_user_attr(trial_id, "failed_because", reason)
            if storage.set_trial_state_values(trial_id, TrialState.FAIL):
                closed += 1
        except UpdateFinishedTrialError:  # finished or closed meanwhile
            continue
    return closed
