"""Checks that run before the JVM starts: Java present, master reachable, --conf well formed.

These never start Spark, so they are fast and run even where Java is absent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sparkmarks import FAST_JVM_OPTION, java_missing_reason

from clihelp import run_process
from movierec.errors import ConfigError, MovierecError
from movierec.spark.session import (
    SparkUnavailableError,
    check_java,
    check_master,
    check_master_form,
    check_sizes,
    parse_conf,
    session_settings,
)

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'movierec[spark]')")

pytestmark = pytest.mark.spark


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` in this process (:func:`clihelp.run_process`): every run here is refused before a
    JVM starts, so none stays behind in the test's process."""
    return run_process(*args)


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("movierec: error: ")
    return lines[0]


def test_parse_conf() -> None:
    assert parse_conf(["spark.executor.memory=4g", "spark.a = b=c"]) == {
        "spark.executor.memory": "4g",
        "spark.a": "b=c",
    }
    assert parse_conf(None) == {}
    with pytest.raises(ConfigError, match="key=value"):
        parse_conf(["spark.executor.memory"])
    with pytest.raises(ConfigError, match="key=value"):
        parse_conf(["=4g"])


@pytest.mark.parametrize(
    "master", ["local", "local[*]", "local[2]", "local[4,3]", "local-cluster[2, 1, 1024]"]
)
def test_local_masters_need_no_network(master: str) -> None:
    check_master(master)


@pytest.mark.parametrize(
    "master", ["locall[2]", "local[0]", "http://host:7077", "spark://", "spark://host:port"]
)
def test_malformed_masters_are_config_errors(master: str) -> None:
    with pytest.raises(ConfigError, match=r"^master=") as exc:  # Python's keyword, the CLI's flag
        check_master(master)
    assert "--master" not in str(exc.value) and exc.value.in_cli().startswith(f"--master {master}: ")


def test_refused_master_fails_fast_naming_it() -> None:
    port = _closed_port()
    with pytest.raises(SparkUnavailableError, match=f"cannot reach Spark master spark://127.0.0.1:{port}"):
        check_master(f"spark://127.0.0.1:{port}", timeout=2.0)


def test_one_reachable_master_of_several_is_enough() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        up = server.getsockname()[1]
        check_master(f"spark://127.0.0.1:{_closed_port()},127.0.0.1:{up}", timeout=2.0)


def test_yarn_needs_hadoop_conf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HADOOP_CONF_DIR", raising=False)
    monkeypatch.delenv("YARN_CONF_DIR", raising=False)
    with pytest.raises(ConfigError, match="HADOOP_CONF_DIR"):
        check_master("yarn")
    monkeypatch.setenv("HADOOP_CONF_DIR", "/etc/hadoop/conf")
    check_master("yarn")


def test_java_absent_is_one_clear_line(tmp_path: Path) -> None:
    """With no java on PATH and no JAVA_HOME the command stops before Spark, exit 2, one line."""
    # PATH an empty folder: no java anywhere
    proc = run_process(
        "spark", "train", "--out", str(tmp_path / "a"), env={"JAVA_HOME": None, "PATH": str(tmp_path)}
    )
    line = _one_error_line(proc)
    assert "Java not found" in line and "Java 17" in line
    assert not (tmp_path / "a").exists()


def test_java_home_without_java_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(MovierecError, match=f"JAVA_HOME={tmp_path} has no bin/java"):
        check_java()


def test_unreachable_master_through_the_cli(tmp_path: Path) -> None:
    try:
        check_java()
    except SparkUnavailableError as exc:
        pytest.skip(f"needs Java 17: {exc}")
    port = _closed_port()
    proc = _run(
        [
            "spark",
            "train",
            "--master",
            f"spark://127.0.0.1:{port}",
            "--connect-timeout",
            "3",
            "--out",
            str(tmp_path / "a"),
        ]
    )
    line = _one_error_line(proc)
    assert f"cannot reach Spark master spark://127.0.0.1:{port}" in line


def _train_without_java(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``movierec spark train ARGS --out tmp_path/a`` with no Java anywhere (no JAVA_HOME, PATH an empty
    folder): an error it names ran before Java was looked for, let alone started (in this process)."""
    env: dict[str, str | None] = {"JAVA_HOME": None, "PATH": str(tmp_path)}
    return run_process("spark", "train", *args, "--out", str(tmp_path / "a"), env=env)


@pytest.mark.parametrize(
    ("master", "says"),
    [
        ("local[x]", "expected local, local[N], local[*], spark://HOST:PORT[,HOST:PORT], yarn or k8s://"),
        ("lokal", "expected local, local[N], local[*], spark://HOST:PORT"),
        ("local[0]", "local[N] runs N worker threads, so N is 1 or more (local[*]: one per core)"),
        ("spark://host:port", "port 'port' is not a number"),
        ("mesos://host:5050", "expected local, local[N]"),  # Spark 4 has no Mesos
    ],
)
def test_a_master_spark_does_not_read_is_one_line_before_anything(
    tmp_path: Path, master: str, says: str
) -> None:
    """A bad --master is named before Java is looked for and before the data is read: with no Java on PATH
    the old code said 'Java not found' for --master local[x] (and took a JVM's start to refuse local[0]
    when Java was there); now the line names the forms Spark takes. Exit 2, no JVM."""
    line = _one_error_line(_train_without_java(tmp_path, "--master", master))
    assert line.startswith(f"movierec: error: --master {master}: "), line  # the flag alone (it named both)
    assert "master=" not in line, line
    assert says in line and not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    ("master", "ok"),
    [("local", True), ("local[*]", True), ("local[3]", True), ("local[2 , 4]", True), ("local[*,2]", True),
     ("local-cluster[ 2, 1, 1024 ]", True), ("k8s://https://host:443", True), ("spark://a:7077,b:7077", True),
     ("local[0]", False), ("local[]", False), ("local[ 2]", False), ("local[-1]", False), ("Local[2]", False),
     ("spark://", False), ("k8s://", False), ("yarn-client", False)],
)  # fmt: skip
def test_master_forms_are_sparks_own(master: str, ok: bool) -> None:
    """Spark's patterns (SparkMasterRegex), local[0] aside: Spark refuses it once its JVM runs."""
    if ok:
        assert check_master_form(master) == master.strip()
    else:
        with pytest.raises(ConfigError, match=r"^master=") as exc:  # each door's spelling
            check_master_form(master)
        assert exc.value.in_cli().startswith("--master ")


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("spark.driver.memory", "abc", "expected a Java heap size"),
        ("spark.driver.memory", "2gb", "expected a Java heap size"),  # Spark reads 2gb; Java's -Xmx does not
        ("spark.driver.memory", "1.5g", "expected a Java heap size"),
        ("spark.driver.memory", "2048", "expected a Java heap size"),  # bytes: 'Too small maximum heap'
        # measured: 300m started the JVM, then 'Insufficient driver memory' and a Java stack trace
        ("spark.driver.memory", "300m", "at least 450m"),
        ("spark.executor.memory", "4 g", "expected a size such as 4g"),
    ],
)
def test_a_memory_size_java_or_spark_cannot_read_is_one_line_before_the_jvm(
    tmp_path: Path, key: str, value: str, says: str
) -> None:
    """``--conf spark.driver.memory=abc`` printed Java's own lines ('Invalid maximum heap size: -Xmxabc',
    'Error: Could not create the Java Virtual Machine.', …) before ours, which said only that the Java
    gateway exited. Now one line, exit 2, before Java is looked for (no Java on PATH here)."""
    line = _one_error_line(_train_without_java(tmp_path, "--conf", f"{key}={value}"))
    assert line.startswith(f"movierec: error: --conf {key}={value!r}: ") and says in line, line


def test_sizes_java_and_spark_read_pass() -> None:
    check_sizes({"spark.driver.memory": "2g", "spark.executor.memory": "4gb"})
    check_sizes({"spark.driver.memory": "512M", "spark.executor.memoryOverhead": "384"})
    check_sizes({"spark.driver.memory": "460800k", "spark.driver.maxResultSize": "1g"})
    check_sizes({"spark.some.other": "abc"})  # not a size we know: Spark's to judge


@pytest.mark.slow
@pytest.mark.xdist_group("spark")
def test_a_master_and_heap_we_accept_start_a_real_spark(tmp_path: Path) -> None:
    """Spark's spacing local[2 , 1] (refused before: the pattern had no space before the comma) and the
    heap 512M start a real local Spark with two threads, and nothing from Java reaches stderr."""
    if (reason := java_missing_reason()) is not None:
        pytest.skip(reason)
    code = (
        "from movierec.spark.session import spark_session\n"
        "with spark_session('local[2 , 1]', {'spark.driver.memory': '512M', 'spark.ui.enabled': 'false',"
        f" 'spark.driver.extraJavaOptions': {FAST_JVM_OPTION!r}}},"
        " quiet=True) as s:\n"
        "    sc = s.sparkContext\n"
        "    print(sc.defaultParallelism, sc.getConf().get('spark.driver.memory'),"
        " sc.parallelize(range(10), 2).sum())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2", "512M", "45"], proc.stdout
    noise = [x for x in proc.stderr.splitlines() if x.strip() and "jdk.incubator.vector" not in x]
    assert noise == [], proc.stderr


def test_bad_conf_through_the_cli(tmp_path: Path) -> None:
    proc = _run(["spark", "train", "--conf", "spark.executor.memory", "--out", str(tmp_path / "a")])
    assert "--conf 'spark.executor.memory'" in _one_error_line(proc)


def test_the_driver_gets_movierec_log_config_only_while_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """``-Dlog4j2.configurationFile`` goes first in ``SPARK_SUBMIT_OPTS`` (what is there stays after it, so a
    user's own setting wins) and only while the JVM starts: the environment is as it was afterwards. The
    4 MiB thread stack (``-Xss4m``, test_checkpoints runs what it is for) and the netlib options (where this
    machine lacks libblas.so.3 / liblapack.so.3) follow it, before the user's: a user's ``-Xss1m`` there
    comes later on Java's command line, and the last ``-Xss`` is the one Java takes."""
    from movierec.spark.session import LOG4J_CONFIG, _driver_java_options, _no_native_netlib

    for name in ("SPARK_CONF_DIR", "SPARK_HOME", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"):
        monkeypatch.delenv(name, raising=False)
    log4j = f"-Dlog4j2.configurationFile={LOG4J_CONFIG.resolve().as_uri()}"
    assert LOG4J_CONFIG.is_file() and " " not in log4j
    ours = " ".join([log4j, "-Xss4m", *_no_native_netlib()])
    monkeypatch.delenv("SPARK_SUBMIT_OPTS", raising=False)
    with _driver_java_options():
        assert os.environ["SPARK_SUBMIT_OPTS"] == ours
    assert "SPARK_SUBMIT_OPTS" not in os.environ
    monkeypatch.setenv("SPARK_SUBMIT_OPTS", "-Dlog4j2.configurationFile=mine.xml -Xss1m")
    with _driver_java_options():
        assert os.environ["SPARK_SUBMIT_OPTS"] == f"{ours} -Dlog4j2.configurationFile=mine.xml -Xss1m"
    assert os.environ["SPARK_SUBMIT_OPTS"] == "-Dlog4j2.configurationFile=mine.xml -Xss1m"


@pytest.mark.parametrize("option", ["-Xss512k", "-XX:ThreadStackSize=2048"])
@pytest.mark.parametrize("where", ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"])
def test_a_thread_stack_java_reads_first_keeps_ours_off(
    where: str, option: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Java reads ``JAVA_TOOL_OPTIONS`` and ``JDK_JAVA_OPTIONS`` before its command line, so movierec's
    ``-Xss4m`` there would override a stack size set in them: then it is left out (the rest stays)."""
    from movierec.spark.session import _driver_java_options

    for name in (
        "SPARK_SUBMIT_OPTS",
        "JAVA_TOOL_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "SPARK_CONF_DIR",
        "SPARK_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(where, f"-Dfile.encoding=UTF-8 {option}")
    with _driver_java_options():
        opts = os.environ["SPARK_SUBMIT_OPTS"].split()
    assert "-Xss4m" not in opts and "-Dlog4j2.configurationFile" in opts[0], opts
    monkeypatch.setenv(where, "-Dfile.encoding=UTF-8 -XX:+UseG1GC")  # no stack size there: ours is given
    with _driver_java_options():
        assert "-Xss4m" in os.environ["SPARK_SUBMIT_OPTS"].split()


def test_the_accumulator_server_is_quiet_about_a_jvm_gone_and_nothing_else(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """pyspark's real accumulator server (no JVM: this test plays the JVM's side of the socket): a
    connection that ends (end-of-file, as a killed JVM's does) prints nothing once the JVM process has
    exited, and still prints socketserver's traceback while it runs; a wrong token always prints."""
    import select
    import struct
    import time
    from types import SimpleNamespace

    from pyspark.accumulators import _start_update_server

    from movierec.spark.session import _quiet_lost_jvm

    token = "t0ken-of-test"

    def jvm_side(proc: subprocess.Popen[bytes]) -> str:
        """What stderr got from one connection that sends its token and no update, then closes, and one
        with a wrong token (whose traceback says the first one's handling is done)."""
        server = _start_update_server(token, False)
        try:
            _quiet_lost_jvm(
                SimpleNamespace(_accumulatorServer=server, _gateway=SimpleNamespace(proc=proc)), wait_s=1
            )
            with socket.create_connection(server.server_address[:2], timeout=10) as sock:
                sock.sendall(token.encode() + struct.pack("!i", 0))  # authenticated, 0 updates
                assert select.select([sock], [], [], 10)[0] and sock.recv(1) == b"\x01"
            with socket.create_connection(server.server_address[:2], timeout=10) as sock:
                sock.sendall(b"x" * len(token))
            err, deadline = "", time.monotonic() + 20
            while "is not correct" not in err and time.monotonic() < deadline:
                time.sleep(0.05)
                err += capfd.readouterr().err
            time.sleep(0.1)
            return err + capfd.readouterr().err
        finally:
            server.shutdown()

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=30)
    err = jvm_side(gone)
    assert err.count("Traceback") == 1 and "is not correct" in err and "EOFError" not in err, err
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        err = jvm_side(alive)
    finally:
        alive.kill()
        alive.wait(timeout=30)
    assert err.count("Traceback") == 2 and "EOFError" in err and "is not correct" in err, err


@pytest.mark.parametrize("where", ["SPARK_CONF_DIR", "SPARK_HOME"])
def test_a_log4j_file_in_sparks_conf_folder_is_left_to_work(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster's (or user's) ``log4j2.properties`` in Spark's configuration folder keeps the driver's log."""
    from movierec.spark.session import _driver_java_options

    monkeypatch.delenv("SPARK_CONF_DIR", raising=False)
    monkeypatch.delenv("SPARK_SUBMIT_OPTS", raising=False)
    conf = tmp_path / "conf"
    conf.mkdir()
    monkeypatch.setenv(where, str(conf if where == "SPARK_CONF_DIR" else tmp_path))
    with _driver_java_options():
        assert "log4j2.configurationFile" in os.environ["SPARK_SUBMIT_OPTS"]  # an empty folder: ours
    (conf / "log4j2.properties").write_text("rootLogger.level = info\n")
    with _driver_java_options():  # the netlib options only, where the native libraries are missing
        assert "log4j2.configurationFile" not in os.environ.get("SPARK_SUBMIT_OPTS", "")


def test_stage_bars_only_on_a_terminal_and_conf_still_wins() -> None:
    """Spark drew its ``[Stage 3:>  (0 + 1) / 1]`` bars into pipes and log files (the JVM writes them to
    stderr whatever it is): a new session turns them off unless stderr is a terminal; --conf wins either way."""
    assert session_settings("local[2]", None, terminal=True)["spark.ui.showConsoleProgress"] == "true"
    assert session_settings("local[2]", None, terminal=False)["spark.ui.showConsoleProgress"] == "false"
    mine = {"spark.ui.showConsoleProgress": "true", "spark.driver.memory": "3g"}
    piped = session_settings("local[2]", mine, terminal=False)
    assert piped["spark.ui.showConsoleProgress"] == "true" and piped["spark.driver.memory"] == "3g"


@pytest.mark.parametrize("option", ["--ratings", "--movies"])
@pytest.mark.parametrize("given", ["nope.csv", "sub/nope.csv", "file://ABS/nope.csv"])
def test_a_missing_local_input_is_one_line_before_spark_starts(
    tmp_path: Path, option: str, given: str
) -> None:
    """``spark train --ratings nope.csv`` started the JVM (about 20 s here) to end in Spark's
    ``[PATH_NOT_FOUND] Path does not exist: file:/…/nope.csv. SQLSTATE: 42K03``; a local path that is not
    there is now one line naming the folder looked in, before Spark starts, and --out is not created."""
    given = given.replace("ABS", str(tmp_path))
    proc = run_process("spark", "train", option, given, "--out", "art", cwd=tmp_path)
    line = _one_error_line(proc)
    where = (tmp_path / given.removeprefix("file://")).parent.resolve()
    assert line == f"movierec: error: {option} {given}: no such file or folder (looked in {where})"
    assert "UI: " not in proc.stderr and not (tmp_path / "art").exists()  # no session was started


def test_a_folder_spark_cannot_read_as_csv_is_one_line_before_spark_starts(tmp_path: Path) -> None:
    """A --ratings folder of Parquet files read as CSV (the default for a folder not named .parquet) ended,
    after the JVM's start, in ``missing columns 'userId', … (found: PAR1…)``: Spark read the bytes as a
    header. It is now one line before Spark starts that names the files and the --format to pass; an empty
    folder is one line too. --format parquet on the same folder passes the check (Spark then reads it)."""
    from movierec.spark.train import check_local_input

    (tmp_path / "pq").mkdir()
    (tmp_path / "pq" / "part-0.parquet").write_bytes(b"PAR1")
    (tmp_path / "pq" / "_SUCCESS").write_bytes(b"")
    (tmp_path / "mixed").mkdir()
    for name in ("a.csv", "b.json", "c.orc"):
        (tmp_path / "mixed" / name).write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_text("")
    cases = {
        "pq": "--ratings pq: read as CSV, but the folder holds part-0.parquet, which is not CSV (pass --format "
        "parquet); point it at a folder of CSV files only",
        "mixed": "--ratings mixed: read as CSV, but the folder holds b.json, c.orc, which are not CSV; point it "
        "at a folder of CSV files only",
        "empty": "--ratings empty: the folder holds no data files (names starting _ or . are skipped)",
    }
    for folder, want in cases.items():
        proc = run_process("spark", "train", "--ratings", folder, "--out", "art", cwd=tmp_path)
        assert _one_error_line(proc) == f"movierec: error: {want}"
        assert "UI: " not in proc.stderr and not (tmp_path / "art").exists()
    check_local_input(str(tmp_path / "pq"), "--ratings", "parquet")  # the right format: no refusal
    check_local_input(str(tmp_path / "mixed" / "a.csv"), "--ratings")  # a file is Spark's to read


def test_spark_recommend_refuses_an_existing_out_before_spark_starts(tmp_path: Path) -> None:
    """``spark recommend --out recs.parquet`` into an existing folder started the JVM (10-20 s) before saying
    'already exists; pass --force'; a folder Spark did not write is refused even with --force. Both are now
    one line before Spark starts, and the folder is left as it was."""
    from datagen import make_ratings

    make_ratings(n_users=30, n_items=40, seed=3).to_csv(tmp_path / "r.csv", index=False)
    exported = run_process("export", "-m", "popularity", "--ratings", "r.csv", "--out", "art", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    (tmp_path / "recs.parquet").mkdir()
    (tmp_path / "recs.parquet" / "_SUCCESS").write_text("")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep\n")
    for out, force, says in [
        ("recs.parquet", [], "recs.parquet already exists; pass --force"),
        (
            "mine",
            ["--force"],
            "--out mine: refusing to overwrite a folder Spark did not write (it holds notes.txt)",
        ),
    ]:
        proc = run_process("spark", "recommend", "-a", "art", "--out", out, *force, cwd=tmp_path)
        assert says in _one_error_line(proc)
        assert "UI: " not in proc.stderr and "incubator" not in proc.stderr  # no session was started
    assert [p.name for p in (tmp_path / "recs.parquet").iterdir()] == ["_SUCCESS"]
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep\n"
