"""Starting Spark safely: Java present, master reachable (fail fast, never hang), ``--conf`` parsing.

Every check here runs before the JVM starts, so a user mistake costs milliseconds and gives one
readable line instead of a Java stack trace or a driver waiting forever for a master.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from movierec.errors import ConfigError, MovierecError, labelled, spelled

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "DEFAULT_CONF",
    "SparkUnavailableError",
    "check_java",
    "check_master",
    "ensure_checkpoint_dir",
    "parse_conf",
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

_LOCAL_RE = re.compile(r"^local(\[(\*|[1-9][0-9]*)(,\s*[0-9]+)?\])?$")
_LOCAL_CLUSTER_RE = re.compile(r"^local-cluster\[\d+,\s*\d+,\s*\d+\]$")


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


#: spark_session's master, as a notebook and the CLI's spark commands name it
_MASTER = spelled("master=", "--master")


def parse_conf(pairs: Iterable[str] | None) -> dict[str, str]:
    """``["spark.executor.memory=4g", ...]`` → dict; a pair without ``=`` or with an empty key is a ConfigError."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--conf {pair!r}: expected key=value, e.g. --conf spark.executor.memory=4g")
        out[key] = value.strip()
    return out


def check_master(master: str, *, timeout: float = 10.0) -> None:
    """Validate a master URL and, for ``spark://`` and ``k8s://``, open a TCP connection within ``timeout`` s.

    A refused or silent master fails here in at most ``timeout`` seconds instead of the driver
    retrying for minutes. ``yarn`` needs ``HADOOP_CONF_DIR`` or ``YARN_CONF_DIR`` (where Spark finds
    the resource manager).
    """
    m = master.strip()
    if _LOCAL_RE.match(m) or _LOCAL_CLUSTER_RE.match(m):
        return
    if m == "yarn":
        if not (os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")):
            raise ConfigError(
                f"{labelled(_MASTER, 'yarn')}: set HADOOP_CONF_DIR or YARN_CONF_DIR to the folder with yarn-site.xml "
                "so Spark can find the resource manager"
            )
        return
    scheme, sep, rest = m.partition("://")
    if not sep or scheme not in ("spark", "k8s", "mesos"):
        raise ConfigError(
            f"{labelled(_MASTER, repr(master))}: expected local[*], local[N], spark://HOST:PORT[,HOST:PORT], yarn "
            "or k8s://https://HOST:PORT"
        )
    if scheme == "k8s":  # k8s://https://host:port
        _, _, rest = rest.rpartition("://")
    hosts = [h.strip().rstrip("/") for h in rest.split(",") if h.strip()]
    if not hosts:
        raise ConfigError(f"{labelled(_MASTER, repr(master))}: no host given")
    errors = []
    for hostport in hosts:
        host, _, port_s = hostport.rpartition(":")
        if not host:
            host, port_s = hostport, "7077" if scheme == "spark" else "443"
        try:
            port = int(port_s)
        except ValueError:
            raise ConfigError(f"{labelled(_MASTER, repr(master))}: port {port_s!r} is not a number") from None
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


@contextmanager
def _quiet_driver_log() -> Iterator[None]:
    """While the driver JVM starts, give it :data:`LOG4J_CONFIG` (``-Dlog4j2.configurationFile`` first in
    ``SPARK_SUBMIT_OPTS``, which the launcher puts before the driver's Java options); the environment is
    as it was afterwards.

    Any other choice wins: a ``-Dlog4j2.configurationFile`` in ``spark.driver.extraJavaOptions`` (or later
    in ``SPARK_SUBMIT_OPTS``) comes after ours on the java command line, and a log4j2 file in Spark's
    configuration folder turns ours off (:func:`_own_log4j_config`).
    """
    if not LOG4J_CONFIG.is_file() or _own_log4j_config():
        yield
        return
    before = os.environ.get("SPARK_SUBMIT_OPTS")
    ours = f"-Dlog4j2.configurationFile={LOG4J_CONFIG.resolve().as_uri()}"  # a URI: no spaces to split on
    os.environ["SPARK_SUBMIT_OPTS"] = f"{ours} {before}" if before else ours
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SPARK_SUBMIT_OPTS", None)
        else:
            os.environ["SPARK_SUBMIT_OPTS"] = before


CHECKPOINT_PREFIX = "movierec-spark-checkpoints-"


def ensure_checkpoint_dir(spark: Any) -> str | None:
    """The folder Spark checkpoints RDDs to, made for a local master that has none; ``None`` when there is
    none and the master is a cluster (a folder on the driver's disk is not one every executor reads).

    Why: ALS checkpoints its factor RDDs every ``checkpointInterval`` (10) iterations only when the
    SparkContext has a checkpoint folder. Without one each iteration adds to one lineage, which Java
    serializes recursively for every task; around 15 to 50 iterations that overflows a thread's stack
    (``java.lang.StackOverflowError``, which in local mode also kills the JVM). Spark's own advice
    (``ALS.checkpointInterval``) is to set one. A folder you set (``--conf spark.checkpoint.dir=…`` or
    ``sparkContext.setCheckpointDir``) is used as it is; the one made here lies in the temporary folder
    and is removed when the Python process exits.
    """
    sc = spark.sparkContext if hasattr(spark, "sparkContext") else spark
    current = sc.getCheckpointDir()
    if current:
        return str(current)
    if not str(sc.master).startswith("local"):
        return None
    folder = tempfile.mkdtemp(prefix=CHECKPOINT_PREFIX)
    atexit.register(shutil.rmtree, folder, True)
    sc.setCheckpointDir(folder)
    return str(sc.getCheckpointDir() or folder)


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

    The driver logs only ERROR and above to the terminal (:func:`_quiet_driver_log`), unless you configure
    Spark's logging yourself. An already active session in this process (a notebook, a test fixture) is
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
    builder: Any = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with _quiet_driver_log():
            spark = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start or register: one line, not a Py4J trace
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailableError(
            f"Spark could not start with master {master} ({_MASTER}): {first}"
        ) from exc
    url = spark.sparkContext.uiWebUrl
    if not quiet:
        print(
            f"Spark {spark.version} on {master} (app {spark.sparkContext.applicationId}); UI: {url or 'disabled'}",
            file=sys.stderr,
        )
    try:
        yield spark
    finally:
        _stop(spark)


def _stop(spark: Any) -> None:
    """Stop the session; a JVM that is already gone (or stops with an error) is a note on stderr, not a
    failure. By then the command's work is written, and an exception from ``stop()`` would replace the
    command's own: a finished ``spark train`` once exited 1 with a Py4JNetworkError from the gateway's
    shutdown (its artifact complete), and a failed job's clear line would give way to a Py4J trace."""
    try:
        spark.stop()
    except Exception as exc:  # Py4JError, ConnectionError, …: the JVM did not answer its shutdown
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"note: Spark did not stop cleanly ({type(exc).__name__}: {first})", file=sys.stderr)
