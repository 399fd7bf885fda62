"""The feedback store on a real SQLite file and a real PostgreSQL server: idempotency, concurrent writers,
schema versions, merging into a dataset. ``db_url`` runs each test once per backend."""

from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3
import threading
from pathlib import Path

import pytest
from servehelp import movies_dataset, pool_connections
from sqlalchemy import func, select
from typer.testing import CliRunner

from movierec.cli import app
from movierec.errors import ConfigError, DataError
from movierec.serving.store import (
    SCHEMA_VERSION,
    FeedbackConflict,
    FeedbackStore,
    merge_feedback,
    normalise_url,
    schema_table,
)


def test_sqlite_is_wal_with_full_sync(tmp_path: Path) -> None:
    with FeedbackStore(tmp_path / "fb.db") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_idempotent_on_request_id(db_url: str) -> None:
    with FeedbackStore(db_url) as store:
        row, created = store.add("r-1", "7", "21", 4.5)
        again, created_again = store.add("r-1", "7", "21", 4.5)
        assert created and not created_again and again.id == row.id
        assert store.count() == 1
        with pytest.raises(FeedbackConflict, match="requestId 'r-1' was already used"):
            store.add("r-1", "7", "21", 2.0)
        assert store.count() == 1


def test_bad_urls_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        FeedbackStore(tmp_path / "no" / "such" / "dir" / "fb.db")
    with pytest.raises(ConfigError, match="cannot open this database URL"):
        FeedbackStore("nosuchdialect://x")


def test_a_folder_that_takes_no_file_says_so_and_offers_db_none(svd_artifact, tmp_path: Path) -> None:
    """SQLite said only "unable to open database file" for a database whose folder cannot be written (a
    read-only mount, the default feedback.db in a read-only working folder), even when the file was there:
    WAL mode writes -wal and -shm beside it. The refusal now names the folder and both ways on."""
    import os
    import subprocess

    from servehelp import movierec_cmd

    with pytest.raises(ConfigError, match=r"cannot write in /proc \(.*\), where SQLite keeps the database"):
        FeedbackStore("/proc/fb.db")
    done = subprocess.run(
        movierec_cmd("serve", "--artifact", str(svd_artifact[0]), "--port", "0", "--db", "/proc/fb.db"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.rstrip().endswith(
        "give a writable place (--db /some/writable/feedback.db) or serve without feedback (--db none)"
    ), done.stderr
    if os.geteuid() == 0:
        return  # root writes into a folder without write permission; a read-only mount needs privileges
    locked = tmp_path / "locked"
    locked.mkdir()
    FeedbackStore(locked / "fb.db").close()  # a database written earlier, then the folder made read-only
    before = sorted(p.name for p in locked.iterdir())
    locked.chmod(0o555)
    try:
        with pytest.raises(ConfigError, match=f"cannot write in {locked} "):
            FeedbackStore(locked / "fb.db")
        assert sorted(p.name for p in locked.iterdir()) == before  # nothing deleted or added
    finally:
        locked.chmod(0o755)


def _writer(db: str, worker: int, n: int) -> None:
    store = FeedbackStore(db)
    for j in range(n):
        store.add(f"p{worker}-{j}", f"user{worker}", str(j), 3.0)
        store.add(f"p{worker}-{j}", f"user{worker}", str(j), 3.0)  # a retry: must not double
    store.close()


def test_concurrent_threads_and_processes_lose_no_rows(db_url: str) -> None:
    db = db_url
    FeedbackStore(db).close()
    store = FeedbackStore(db)
    threads = [
        threading.Thread(target=lambda w=w: [store.add(f"t{w}-{j}", f"t{w}", str(j), 4.0) for j in range(12)])
        for w in range(4)
    ]
    ctx = mp.get_context("fork")  # children open their own engine
    procs = [ctx.Process(target=_writer, args=(db, w, 12)) for w in range(2)]
    for p in procs:
        p.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert store.count() == 4 * 12 + 2 * 12
    frame = store.frame()
    store.close()
    assert frame["requestId"].is_unique
    if db.startswith("sqlite"):
        with sqlite3.connect(db[len("sqlite:///") :]) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_merge_feedback_appends_and_maps_new_ids(db_url: str) -> None:
    ds = movies_dataset(10, 12, seed=1)
    db = db_url
    store = FeedbackStore(db)
    store.add("a", "1", "1", 0.5)  # an existing user re-rating an existing movie: replaces it (newer)
    store.add("b", "999", "11", 5.0)  # a new user
    store.add("c", "999", "77777", 4.0)  # a movie the data does not hold: dropped, never invented
    store.close()
    merged = merge_feedback(ds, db)
    inter, before = merged.interactions, ds.interactions
    assert inter.n_users == before.n_users + 1 and inter.n_items == before.n_items
    frame = inter.to_frame()
    assert frame["userId"].dtype.kind == "i" and frame["movieId"].dtype.kind == "i"  # integers stay integers
    assert frame[(frame.userId == 999) & (frame.movieId == 11)]["rating"].tolist() == [5.0]
    assert not (frame.movieId == 77777).any()
    had = ((before.to_frame().userId == 1) & (before.to_frame().movieId == 1)).any()
    assert frame[(frame.userId == 1) & (frame.movieId == 1)]["rating"].tolist() == [0.5]
    assert inter.n_ratings == before.n_ratings + 2 - int(had)
    assert merged.name == "tiny-movies+feedback" and "merged 2 feedback ratings" in merged.notes[-1]
    assert any("dropped 1 feedback rating for movies the dataset does not hold" in n for n in merged.notes)


def test_merge_feedback_notes_count_in_singular_and_plural(tmp_path: Path) -> None:
    """One web visitor read "1 feedback users with non-integer ids (e.g. web visitors) got new ids 611..611"
    and "(1 new users)"; one is now singular with its one id, several keep the range."""
    ds = movies_dataset(10, 12, seed=1)
    first = int(ds.interactions.user_map.ids.max()) + 1
    one, two = FeedbackStore(tmp_path / "one.db"), FeedbackStore(tmp_path / "two.db")
    one.add("a", "web-a", "1", 4.0)
    for store in (one, two):
        store.add("x", "web-x", "77777", 4.0)  # a movie the data does not hold
    for request, user in (("b", "web-b"), ("c", "web-c")):
        two.add(request, user, "1", 4.0)
    two.add("d", "web-d", "77778", 4.0)
    one.close()
    two.close()
    notes = merge_feedback(ds, tmp_path / "one.db").notes
    assert f"1 feedback user with a non-integer id (e.g. a web visitor) got new id {first}" in notes, notes
    assert "dropped 1 feedback rating for movies the dataset does not hold" in notes, notes
    assert notes[-1].startswith("merged 1 feedback rating from ") and notes[-1].endswith("(1 new user)"), (
        notes
    )
    notes = merge_feedback(ds, tmp_path / "two.db").notes
    assert (
        f"2 feedback users with non-integer ids (e.g. web visitors) got new ids {first}..{first + 1}" in notes
    )
    assert "dropped 2 feedback ratings for movies the dataset does not hold" in notes, notes
    assert notes[-1].endswith("(2 new users)") and "merged 2 feedback ratings from " in notes[-1], notes


def test_merge_feedback_keeps_demographics_and_writes_no_password(db_url: str) -> None:
    """The merged dataset keeps the users table (ml-100k's demographics: a model using them needs it after
    ``--with-feedback``), and its notes and source, which reach results, manifests and the serve banner,
    show the URL with its password masked. The test cluster trusts local connections, so a password in
    the PostgreSQL URL is accepted and ignored; SQLite URLs have none."""
    from datagen import planted_demographics
    from movierec.datasets import reloadable
    from movierec.serving.store import shown_url

    ds = planted_demographics(n_users=30)
    raw_user = ds.interactions.user_map.to_raw(0)
    raw_movie = ds.interactions.item_map.to_raw(0)
    url = db_url.replace("@127.0.0.1", ":s3cret-pw@127.0.0.1") if db_url.startswith("postgresql") else db_url
    store = FeedbackStore(url)
    store.add("r1", str(raw_user), str(raw_movie), 4.0)
    store.close()
    merged = merge_feedback(ds, url)
    assert merged.users is not None and merged.users.equals(ds.users)
    assert merged.interactions.n_ratings >= ds.interactions.n_ratings
    text = " ".join([*merged.notes, merged.source])
    assert "s3cret-pw" not in text and shown_url(url) in merged.notes[-1]
    if "s3cret-pw" in url:
        assert ":***@127.0.0.1" in merged.notes[-1]
    # the merged data is not what its original source reloads: no reload reference names that file alone
    assert merged.reload_ref() is None and not reloadable(merged.source)


LOOKALIKES = ["\u0661", "\uff11", "1_0", "+1", " 1 ", "0001", "1\n", "-0", "1.0"]


def test_merge_feedback_never_invents_items_or_turns_ids_into_strings(tmp_path: Path) -> None:
    """Rows written by older servers with look-alike spellings of real ids are dropped, not new ids."""
    ds = movies_dataset(10, 12, seed=1)
    store = FeedbackStore(tmp_path / "fb.db")
    for n, spelling in enumerate(LOOKALIKES):
        store.add(f"m{n}", "2", spelling, 4.0)  # look-alike movie ids
        store.add(f"u{n}", spelling, "1", 4.0)  # look-alike user ids
    store.add("web", "web-3f2a", "11", 5.0)  # the web page's visitor: a new integer user
    store.add("ok", "3", "21", 4.5)
    store.close()
    merged = merge_feedback(ds, tmp_path / "fb.db")
    inter, before = merged.interactions, ds.interactions
    assert inter.n_items == before.n_items
    assert inter.item_map.ids.dtype.kind == "i" and inter.user_map.ids.dtype.kind == "i"
    new_user = int(before.user_map.ids.max()) + 1
    assert inter.n_users == before.n_users + 1 and new_user in inter.user_map
    frame = inter.to_frame()
    assert frame[(frame.userId == new_user)]["movieId"].tolist() == [11]
    assert frame[(frame.userId == 3) & (frame.movieId == 21)]["rating"].tolist() == [4.5]
    text = " ".join(merged.notes)
    assert f"dropped {len(LOOKALIKES)} feedback ratings for movies" in text
    assert f"dropped {len(LOOKALIKES)} feedback ratings whose userId is not a canonical integer" in text
    assert "merged 2 feedback ratings" in merged.notes[-1]


def test_merge_feedback_errors(tmp_path: Path) -> None:
    ds = movies_dataset(10, 12, seed=1)
    with pytest.raises(DataError, match="no such feedback database"):
        merge_feedback(ds, tmp_path / "missing.db")
    store = FeedbackStore(tmp_path / "fb.db")
    store.add("x", "1", "1", 9.0)
    store.close()
    with pytest.raises(DataError, match=r"rating 9 \(requestId x\) is outside the dataset's scale 0.5..5"):
        merge_feedback(ds, tmp_path / "fb.db")


def test_data_info_with_feedback(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.db")
    store.add("w1", "web-visitor", "1", 5.0)  # a visitor on an integer dataset: a new integer user
    store.close()
    result = CliRunner().invoke(app, ["data", "info", "--with-feedback", str(tmp_path / "fb.db"), "--json"])
    assert result.exit_code == 0, result.output
    assert '"n_users": 611' in result.output and '"dataset": "ml-latest-small+feedback"' in result.output
    # the checksum is the merge's, of the ratings file and the feedback rows (data info says so)
    assert '"sha256_of": "ratings.csv\'s bytes and the feedback rows"' in result.output


def test_data_info_says_what_the_feedback_added(tmp_path: Path, capsys) -> None:
    """``data info --with-feedback`` is serving.md's first step of closing the loop, and it showed only the
    merged totals (100,838 ratings, 611 users) without a word on what the store added: export said
    'merged 2 feedback ratings … (1 new users)' and which ids the visitors got, data info said nothing. It
    now prints the same notes on stderr (the table and --json on stdout unchanged), and says so when the
    store holds no rating yet."""
    from clihelp import run_cli

    store = FeedbackStore(tmp_path / "fb.db")
    store.add("w1", "web-visitor", "1", 5.0)
    store.add("w2", "web-visitor", "318", 4.5)
    store.add("w3", "7", "2", 3.0)  # an existing user
    store.close()
    code, out, err = run_cli(["data", "info", "--with-feedback", str(tmp_path / "fb.db")], capsys)
    assert code == 0, err
    assert "note: 1 feedback user with a non-integer id (e.g. a web visitor) got new id 611\n" in err, err
    said = " ".join(err.split())  # piped, the notes wrap at 80 columns (the file's URL whole on its line)
    assert "merged 3 feedback ratings from sqlite:///" in said and "(1 new user)" in said, err
    assert "100,839" in out and "note" not in out
    code, out, err = run_cli(["data", "info", "--with-feedback", str(tmp_path / "fb.db"), "--json"], capsys)
    assert code == 0 and json.loads(out)["n_ratings"] == 100_839 and "merged 3 feedback ratings" in err
    FeedbackStore(tmp_path / "empty.db").close()
    code, out, err = run_cli(["data", "info", "--with-feedback", str(tmp_path / "empty.db")], capsys)
    said = " ".join(err.split())
    assert code == 0 and "no feedback ratings in sqlite:///" in said and "yet; the data alone" in said, err


def test_schema_is_versioned_and_creation_is_idempotent(db_url: str) -> None:
    first = FeedbackStore(db_url)
    assert first.schema_version() == SCHEMA_VERSION
    first.add("v-1", "1", "21", 4.0, model_version="svd@abc")
    again = FeedbackStore(db_url)  # opening twice creates nothing twice and keeps the row
    assert again.schema_version() == SCHEMA_VERSION and again.count() == 1
    assert again.frame(with_version=True)["modelVersion"].tolist() == ["svd@abc"]
    assert again.get("v-1").model_version == "svd@abc"  # type: ignore[union-attr]
    first.close()
    again.close()


def test_a_first_build_database_is_migrated(tmp_path: Path) -> None:
    """A store written before the version row existed (schema 1) opens, keeps its rows and is marked current."""
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id VARCHAR(128) NOT NULL UNIQUE,"
            " user_id VARCHAR(128) NOT NULL, movie_id VARCHAR(128) NOT NULL, rating FLOAT NOT NULL,"
            " created_at FLOAT NOT NULL, model_version VARCHAR(64))"
        )
        conn.execute(
            "INSERT INTO feedback (request_id, user_id, movie_id, rating, created_at) VALUES ('o', '1', '2', 3, 0)"
        )
    store = FeedbackStore(db)
    assert store.schema_version() == SCHEMA_VERSION and store.count() == 1
    assert store.frame(with_version=True)["model"].isna().tolist() == [True]  # schema 3's column, added
    store.close()


def test_a_schema_2_store_gains_the_model_column(db_url: str) -> None:
    """A store written by schema 2 (no ``model`` column; here made by dropping it, on SQLite and PostgreSQL)
    opens as schema 3: its rows are kept with model None, and new rows record the model beside the version."""
    store = FeedbackStore(db_url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE feedback DROP COLUMN model")
        conn.execute(schema_table.update().values(version=2))
        conn.exec_driver_sql(
            "INSERT INTO feedback (request_id, user_id, movie_id, rating, created_at, model_version)"
            " VALUES ('old', '1', '21', 4.0, 0, '7596d1bc6503')"
        )
    store.close()
    again = FeedbackStore(db_url)
    assert again.schema_version() == SCHEMA_VERSION == 3
    again.add("new", "2", "21", 3.5, model_version="456a2e46fe4c", model="ease")
    frame = again.frame(with_version=True)
    assert frame["model"].isna().tolist() == [True, False] and frame["model"].iloc[1] == "ease"
    assert frame["modelVersion"].tolist() == ["7596d1bc6503", "456a2e46fe4c"]
    assert again.get("new").model == "ease"  # type: ignore[union-attr]
    FeedbackStore(db_url).close()  # opening once more migrates nothing twice
    again.close()


def test_a_newer_schema_is_refused(db_url: str) -> None:
    store = FeedbackStore(db_url)
    with store.engine.begin() as conn:
        conn.execute(schema_table.update().values(version=SCHEMA_VERSION + 1))
    store.close()
    with pytest.raises(ConfigError, match=f"schema version {SCHEMA_VERSION + 1}, newer than"):
        FeedbackStore(db_url)


def test_many_processes_create_one_schema_at_once(db_url: str) -> None:
    """Several servers starting together against one empty database: all open it, one version row."""
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_open_and_add, args=(db_url, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = FeedbackStore(db_url)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema_table)).scalar_one() == 1
    assert store.count() == 4
    store.close()


def _open_and_add(db: str, worker: int) -> None:
    store = FeedbackStore(db)
    store.add(f"start-{worker}", str(worker), "21", 3.0)
    store.close()


def test_plain_postgresql_urls_use_psycopg() -> None:
    assert normalise_url("postgresql://u@h:5/d") == "postgresql+psycopg://u@h:5/d"
    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"


def test_a_store_that_cannot_open_leaves_no_connection_open(db_url: str) -> None:
    """A refused store (here: a newer schema) closes what it opened before raising; ``with`` closes a store.
    Every database connection any pool opens or closes is counted (SQLAlchemy's pool events)."""
    with pool_connections() as opened:
        with FeedbackStore(db_url) as store, store.engine.begin() as conn:
            conn.execute(schema_table.update().values(version=SCHEMA_VERSION + 1))
        assert opened and sum(opened) == 0  # the context manager closed what the store opened
        with pytest.raises(ConfigError, match="newer than"):
            FeedbackStore(db_url)
        assert sum(opened) == 0, "the refused store left a connection open"
