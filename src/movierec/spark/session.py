"""Starting Spark safely: Java present, master reachable (fail fast, never hang), ``--conf`` parsing.

Every check here runs before the JVM starts, so a user mistake costs milliseconds and gives one
readable line instead of a Java stack trace or a driver waiting forever for a master.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from movierec.errors import ConfigError, Doors, MovierecError, framed

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "CHECKPOINT_MARKER",
    "DEFAULT_CONF",
    "SparkUnavailableError",
    "check_java",
    "check_master",
    "check_master_form",
    "check_sizes",
    "ensure_checkpoint_dir",
    "parse_conf",
    "raise_if_interrupted",
    "remove_abandoned_checkpoints",
    "session_settings",
    "spark_session",
]

# Settings we pick unless the user passes their own with --conf.
DEFAULT_CONF: dict[str, str] = {
    "spark.ui.showConsoleProgress": "true",  # stage progress bars, on a terminal only (session_settings)
    "spark.sql.execution.arrow.pyspark.enabled": "true",  # fast toPandas / createDataFrame
    "spark.sql.adaptive.enabled": "true",
    "spark.driver.memory": "2g",
}

# Spark's own master patterns (SparkMasterRegex): local, local[N] or local[*], local[N, maxFailures],
# local-cluster[workers, cores, MiB]; N = 0 matches there but SparkContext refuses it ("Asked to run locally
# with 0 threads", a Java stack trace), so check_master_form refuses it first
_LOCAL_RE = re.compile(r"^local(\[(\*|[0-9]+)(\s*,\s*[0-9]+)?\])?$")
_LOCAL_CLUSTER_RE = re.compile(r"^local-cluster\[\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\]$")
#: the master forms Spark 4 reads, as a refused --master names them
MASTER_FORMS = "local, local[N], local[*], spark://HOST:PORT[,HOST:PORT], yarn or k8s://https://HOST:PORT"
#: JVM heap sizes (-Xmx): whole digits and a unit k, m, g or t, either case. spark.driver.memory becomes the
#: driver's -Xmx as written, so '2gb', '1.5g' or 'abc' made Java print its own three lines ('Invalid
#: maximum heap size: -Xmx2gb', 'Error: Could not create the Java Virtual Machine.', …) before ours,
#: and '2048' (bytes) 'Too small maximum heap'
_JVM_SIZE_RE = re.compile(r"^[0-9]+[kKmMgGtT]$")
#: Spark's byte strings (JavaUtils.byteStringAs): whole digits and an optional unit, any case
_SPARK_SIZE_RE = re.compile(r"^[0-9]+(b|k|kb|m|mb|g|gb|t|tb|p|pb)?$", re.IGNORECASE)
#: the settings Spark reads as sizes: the driver's heap by Java's rules, the others by Spark's
_JVM_SIZES = ("spark.driver.memory",)
_SPARK_SIZES = (
    "spark.executor.memory",
    "spark.driver.memoryOverhead",
    "spark.executor.memoryOverhead",
    "spark.executor.pyspark.memory",
    "spark.driver.maxResultSize",
)


class SparkUnavailableError(MovierecError):
    """Spark cannot start here: pyspark or Java is missing, or the master cannot be reached."""


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ModuleNotFoundError as exc:
        raise SparkUnavailableError(
            "pyspark is not installed: run pip install 'movierec[spark]' (needs Java 17)"
        ) from exc


def find_java() -> Path | None:
    """The ``java`` Spark would launch: ``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        cand = Path(home) / "bin" / "java"
        return cand if cand.is_file() and os.access(cand, os.X_OK) else None
    found = shutil.which("java")
    return Path(found) if found else None


def check_java() -> Path:
    """Raise a one-line error when Java is missing or older than 17 (Spark 4 needs 17+); return its path."""
    java = find_java()
    if java is None:
        where = (
            f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java"
            if os.environ.get("JAVA_HOME")
            else "no java on PATH"
        )
        raise SparkUnavailableError(
            f"Java not found ({where}): Spark needs Java 17; install it (e.g. apt-get install openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SparkUnavailableError(
            f"{java}: cannot run java -version ({exc}): Spark needs a working Java 17"
        ) from exc
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if m:
        major = int(m.group(1)) if m.group(1) != "1" else int(m.group(2) or 0)
        if major < 17:
            raise SparkUnavailableError(
                f"{java} is Java {major}: Spark 4 needs Java 17 or newer (set JAVA_HOME)"
            )
    return java


#: spark_session's master, as a notebook and the CLI's spark commands name it, each door its own (a
#: :class:`Doors`; one line named both: "'locall[2]' (master= in Python, --master in the CLI): …")
_MASTER = Doors("master=", "--master")


def _master_label(master: str) -> Doors:
    """``master='local[0]'`` in Python, ``--master local[0]`` in the CLI: the head of a refusal of it."""
    return Doors(f"master={master!r}", f"--master {master}")


def parse_conf(pairs: Iterable[str] | None) -> dict[str, str]:
    """``["spark.executor.memory=4g", ...]`` → dict; a pair without ``=`` or with an empty key, or a size
    Spark or Java would not read (:func:`check_sizes`), is a ConfigError."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--conf {pair!r}: expected key=value, e.g. --conf spark.executor.memory=4g")
        out[key] = value.strip()
    check_sizes(out, option="--conf")
    return out


#: Spark's floor for the driver's heap (UnifiedMemoryManager: 1.5 × its 300 MiB reserve); below it the JVM
#: started and SparkContext failed with 'Insufficient driver memory' and a Java stack trace (300m measured)
_MIN_DRIVER_HEAP = 450 * 2**20


def _heap_bytes(size: str) -> int:
    """``'2g'`` → bytes, for a size :data:`_JVM_SIZE_RE` matched."""
    return int(size[:-1]) * 2 ** (10 * "kmgt".index(size[-1].lower()) + 10)


def check_sizes(conf: dict[str, str], *, option: str = "") -> None:
    """Refuse a memory setting that the JVM or Spark would not read, before the JVM starts.

    Why: ``--conf spark.driver.memory=abc`` reached Java as ``-Xmxabc``; Java printed 'Invalid maximum
    heap size: -Xmxabc' and two 'Error:' lines on the terminal, then our line said the Java gateway
    exited. ``option`` is how the caller names the setting (``--conf`` from the CLI).
    """
    for key, value in conf.items():
        where = f"{option} {key}={value!r}" if option else f"{key}={value!r}"
        if key in _JVM_SIZES and not _JVM_SIZE_RE.match(value):
            raise ConfigError(
                f"{where}: expected a Java heap size, whole digits and k, m, g or t (2g, 512m; not 2gb or 1.5g)"
            )
        if key in _JVM_SIZES and _heap_bytes(value) < _MIN_DRIVER_HEAP and "spark.testing.memory" not in conf:
            raise ConfigError(f"{where}: Spark needs a driver heap of at least 450m")
        if key in _SPARK_SIZES and not _SPARK_SIZE_RE.match(value):
            raise ConfigError(
                f"{where}: expected a size such as 4g, 512m or 1024mb (whole digits and a unit)"
            )


def check_master_form(master: str) -> str:
    """``master`` stripped when Spark reads its form; else a ConfigError naming the forms it takes
    (:data:`MASTER_FORMS`). Neither network nor JVM: the CLI calls it as it reads ``--master``.

    Why: Spark refuses ``local[0]`` only once its JVM runs (a Java stack trace), and a mistyped master
    (``local[x]``, ``lokal``) should cost no data loading before it is named.
    """
    m = master.strip()
    label = _master_label(master)  # put in each line by framed: each door's words
    local = _LOCAL_RE.match(m)
    if local:
        if local.group(2) is not None and local.group(2) != "*" and int(local.group(2)) == 0:
            threads = "local[N] runs N worker threads, so N is 1 or more (local[*]: one per core)"
            raise ConfigError(framed(label, lambda named: f"{named}: {threads}"))
        return m
    if _LOCAL_CLUSTER_RE.match(m) or m == "yarn":
        return m
    scheme, sep, rest = m.partition("://")
    if not sep or scheme not in ("spark", "k8s"):
        raise ConfigError(framed(label, lambda named: f"{named}: expected {MASTER_FORMS}"))
    if scheme == "k8s":
        _, _, rest = rest.rpartition("://")
    if not [h for h in rest.split(",") if h.strip().rstrip("/")]:
        raise ConfigError(framed(label, lambda named: f"{named}: no host given"))
    for hostport in rest.split(","):
        host, colon, port = hostport.strip().rstrip("/").rpartition(":")
        if colon and host and not port.isdigit():
            said = f"port {port!r} is not a number"  # framed's lambda would close over the loop's port
            raise ConfigError(Doors(f"{label}: {said}", f"{label.cli}: {said}"))
    return m


def check_master(master: str, *, timeout: float = 10.0) -> None:
    """Validate a master URL and, for ``spark://`` and ``k8s://``, open a TCP connection within ``timeout`` s.

    A refused or silent master fails here in at most ``timeout`` seconds instead of the driver
    retrying for minutes. ``yarn`` needs ``HADOOP_CONF_DIR`` or ``YARN_CONF_DIR`` (where Spark finds
    the resource manager).
    """
    m = check_master_form(master)
    if m.startswith("local"):
        return
    if m == "yarn":
        if not (os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")):
            said = (
                "set HADOOP_CONF_DIR or YARN_CONF_DIR to the folder with yarn-site.xml so Spark can find the "
                "resource manager"
            )
            raise ConfigError(framed(_master_label("yarn"), lambda named: f"{named}: {said}"))
        return
    scheme, _, rest = m.partition("://")
    if scheme == "k8s":  # k8s://https://host:port
        _, _, rest = rest.rpartition("://")
    hosts = [h.strip().rstrip("/") for h in rest.split(",") if h.strip()]
    errors = []
    for hostport in hosts:
        host, _, port_s = hostport.rpartition(":")
        if not host:
            host, port_s = hostport, "7077" if scheme == "spark" else "443"
        try:
            port = int(port_s)
        except ValueError:
            named, said = _master_label(master), f"port {port_s!r} is not a number"
            raise ConfigError(Doors(f"{named}: {said}", f"{named.cli}: {said}")) from None
        try:
            with socket.create_connection((host.strip("[]"), port), timeout=timeout):
                return  # one reachable master is enough (standby masters may be down)
        except TimeoutError:
            errors.append(f"{host}:{port} did not answer within {timeout:g} s")
        except OSError as exc:
            errors.append(f"{host}:{port} {exc.strerror or exc}")
    raise SparkUnavailableError(
        f"cannot reach Spark master {master} ({'; '.join(errors)}); is the cluster up?"
    )


def _driver_python_env() -> None:
    """Workers run the same interpreter as the driver (a venv python, not whatever is on PATH)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
"""The driver's log4j2 configuration movierec gives Spark: only ERROR and above on the terminal, so a run
does not open with Spark's startup notices and WARN lines (the failed job's own line names its cause)."""


def _own_log4j_config() -> bool:
    """True when Spark's configuration folder (``SPARK_CONF_DIR``, else ``SPARK_HOME/conf``) holds a log4j2
    file, which Spark's launcher puts on the classpath: a cluster's or a user's logging, left alone."""
    conf_dir = os.environ.get("SPARK_CONF_DIR") or (
        str(Path(os.environ["SPARK_HOME"]) / "conf") if os.environ.get("SPARK_HOME") else None
    )
    if not conf_dir:
        return False
    try:
        return any(Path(conf_dir).glob("log4j2*.*"))
    except OSError:
        return False


def _no_native_netlib() -> list[str]:
    """Java options that keep ALS's BLAS/LAPACK (netlib, ``dev.ludovic.netlib``) from trying native libraries
    this machine lacks; ``[]`` where they load, or off Linux.

    Netlib's JNI shim opens ``libblas.so.3`` and ``liblapack.so.3`` and, where they are missing (no
    ``libblas3`` package), prints two lines to the terminal ("netlib-blas: JNI_OnLoad: dlopen(libblas.so.3)
    failed: … cannot open shared object file: No such file or directory") before falling back to its Java
    implementation. The fall-back is the same here; only the alarming lines go. Where the libraries load,
    nothing changes (native stays allowed)."""
    if sys.platform != "linux":
        return []
    import ctypes

    options = []
    for lib in ("blas", "lapack"):
        try:
            ctypes.CDLL(f"lib{lib}.so.3")
        except OSError:
            options.append(f"-Ddev.ludovic.netlib.{lib}.allowNative=false")
    return options


#: the driver JVM's thread stack size (``-Xss``). Java's default (1 MiB on Linux x86-64) is too small for the
#: lineage ALS builds between two checkpoints: a task deserializes it recursively (in local mode, in the
#: driver's JVM), and ``spark train --iterations 50 --rank 4`` on a 60-user table died with
#: ``java.lang.StackOverflowError`` when the JIT's frames were larger (``-XX:TieredStopAtLevel=1``), though
#: the checkpoints did cut it every 10th iteration (20 iterations failed, 11 passed). Java reserves the size
#: per thread and commits only the pages a thread touches.
DRIVER_THREAD_STACK = "4m"

#: a thread stack size given to Java (``-Xss512k``, ``-XX:ThreadStackSize=2048``)
_STACK_OPTION = re.compile(r"(^|\s)(-Xss\S|-XX:ThreadStackSize=)")


def _own_thread_stack() -> bool:
    """True when an environment variable Java reads before its command line (``JAVA_TOOL_OPTIONS``,
    ``JDK_JAVA_OPTIONS``) sets the thread stack size: our ``-Xss``, later on the command line, would
    override it. (One in ``spark.driver.extraJavaOptions``, ``SPARK_SUBMIT_OPTS`` or ``_JAVA_OPTIONS``
    comes after ours and wins anyway.)"""
    return any(
        _STACK_OPTION.search(os.environ.get(name, "")) for name in ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")
    )


@contextmanager
def _driver_java_options() -> Iterator[None]:
    """While the driver JVM starts, give it :data:`LOG4J_CONFIG` (``-Dlog4j2.configurationFile`` first in
    ``SPARK_SUBMIT_OPTS``, which the launcher puts before the driver's Java options), a
    :data:`DRIVER_THREAD_STACK` thread stack (``-Xss4m``) and, where the native BLAS/LAPACK netlib looks for
    are missing, the options that keep it from trying them (:func:`_no_native_netlib`); the environment is
    as it was afterwards.

    Any other choice wins: a ``-Dlog4j2.configurationFile``, ``-Xss`` (or a netlib option) in
    ``spark.driver.extraJavaOptions`` (or later in ``SPARK_SUBMIT_OPTS``) comes after ours on the java
    command line, a log4j2 file in Spark's configuration folder turns our log4j file off
    (:func:`_own_log4j_config`), and a stack size in ``JAVA_TOOL_OPTIONS`` or ``JDK_JAVA_OPTIONS`` turns our
    ``-Xss`` off (:func:`_own_thread_stack`).
    """
    ours = _no_native_netlib()
    if not _own_thread_stack():
        ours.insert(0, f"-Xss{DRIVER_THREAD_STACK}")
    if LOG4J_CONFIG.is_file() and not _own_log4j_config():  # a URI: no spaces to split on
        ours.insert(0, f"-Dlog4j2.configurationFile={LOG4J_CONFIG.resolve().as_uri()}")
    if not ours:
        yield
        return
    before = os.environ.get("SPARK_SUBMIT_OPTS")
    os.environ["SPARK_SUBMIT_OPTS"] = " ".join([*ours, before] if before else ours)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SPARK_SUBMIT_OPTS", None)
        else:
            os.environ["SPARK_SUBMIT_OPTS"] = before


CHECKPOINT_PREFIX = "movierec-spark-checkpoints-"
#: the file in each checkpoint folder this module makes: which process made it, on which host. Only a folder
#: holding it (and so written by movierec) is ever removed by :func:`remove_abandoned_checkpoints`
CHECKPOINT_MARKER = "movierec-checkpoint-owner.json"


def print_note(text: str) -> None:
    """``text`` on stderr wrapped at spaces, as the CLI's notes are (:func:`movierec.progress.prose_lines`:
    to the terminal's width, else 80; a path or a URL whole on its line). The library's notes were bare
    ``print()`` calls, one line however long: no terminal wraps a piped or logged stderr, and a terminal
    cuts a word at its edge. A :class:`movierec.errors.Doors` note says the CLI's words inside a command
    (:func:`movierec.progress.clock_origin`: the CLI's ``main`` runs each in one), Python's elsewhere."""
    from movierec.errors import in_cli
    from movierec.progress import clock_origin, prose_lines

    said = in_cli(text) if clock_origin() is not None else str(text)
    print("\n".join(prose_lines(said)), file=sys.stderr)


def ensure_checkpoint_dir(spark: Any) -> str | None:
    """The folder Spark checkpoints RDDs to, made for a local master that has none; ``None`` when there is
    none and the master is a cluster (a folder on the driver's disk is not one every executor reads).

    Why: ALS checkpoints its factor RDDs every ``checkpointInterval`` (10) iterations only when the
    SparkContext has a checkpoint folder. Without one each iteration adds to one lineage, which Java
    serializes recursively for every task; around 15 to 50 iterations that overflows a thread's stack
    (``java.lang.StackOverflowError``, which in local mode also kills the JVM). Spark's own advice
    (``ALS.checkpointInterval``) is to set one. The up to 9 iterations after the last cut still need more
    than Java's default 1 MiB thread stack at times, hence :data:`DRIVER_THREAD_STACK`. A folder you set (``--conf spark.checkpoint.dir=…`` or
    ``sparkContext.setCheckpointDir``) is used as it is; the one made here lies in the temporary folder
    and is removed when the Python process exits. A process killed outright (SIGKILL, the OOM killer) runs
    no exit handler, so its folder stays: each folder made here holds a :data:`CHECKPOINT_MARKER` naming
    its process, and the next one made first removes those whose process is gone
    (:func:`remove_abandoned_checkpoints`).
    """
    sc = spark.sparkContext if hasattr(spark, "sparkContext") else spark
    current = sc.getCheckpointDir()
    if current:
        return str(current)
    if not str(sc.master).startswith("local"):
        return None
    gone = remove_abandoned_checkpoints(Path(tempfile.gettempdir()))
    if gone:
        # wrapped as the CLI's notes are (it was one line of 78 columns plus the temporary folder's path)
        print_note(
            f"note: removed {len(gone)} Spark checkpoint folder{'s' if len(gone) > 1 else ''} that a killed "
            f"movierec run left in {tempfile.gettempdir()}"
        )
    folder = tempfile.mkdtemp(prefix=CHECKPOINT_PREFIX)
    atexit.register(shutil.rmtree, folder, True)
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "uid": _uid()}
    (Path(folder) / CHECKPOINT_MARKER).write_text(json.dumps(owner) + "\n", encoding="utf-8")
    sc.setCheckpointDir(folder)
    return str(sc.getCheckpointDir() or folder)


def _uid() -> int | None:
    return os.getuid() if hasattr(os, "getuid") else None


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists here (one of another user's counts as alive: it is not ours to judge)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_abandoned_checkpoints(parent: Path) -> list[Path]:
    """Remove the checkpoint folders under ``parent`` that :func:`ensure_checkpoint_dir` made for a process
    that no longer runs (killed before its exit handler removed them); return those removed.

    Why: ``movierec spark train`` killed with SIGKILL left its ``movierec-spark-checkpoints-*`` folder, ALS's
    factor RDDs included, in the temporary folder for good. A folder is removed only when all of these hold:
    its name has :data:`CHECKPOINT_PREFIX`, it is a real folder (not a link), it holds a readable
    :data:`CHECKPOINT_MARKER` written on this host by this user, and the process it names is gone. A folder
    without the marker (one movierec did not write, or one made before the marker existed), a live run's
    and another host's or user's are left alone.
    """
    removed: list[Path] = []
    host, uid = socket.gethostname(), _uid()
    try:
        candidates = sorted(parent.glob(CHECKPOINT_PREFIX + "*"))
    except OSError:
        return removed
    for folder in candidates:
        try:
            if folder.is_symlink() or not folder.is_dir():
                continue
            owner = json.loads((folder / CHECKPOINT_MARKER).read_text(encoding="utf-8"))
            pid = owner["pid"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            continue
        if owner.get("host") != host or owner.get("uid") != uid or _process_alive(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    return removed


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def session_settings(master: str, conf: dict[str, str] | None, *, terminal: bool) -> dict[str, str]:
    """The settings a new session gets: :data:`DEFAULT_CONF`, local-master tweaks, then ``conf`` (``--conf``
    wins over every default).

    Spark's stage bars are drawn only when stderr is a ``terminal``: the JVM writes them to stderr
    whatever it is, so piped into a file or ``| cat`` they were runs of ``[Stage 3:>   (0 + 1) / 1]`` with
    carriage returns, and a failed run's error line was glued to the last bar.
    """
    settings = dict(DEFAULT_CONF)
    if not terminal:
        settings["spark.ui.showConsoleProgress"] = "false"
    if master.startswith("local"):
        # small local jobs: 200 shuffle partitions mostly schedule empty tasks
        settings["spark.sql.shuffle.partitions"] = str(max(4, 2 * (os.cpu_count() or 2)))
        settings.setdefault("spark.driver.host", "127.0.0.1")
        settings.setdefault("spark.driver.bindAddress", "127.0.0.1")
    settings.update(conf or {})
    return settings


@contextmanager
def spark_session(
    master: str = "local[*]",
    conf: dict[str, str] | None = None,
    *,
    app_name: str = "movierec",
    connect_timeout: float = 10.0,
    quiet: bool = False,
) -> Iterator[SparkSession]:
    """A SparkSession for one command: checks pyspark, Java and the master first, prints the UI URL, stops at exit.

    The driver logs only ERROR and above to the terminal and its threads get a 4 MiB stack
    (:func:`_driver_java_options`), unless you configure Spark's logging or Java's stack yourself. An already active session in this process (a notebook, a test fixture) is
    reused and left running; ``conf`` then only applies runtime SQL settings.
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    # pyspark 4.x warns on every Arrow conversion under pandas 3; the paths movierec uses are tested
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )

    active = SparkSession.getActiveSession()
    if active is not None:
        for key, value in (conf or {}).items():
            if key.startswith("spark.sql."):
                active.conf.set(key, value)
        yield active
        return
    check_java()
    check_master(master, timeout=connect_timeout)
    _driver_python_env()
    settings = session_settings(master, conf, terminal=_stderr_is_terminal())
    check_sizes(settings)  # a heap size Java cannot read printed Java's own lines before ours
    builder: Any = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    _quiet_gc_requests()  # py4j's thread that frees JVM objects outlives the session: from its start
    on_sigint = _sigint_handler()  # SparkContext replaces it with its own (see _plain_interrupts)
    try:
        with _driver_java_options():
            spark = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start or register: one line, not a Py4J trace
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailableError(
            framed(_MASTER, lambda named: f"Spark could not start with master {master} ({named}): {first}")
        ) from exc
    _quiet_lost_jvm(spark.sparkContext)
    url = spark.sparkContext.uiWebUrl
    if not quiet:
        print_note(
            f"Spark {spark.version} on {master} (app {spark.sparkContext.applicationId}); UI: {url or 'disabled'}"
        )
    with _plain_interrupts(spark, on_sigint) as stopping:
        try:
            yield spark
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM as the CLI raises it
            stopping.mute()  # stop without the JVM's ERROR lines
            raise
        except Exception:  # the interrupted call's clean-up failed in its stead: still an interrupt
            if not _INTERRUPT.is_set():
                raise
            raise KeyboardInterrupt from None
        finally:
            with warnings.catch_warnings():
                if stopping.muted:  # the stop may find the interrupted call's connection closed: no news
                    warnings.filterwarnings("ignore", message="Unable to cleanly shutdown Spark JVM")
                _stop(spark)


#: how long pyspark's accumulator server waits, on its own thread, for the driver's JVM to exit once the
#: JVM's end of its connection closed (:func:`_quiet_lost_jvm`)
JVM_EXIT_WAIT_S = 5.0


def _quiet_lost_jvm(sc: Any, *, wait_s: float = JVM_EXIT_WAIT_S) -> None:
    """Keep pyspark's accumulator server from printing a traceback on stderr when the driver's JVM is gone.

    Why: once a Python job has run, the JVM holds a connection to pyspark's accumulator server in this
    process (``pyspark.accumulators.UpdateRequestHandler``). When the JVM died (killed, or a
    ``StackOverflowError`` in local mode), the handler read end-of-file (``read_int`` raises ``EOFError``)
    and ``socketserver``'s ``handle_error`` printed 20 lines on stderr, "Exception occurred during
    processing of request from ('127.0.0.1', …)" and a traceback ending in ``EOFError``, before movierec's
    one note that Spark did not stop cleanly. Only this session's server changes, and only for the end of
    a connection (``EOFError``, ``ConnectionResetError``) once the JVM process has exited (waiting up to
    ``wait_s`` on the server's thread): any other error, or a connection that ends while the JVM runs,
    prints as before.
    """
    server = getattr(sc, "_accumulatorServer", None)
    jvm = getattr(getattr(sc, "_gateway", None), "proc", None)
    if server is None or jvm is None:  # a gateway this process did not start: no JVM process to watch
        return
    report = server.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (EOFError, ConnectionResetError)) and _exited(jvm, wait_s):
            return
        report(request, client_address)

    server.handle_error = handle_error


class _GcWorkerLogging:
    """py4j's name ``logging`` (the standard library's module) as :func:`_quiet_gc_requests` leaves it: the
    same module, except that on py4j's ``FinalizerWorker`` thread ``logging.info`` and
    ``logging.exception`` log at DEBUG on py4j's own logger ``py4j.java_gateway``."""

    def __init__(self, real: Any, worker: type) -> None:
        self.real = real
        self.worker = worker
        self.log = real.getLogger("py4j.java_gateway")

    def __getattr__(self, name: str) -> Any:
        # read on the calling thread as py4j calls it: any other thread gets the module's own function
        if name in ("info", "exception") and isinstance(threading.current_thread(), self.worker):
            return self.gc_request_failed
        return getattr(self.real, name)

    def gc_request_failed(self, msg: str, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exc_info", True)
        self.log.debug(msg, *args, stacklevel=2, **kwargs)  # the record names py4j's line, as before


def _quiet_gc_requests() -> None:
    """Keep py4j's garbage-collection thread from printing a traceback on stderr when the JVM dies.

    Why: py4j frees a JVM object (a ``memory del`` command) on its ``FinalizerWorker`` thread, in bursts,
    whenever Python drops objects that pointed into the JVM (a failed job drops dozens). When the JVM was
    killed with such a command sent but not yet read, the connection was reset and py4j logged
    ``logging.exception("Exception while sending command.")`` on the root logger from that thread:
    ``ERROR:root:…``, ``ConnectionResetError`` and ``Py4JNetworkError``, some 20 lines on stderr, at any
    moment the JVM died, outside :func:`py4j_quiet`'s blocks. test_driver_log's JVM-gone test failed on
    them once in a fresh clone; a JVM killed in a burst of 3,000 frees printed them in 14 runs of 23. A failed
    free is no news (py4j logs its own failures to free at DEBUG, on its logger): those two calls on that
    thread now go there, without ``basicConfig``'s handler on the root. ``logging`` in
    ``py4j.java_gateway`` is replaced once a process and stays (pyspark keeps the gateway and its thread
    after the session); every other thread gets the module's own functions, unchanged.
    """
    try:
        from py4j import java_gateway
        from py4j.clientserver import FinalizerWorker
    except ImportError:  # pragma: no cover - py4j comes with pyspark
        return
    if not isinstance(java_gateway.logging, _GcWorkerLogging):
        java_gateway.logging = _GcWorkerLogging(java_gateway.logging, FinalizerWorker)


def _exited(proc: subprocess.Popen[bytes], wait_s: float) -> bool:
    """Whether ``proc`` exits within ``wait_s`` seconds (at once when it already has)."""
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        return False
    return True


def _sigint_handler() -> Any:
    """The SIGINT handler in place now (``None`` off the main thread, where none can be set)."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.getsignal(signal.SIGINT)


_INTERRUPT = threading.Event()
"""Set by Ctrl-C during a session made by :func:`spark_session`, cleared when it ends."""


def raise_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` when Ctrl-C was pressed during this session. py4j's clean-up of the
    interrupted call can itself fail (an ``OSError`` from the closed socket) and replace the interrupt, and an
    ``except Exception`` around a Spark call would then read it as a failed read: a Ctrl-C during ``spark
    train``'s first look at the file (``_first_line``) was swallowed and the run went on to the end."""
    if _INTERRUPT.is_set():
        raise KeyboardInterrupt


class _DropPy4JTracebacks(logging.Filter):
    """Drop the records py4j logs through the root logger (``logging.exception("KeyboardInterrupt while
    sending command.")``, with its traceback, when Ctrl-C lands in a call to the JVM)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "root" and f"{os.sep}py4j{os.sep}" in record.pathname)


@contextmanager
def py4j_quiet() -> Iterator[None]:
    """Drop py4j's root-logger tracebacks for the block, leaving the root's handlers as they were.

    Why: a call to a JVM that died mid-answer makes py4j log ``logging.exception("Exception while
    sending command.")`` on the root logger, which also installs ``basicConfig``'s stderr handler when
    the root has none. Reading a failed job's cause (:func:`movierec.spark.failures.job_failures`) and
    stopping the session (:func:`_stop`) each end in one line of their own when the JVM is gone; CI
    once printed 25 lines of ``ConnectionResetError`` and ``Py4JNetworkError`` before that line, whenever
    the JVM closed the pooled connection during the read rather than before it (a race: the same run
    usually passed). Only these two reads are quieted: py4j's records elsewhere reach the root as
    before, except its garbage-collection thread's (:func:`_quiet_gc_requests`)."""
    root = logging.getLogger()
    drop, guard = _DropPy4JTracebacks(), logging.NullHandler()
    root.addFilter(drop)
    root.addHandler(guard)
    try:
        yield
    finally:
        root.removeFilter(drop)
        root.removeHandler(guard)


class _Stopping:
    """Quiets an interrupted session: py4j's Python logging and the driver's log4j output, until
    :meth:`restore` puts both back (the driver is stopped by then)."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.muted = False
        self.py4j = logging.getLogger("py4j")
        self.level = self.py4j.level
        self.quiet = ExitStack()  # py4j_quiet's filter and guard, from mute() until restore()

    def mute(self) -> None:
        """Quiet py4j (:func:`py4j_quiet` on the root logger; its own loggers above CRITICAL) and turn the
        driver's log off."""
        if self.muted:
            return
        self.muted = True
        self.quiet.enter_context(py4j_quiet())
        self.py4j.setLevel(logging.CRITICAL + 1)
        # from another thread, on a connection of its own: the main thread may be waiting on its own
        # connection to the JVM, and a call on that one from a signal handler is the reentrant call
        quiet = threading.Thread(target=_silence_driver_log, args=(self.spark,), daemon=True)
        quiet.start()
        quiet.join(timeout=5)

    def restore(self) -> None:
        if self.muted:
            self.quiet.close()
            self.py4j.setLevel(self.level)
            self.muted = False


@contextmanager
def _plain_interrupts(spark: Any, previous: Any) -> Iterator[_Stopping]:
    """While a session made here runs, Ctrl-C first quiets the driver's log and py4j, then raises a plain
    ``KeyboardInterrupt`` (SIGTERM, when a Python handler takes it, quiets them and calls that handler);
    the handlers from before the session are back afterwards.

    Why: pyspark's own handler (set by ``SparkContext``) calls the JVM from inside the signal handler
    (``cancelAllJobs``) while the interrupted main thread is itself waiting on that connection. A Ctrl-C
    during ``spark train``'s fit printed 136 lines on a terminal: py4j's ``RuntimeError: reentrant call``
    and ``KeyboardInterrupt while sending command`` tracebacks through the root logger, then the tasks'
    ERROR lines with Java stacks as the context stopped (``Block rdd_89_1 does not exist``, ``Job 16
    cancelled because SparkContext was shut down``), ``movierec: interrupted`` lost in the middle.
    Stopping the session (:func:`_stop`) cancels the running jobs anyway, and the JVM ignores SIGINT itself
    (pyspark starts it so), so it goes with the session and no JVM is left behind.
    """
    import signal

    stopping = _Stopping(spark)
    if previous is None:  # not the main thread: no handler was read, none is set
        try:
            yield stopping
        finally:
            stopping.restore()
        return

    def on_sigint(_signum: int, _frame: object) -> None:
        _INTERRUPT.set()
        stopping.mute()
        raise KeyboardInterrupt

    # SIGTERM, where a Python handler takes it (the CLI raises it as an interrupt): quiet first, then that
    terminate: Any = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        _INTERRUPT.set()
        stopping.mute()
        terminate(signum, frame)

    _INTERRUPT.clear()
    signal.signal(signal.SIGINT, on_sigint)
    if callable(terminate):
        signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield stopping
    finally:
        signal.signal(signal.SIGINT, previous)
        if callable(terminate):
            signal.signal(signal.SIGTERM, terminate)
        stopping.restore()
        _INTERRUPT.clear()


def _silence_driver_log(spark: Any) -> None:
    """Turn the driver's log off: once a person has asked the run to stop, the ERROR lines of tasks cut
    off as the context stops are noise."""
    try:
        spark.sparkContext.setLogLevel("OFF")
    except Exception:  # the JVM is already gone: nothing left to log
        pass


def _stop(spark: Any) -> None:
    """Stop the session; a JVM that is already gone (or stops with an error) is a note on stderr, not a
    failure. By then the command's work is written, and an exception from ``stop()`` would replace the
    command's own: a finished ``spark train`` once exited 1 with a Py4JNetworkError from the gateway's
    shutdown (its artifact complete), and a failed job's clear line would give way to a Py4J trace."""
    try:
        with py4j_quiet():
            spark.stop()
    except Exception as exc:  # Py4JError, ConnectionError, …: the JVM did not answer its shutdown
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print_note(f"note: Spark did not stop cleanly ({type(exc).__name__}: {first})")
