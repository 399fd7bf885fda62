"""A ``movierec spark`` run does not open with Spark's own log chatter on stderr: no "Using Spark's default
log4j profile", no "Setting default log level", no WARN lines (NativeCodeLoader, the loopback address).
The driver gets movierec's log4j2 configuration, which lets only ERROR and above through to the terminal,
and a configuration of your own still wins. Each test runs the real CLI (or a script) in a subprocess on
``local[2]`` (the driver's JVM writes to the process's stderr, which only a subprocess can read whole). A
failed job's stderr (Spark's ERROR lines only, then movierec's one line) is read in test_recommend_force's
failed run, which starts the JVM this needs anyway.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sparkmarks import FAST_JVM, FAST_JVM_OPTION, SPARK_JOB, spark_log_lines

from datagen import make_ratings
from movierec.spark.failures import JVM_GONE
from movierec.spark.session import CHECKPOINT_PREFIX, SparkUnavailableError, check_java

pytestmark = SPARK_JOB


@pytest.fixture(autouse=True)
def _java() -> None:
    try:
        check_java()
    except SparkUnavailableError as exc:
        pytest.skip(f"Spark tests need Java 17: {exc}")


def _spark(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``movierec spark ARGS --master local[2]`` (UI off, the JIT's first tier unless ARGS give the driver's
    Java options: :data:`sparkmarks.FAST_JVM`) in a subprocess, stderr piped; its own temporary folder."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("SPARK_SUBMIT_OPTS", "SPARK_CONF_DIR", "SPARK_HOME")
    }
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp_path / "tmp")
    conf = ["--conf", "spark.ui.enabled=false"]  # stage bars: off by default in a pipe
    if not any(arg.startswith("spark.driver.extraJavaOptions=") for arg in args):
        conf += FAST_JVM
    return subprocess.run(
        [sys.executable, "-m", "movierec", "spark", *args, "--master", "local[2]", *conf],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )


@pytest.fixture
def ratings(tmp_path: Path) -> Path:
    path = tmp_path / "ratings.csv"
    make_ratings(n_users=60, n_items=80, seed=3).to_csv(path, index=False)
    return path


def test_a_spark_run_prints_no_spark_log_lines(tmp_path: Path, ratings: Path) -> None:
    done = _spark(
        ["train", "--ratings", str(ratings), "--out", str(tmp_path / "art"), "--rank", "4"], tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert spark_log_lines(done.stderr) == [], done.stderr[-3000:]
    # where the native BLAS/LAPACK are missing (this machine: no libblas3), netlib's JNI shim printed
    # 'netlib-blas: JNI_OnLoad: dlopen(libblas.so.3) failed: … cannot open shared object file' (and lapack's)
    assert "netlib-" not in done.stderr and "shared object file" not in done.stderr, done.stderr[-3000:]
    # piped, Spark drew no stage bars (``[Stage 3:>   (0 + 1) / 1]`` redrawn with carriage returns)
    assert "[Stage " not in done.stderr and "\r" not in done.stderr, done.stderr[-3000:]
    # the summary says what its RMSE was measured on (test rows of users and movies seen in training), and
    # that each prediction was clipped to the training scale first, as the artifact serves it
    # (piped, the summary wraps at 80 columns: read its lines joined)
    assert re.search(
        r"(^| )hold-out: rmse \d\.\d{4}, mae \d\.\d{4} over [\d,]+ of [\d,]+ test ratings.*?"
        r", predictions clipped to [\d.]+\.\.[\d.]+ as the artifact serves them( |$)",
        " ".join(done.stdout.split()),
    ), done.stdout
    assert re.search(r"^Spark \S+ on local\[2\]", done.stderr, re.M)  # movierec's own lines are as they were
    assert (tmp_path / "art" / "manifest.json").is_file()


def test_your_own_log4j_configuration_and_checkpoint_folder_win(tmp_path: Path, ratings: Path) -> None:
    """``-Dlog4j2.configurationFile`` in ``spark.driver.extraJavaOptions`` replaces movierec's: its lines
    show, WARN among them (Spark's PySpark gateway itself holds the console at WARN, not the file's INFO).
    The same run gives its own ``spark.checkpoint.dir`` (test_checkpoints' rule, one JVM start fewer on the
    suite's Spark lane): ALS checkpoints there (the default 15 iterations pass its 10th), the folder is
    kept, and movierec makes none of its own in the temporary folder."""
    mine_dir = tmp_path / "my-checkpoints"
    mine = tmp_path / "mine.properties"
    mine.write_text(
        "rootLogger.level = info\n"
        "rootLogger.appenderRef.stderr.ref = console\n"
        "appender.console.type = Console\n"
        "appender.console.name = console\n"
        "appender.console.target = SYSTEM_ERR\n"
        "appender.console.layout.type = PatternLayout\n"
        "appender.console.layout.pattern = MINE %p %c{1}: %m%n\n"
    )
    java_opts = f"spark.driver.extraJavaOptions=-Dlog4j2.configurationFile={mine.as_uri()} {FAST_JVM_OPTION}"
    done = _spark(
        [
            "train",
            "--ratings",
            str(ratings),
            "--out",
            str(tmp_path / "art"),
            "--rank",
            "4",
            "--conf",
            java_opts,
            "--conf",
            f"spark.checkpoint.dir={mine_dir}",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert any(ln.startswith("MINE WARN ") for ln in done.stderr.splitlines()), done.stderr[-3000:]
    assert [p for p in mine_dir.rglob("*") if p.is_file()], "ALS wrote no checkpoint into the folder given"
    assert not [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith(CHECKPOINT_PREFIX)]


def test_a_jvm_gone_before_stop_is_a_note_not_a_failure(tmp_path: Path) -> None:
    """The session's JVM killed while the command runs: leaving the session prints one note and the
    command's own code after it still runs (a ``spark train`` whose artifact was complete once exited 1
    with a Py4JNetworkError from ``stop()``). A Python job ran first, so the JVM held a connection to
    pyspark's accumulator server, whose handler printed a traceback ending in ``EOFError`` on stderr when
    the JVM died, before the note; the note is all there is now.

    The JVM dies as a job fails (a Java error in a task, as a StackOverflowError in local mode takes the
    JVM down with it): ``job_failures`` could not read the cause from the JVM, and its fall-back's
    ``str()`` asked the JVM too, so the run ended in some 140 lines of chained tracebacks
    (``ConnectionRefusedError``). Now it is still one SparkJobError line: what Python holds of the cause
    (a task's Python error, read when it was raised), else that the JVM stopped first."""
    script = tmp_path / "kill_jvm.py"
    script.write_text(
        "import os, signal\n"
        "from movierec.spark.failures import SparkJobError, job_failures\n"
        "from movierec.spark.session import spark_session\n"
        "conf = {'spark.ui.enabled': 'false', 'spark.ui.showConsoleProgress': 'false',"
        f" 'spark.driver.extraJavaOptions': {FAST_JVM_OPTION!r}}}\n"
        "with spark_session('local[2]', conf, quiet=True) as spark:\n"
        "    sc = spark.sparkContext\n"
        "    # the first job is a Python one (a SQL count before it only cost ~1 CPU-s of the JVM's)\n"
        "    assert sc.parallelize(range(4), 2).map(lambda x: x + 1).sum() == 10\n"
        "    sc.setLogLevel('OFF')  # Spark logs the task's Python traceback: not what this test reads\n"
        "    try:\n"
        "        sc.parallelize([1], 1).map(lambda x: x // 0).collect()\n"
        "    except Exception as exc:\n"
        "        python_failure = exc\n"
        "    sc.setLogLevel('ERROR')\n"
        "    jvm = sc._gateway.proc\n"
        "    for failure in ('java', 'python'):\n"
        "        try:\n"
        "            with job_failures():\n"
        "                if failure == 'python':\n"
        "                    raise python_failure\n"
        "                try:\n"
        "                    spark.range(1).selectExpr(\"java_method('java.lang.Integer', 'parseInt', 'x')\").collect()\n"
        "                finally:\n"
        "                    os.kill(jvm.pid, signal.SIGKILL)\n"
        "                    jvm.wait(timeout=30)\n"
        "        except SparkJobError as exc:\n"
        "            print(exc)\n"
        "print('after the session')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_SUBMIT_OPTS", "SPARK_CONF_DIR")}
    env["TMPDIR"] = str(tmp_path)  # the failures' logs
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    *_, java, python, after = done.stdout.splitlines()
    assert after == "after the session", done.stdout
    assert java.startswith(f"the Spark job failed: {JVM_GONE} (full stack in {tmp_path}"), done.stdout
    assert python.startswith(
        "the Spark job failed: ZeroDivisionError: integer division or modulo by zero (full stack in "
    ), done.stdout
    notes = [ln for ln in done.stderr.splitlines() if ln.startswith("note: Spark did not stop cleanly (")]
    assert len(notes) == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "EOFError" not in done.stderr, done.stderr[-3000:]


def _quiet_and_loud(script: Path, *, timeout: int) -> tuple[subprocess.CompletedProcess[str], ...]:
    """``script`` run twice in its own folder, with ``quiet`` then ``loud`` as its argument; both must exit 0."""
    runs = tuple(
        subprocess.run(
            [sys.executable, str(script), how],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=script.parent,
        )
        for how in ("quiet", "loud")
    )
    assert all(run.returncode == 0 for run in runs), "".join(run.stderr for run in runs)
    return runs


def test_a_connection_cut_mid_answer_logs_no_py4j_traceback(tmp_path: Path) -> None:
    """The race behind the test above: when the JVM closes a pooled connection while a read of the failed
    job's cause (or the session's stop) waits on it, py4j logs ``Exception while sending command.`` with
    its traceback on the root logger, and installs ``basicConfig``'s handler to print it; CI once failed
    the test above on 25 such lines. Here the cut is certain: a real py4j client against a real socket
    on 127.0.0.1 that reads the command and closes. Inside ``py4j_quiet`` (what those two reads run in)
    nothing is printed and the root logger keeps no handler, so a user's own warning still prints as
    Python prints it; outside, the same call prints py4j's traceback (what the quiet block is for)."""
    script = tmp_path / "cut.py"
    script.write_text(
        "import logging, socket, sys, threading\n"
        "from contextlib import nullcontext\n"
        "from py4j.java_gateway import GatewayClient, GatewayParameters\n"
        "from movierec.spark.session import py4j_quiet\n"
        "server = socket.create_server(('127.0.0.1', 0))\n"
        "def serve():\n"
        "    while True:\n"
        "        conn, _ = server.accept()\n"
        "        conn.recv(64)\n"
        "        conn.close()\n"
        "threading.Thread(target=serve, daemon=True).start()\n"
        "client = GatewayClient(gateway_parameters=GatewayParameters(port=server.getsockname()[1]))\n"
        "with py4j_quiet() if sys.argv[1] == 'quiet' else nullcontext():\n"
        "    print(client.send_command('c\\nt\\ne\\n', retry=False))\n"
        "print(len(logging.getLogger().handlers))\n"
        "logging.getLogger().warning('a warning of your own')\n"
    )
    quiet, loud = _quiet_and_loud(script, timeout=60)
    assert "Exception while sending command." in loud.stderr and "Traceback" in loud.stderr
    assert quiet.stdout.split() == ["x", "0"]  # py4j's error answer; no handler left on the root
    assert quiet.stderr == "a warning of your own\n"


def test_a_free_cut_off_on_py4js_gc_thread_prints_nothing(tmp_path: Path) -> None:
    """The other race behind the JVM-gone test, which once failed a fresh clone's run on py4j's
    ``ERROR:root:Exception while sending command.`` (``ConnectionResetError``, ``Py4JNetworkError``): py4j
    frees JVM objects on its ``FinalizerWorker`` thread, at any moment, so a JVM killed with a free sent but
    unread resets that connection outside any ``py4j_quiet`` block. Here the reset is certain: py4j's own
    worker and client against a socket on 127.0.0.1 that reads the command and resets. Without
    ``_quiet_gc_requests`` (what ``spark_session`` calls) py4j prints its traceback and leaves
    ``basicConfig``'s handler on the root; with it, stderr keeps only a user's own warning, as Python prints
    it, and the record is on py4j's logger at DEBUG for whoever turns it on. A call from the main thread
    still prints as before: only the worker's frees change."""
    script = tmp_path / "gc.py"
    script.write_text(
        "import logging, socket, struct, sys, threading\n"
        "from collections import deque\n"
        "from py4j.clientserver import SHUTDOWN_FINALIZER_WORKER, FinalizerWorker, JavaClient\n"
        "from py4j.clientserver import JavaParameters, PythonParameters\n"
        "from py4j.java_gateway import GatewayProperty, PythonProxyPool\n"
        "from movierec.spark.session import _quiet_gc_requests\n"
        "server = socket.create_server(('127.0.0.1', 0))\n"
        "def serve():\n"
        "    while True:\n"
        "        conn, _ = server.accept()\n"
        "        conn.recv(64)\n"
        "        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n"
        "        conn.close()  # a reset: the JVM killed before it read the command\n"
        "threading.Thread(target=serve, daemon=True).start()\n"
        "if sys.argv[1] == 'quiet':\n"
        "    _quiet_gc_requests()\n"
        "    _quiet_gc_requests()  # a second session's call changes nothing\n"
        "    mine = logging.StreamHandler(sys.stdout)\n"
        "    mine.setFormatter(logging.Formatter('%(levelname)s %(name)s %(filename)s %(threadName)s: %(message)s'))\n"
        "    logging.getLogger('py4j.java_gateway').addHandler(mine)\n"
        "    logging.getLogger('py4j.java_gateway').setLevel(logging.DEBUG)\n"
        "tasks = deque()\n"
        "worker = FinalizerWorker(tasks)\n"
        "worker.name = 'FinalizerWorker'\n"
        "worker.start()\n"
        "params = JavaParameters(port=server.getsockname()[1])\n"
        "client = JavaClient(params, PythonParameters(port=0), GatewayProperty(False, PythonProxyPool()), tasks)\n"
        "client.garbage_collect_object('o1')  # queued for the worker, as when a JavaObject is dropped\n"
        "tasks.appendleft(SHUTDOWN_FINALIZER_WORKER)  # after the free: the worker takes the oldest first\n"
        "worker.join(timeout=60)\n"
        "print('worker', 'running' if worker.is_alive() else 'done', len(logging.getLogger().handlers))\n"
        "logging.getLogger().warning('a warning of your own')\n"
        "sys.stderr.flush()\n"
        "if sys.argv[1] == 'quiet':\n"
        "    print(client.send_command('c\\nt\\ne\\n', retry=False))  # the main thread's own call\n"
    )
    quiet, loud = _quiet_and_loud(script, timeout=120)
    assert "ERROR:root:Exception while sending command." in loud.stderr and "Traceback" in loud.stderr
    assert "ConnectionResetError" in loud.stderr, loud.stderr  # the reset reached py4j as CI's did
    assert "worker done 1" in loud.stdout.splitlines()  # basicConfig's handler stayed on the root
    lines = quiet.stdout.splitlines()
    assert "worker done 0" in lines, quiet.stdout
    assert (
        "DEBUG py4j.java_gateway java_gateway.py FinalizerWorker: Exception while sending command." in lines
    )
    assert lines[-1] == "x", quiet.stdout  # py4j's error answer to the main thread
    mine, _, main = quiet.stderr.partition("\n")
    assert mine == "a warning of your own", quiet.stderr
    assert main.startswith("ERROR:root:Exception while sending command.\nTraceback"), quiet.stderr
