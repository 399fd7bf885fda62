"""A Spark job that fails (a task's Python worker cannot start, an executor runs out of memory, a bad
file on the cluster) as one readable line: the root cause Spark reported, without its Java stack.

pyspark raises such a failure as ``py4j.protocol.Py4JJavaError`` (or one of pyspark's captured
exceptions, :mod:`pyspark.errors`) whose text is the whole Java stack of every wrapper, several
hundred lines. :func:`job_failures` turns it into :class:`SparkJobError`, whose message is the first
line of the innermost cause that still says what went wrong, and keeps the full stack in a log file
it names (the stack can only be read while the JVM runs, so it is written at once).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from movierec.errors import MovierecError

__all__ = ["SparkJobError", "job_failures", "root_cause"]

_MAX_CHARS = 300
_MAX_DEPTH = 32

LOG_PREFIX = "movierec-spark-error-"
LOG_SUFFIX = ".log"
KEEP_LOGS = 20
"""How many ``movierec-spark-error-*.log`` files the temporary folder keeps: each failed job writes one,
and they piled up there forever; writing a new one removes this user's oldest beyond this many."""
_LOG_NAME = re.compile(re.escape(LOG_PREFIX) + r"[a-z0-9_]+" + re.escape(LOG_SUFFIX))  # mkstemp's names


class SparkJobError(MovierecError):
    """A Spark job failed while it ran: not a mistake in what was asked, so the CLI exits with 1, not 2.

    ``log``: the file holding the failure's full Python and Java stack (``None`` when it could not be written).
    """

    exit_code = 1

    def __init__(self, message: str, log: Path | None = None) -> None:
        super().__init__(message)
        self.log = log


def _spark_exception_types() -> tuple[type[BaseException], ...]:
    """The exceptions pyspark raises for a failure on the Java side (none when pyspark is absent)."""
    found: list[type[BaseException]] = []
    try:
        from py4j.protocol import Py4JJavaError

        found.append(Py4JJavaError)
    except ImportError:  # pragma: no cover - py4j comes with pyspark
        pass
    try:
        from pyspark.errors.exceptions.captured import CapturedException

        found.append(CapturedException)
    except ImportError:  # pragma: no cover - older pyspark
        pass
    return tuple(found)


def _first_line(text: str | None) -> str:
    """What a message says in one line: its first line, or the last one for a Python traceback (the
    exception a task's Python code raised, which Spark wraps as the message of a ``PythonException``, and
    pyspark's captured one as ``[PYTHON_EXCEPTION] An exception was thrown from the Python worker:
    Traceback (most recent call last):``)."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1] if lines[0].endswith("Traceback (most recent call last):") else lines[0]
    return line if len(line) <= _MAX_CHARS else line[: _MAX_CHARS - 1] + "…"


def _java_chain(throwable: Any) -> list[Any]:
    """``throwable`` and its causes (``getCause()``), outermost first."""
    chain = [throwable]
    while len(chain) < _MAX_DEPTH:
        cause = chain[-1].getCause()
        if cause is None or any(cause.equals(seen) for seen in chain):
            break
        chain.append(cause)
    return chain


_CONDITION = re.compile(r"^\[[A-Z0-9_.]+\]\s*")  # Spark's error condition tag, [FAILED_READ_FILE.NO_HINT]
_SQLSTATE = re.compile(r"\s*SQLSTATE: \w+\s*$")


def _java_message(throwable: Any) -> tuple[str, str]:
    """``(first line, whole message)`` of a Java exception; its class name when it has no message."""
    whole = str(throwable.getMessage() or "")
    line = _first_line(whole)
    line = _SQLSTATE.sub("", _CONDITION.sub("", line)).rstrip(" .")
    return (line or str(throwable.getClass().getSimpleName())), whole


def root_cause(exc: BaseException) -> str:
    """What went wrong in a Spark failure, in one line: ``Cannot run program "/nonexistent": error=2, No
    such file or directory`` for a job whose Python workers cannot start.

    Walks the Java exception's causes (``getCause()``) to the innermost, then back up while the wrapper
    around it repeats its words with more context (``Cannot run program "x": error=2, …`` around
    ``error=2, …``), never up to the outermost (``Job aborted due to stage failure: …``, which holds the
    task's whole stack). A wrapper further out that says something else comes first
    (``Encountered error while reading file …/part-00001.parquet: can not read class …``). Needs the JVM
    that raised ``exc`` still running.
    """
    java = getattr(exc, "java_exception", None) or getattr(exc, "_origin", None)
    if java is None:  # a captured exception built from text alone (Spark Connect)
        desc = getattr(exc, "_desc", None)
        return _first_line(desc if isinstance(desc, str) else str(exc)) or type(exc).__name__
    chain = [_java_message(t) for t in _java_chain(java)]
    pick = len(chain) - 1
    while pick > 1 and chain[pick][0] in chain[pick - 1][1]:
        pick -= 1
    said = chain[pick][0]
    context = [line for line, whole in chain[:pick] if said not in whole and line not in said]
    return ": ".join([*context[-2:], said])


def _write_log(exc: BaseException) -> Path | None:
    """The failure's full stack (Python's, and Java's inside the Py4J message) in a new file in the
    temporary folder, or ``None`` when it cannot be written. Older logs beyond :data:`KEEP_LOGS` go
    (:func:`_remove_old_logs`), so the folder holds the latest failures' stacks, not every one ever."""
    try:
        fd, name = tempfile.mkstemp(prefix=LOG_PREFIX, suffix=LOG_SUFFIX)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)))
    except Exception:  # a full disk must not hide the failure itself
        return None
    log = Path(name)
    with suppress(Exception):  # nor may the clean-up: the failure and its log are what matter
        _remove_old_logs(log.parent, keep=KEEP_LOGS, current=log)
    return log


def _remove_old_logs(folder: Path, *, keep: int, current: Path) -> None:
    """Remove the oldest (by modification time) of this user's ``movierec-spark-error-XXXXXXXX.log`` files
    in ``folder`` so that ``keep`` remain, ``current`` (the log just written) always among them.

    Only regular files of exactly :func:`tempfile.mkstemp`'s name for our prefix and suffix, owned by this
    user, are counted or removed: a symbolic link, a folder, another user's log in a shared ``/tmp``, or any
    other name stays. One that cannot be removed (or vanished meanwhile, another run pruning) is skipped.
    """
    uid = os.getuid() if hasattr(os, "getuid") else None
    logs: list[tuple[int, str, Path]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not _LOG_NAME.fullmatch(entry.name) or entry.name == current.name:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and (uid is None or st.st_uid == uid):
                logs.append((st.st_mtime_ns, entry.name, Path(entry.path)))
    logs.sort(reverse=True)  # newest first
    for _, _, old in logs[max(keep - 1, 0) :]:
        with suppress(OSError):
            old.unlink()


#: the cause :func:`job_failures` gives when the JVM stopped before the failure's message could be read
JVM_GONE = "Spark's JVM stopped before the cause could be read; see Spark's ERROR lines above"


def _held_text(exc: BaseException) -> str:
    """The failure's message as far as Python holds it without the JVM: a captured exception's description
    (read from the JVM when it was raised), else ``str(exc)``; ``""`` when that too needs the JVM.

    Why: ``str()`` of a ``Py4JJavaError``, and of pyspark's captured exceptions (their message
    parameters), asks the JVM. When the JVM died between the failure and this read (a local master's
    driver killed, or taken down by a ``StackOverflowError``), the fall-back in :func:`job_failures`
    raised ``ConnectionRefusedError`` in its turn: ``spark train`` ended in 140 to 200 lines of chained
    tracebacks instead of its one line."""
    desc = getattr(exc, "_desc", None)
    if isinstance(desc, str) and desc.strip():
        return desc
    try:
        return str(exc)
    except Exception:  # the JVM is gone
        return ""


@contextmanager
def job_failures() -> Iterator[None]:
    """Raise a Spark job's failure in the block as :class:`SparkJobError`: ``the Spark job failed:
    <root cause> (full stack in /tmp/movierec-spark-error-….log)``; other exceptions pass unchanged.

    Use it inside the ``with`` of the session, so the JVM still runs while the causes are read.
    """
    from movierec.spark.session import py4j_quiet, raise_if_interrupted

    kinds = _spark_exception_types()
    try:
        yield
    except Exception as exc:
        raise_if_interrupted()  # a job cut off by Ctrl-C is no failure to explain
        if not kinds or not isinstance(exc, kinds):
            raise
        with py4j_quiet():  # a JVM gone mid-read: py4j's traceback on the root logger is no news
            cause, log = _cause_and_log(exc)
        where = f" (full stack in {log})" if log is not None else ""
        raise SparkJobError(f"the Spark job failed: {cause}{where}", log) from exc


def _cause_and_log(exc: BaseException) -> tuple[str, Path | None]:
    """A failed job's root cause in one line, and the log holding its whole stack (both read from the JVM
    while it runs; what Python holds when it is gone)."""
    try:
        cause = root_cause(exc)
    except Exception:  # the JVM went away: what Python holds of the message is all there is
        held = _SQLSTATE.sub("", _held_text(exc))
        cause = _CONDITION.sub("", _first_line(held.partition("\n: ")[2] or held)) or JVM_GONE
    if "StackOverflowError" in cause:  # a lineage too long to serialize (ALS without checkpoints)
        cause += (
            "; a lineage too long for the stack: give Spark a checkpoint folder every executor "
            "reads (--conf spark.checkpoint.dir=…), a larger thread stack than movierec's -Xss4m "
            "(--conf spark.driver.extraJavaOptions=-Xss16m, and spark.executor.extraJavaOptions on a "
            "cluster), or fewer iterations"
        )
    return cause, _write_log(exc)
