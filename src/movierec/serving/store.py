"""The feedback store: ratings people give through the API, kept durably in a SQL database (SQLAlchemy).

SQLite files are the default (WAL journal, ``synchronous=FULL`` so an acknowledged write survives
a crash or power loss, a busy timeout so several processes can write). PostgreSQL is tested for real
(``postgresql://user@host:port/db``; psycopg 3, ``pip install 'movierec[postgres]'``): several server
processes or hosts can share one store, and idempotency on the client's ``requestId`` holds across them
because it is the database's unique constraint that decides, not a process's memory.

The schema is versioned: a one-row table ``movierec_schema`` records the version this code wrote.
Opening a store creates missing tables (idempotent, safe when several processes start at once) and
applies the migrations in :data:`MIGRATIONS` in order; a database written by a *newer* movierec is
refused rather than guessed at. ``merge_feedback`` closes the loop: stored ratings join a dataset's
interactions for training.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DatabaseError, IntegrityError, OperationalError, ProgrammingError

from movierec.errors import ConfigError, DataError, MovierecError, Spelled, labelled, spelled
from movierec.interactions import INT_ID_RULE, Interactions, looks_numeric, parse_int_id
from movierec.provenance import shown_url, sqlite_file

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FeedbackConflict",
    "FeedbackStore",
    "FeedbackUnavailable",
    "merge_feedback",
    "normalise_url",
    "read_feedback",
    "shown_url",
]

_metadata = MetaData()
schema_table = Table(
    "movierec_schema",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)
feedback_table = Table(
    "feedback",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False, unique=True),
    Column("user_id", String(128), nullable=False, index=True),
    Column("movie_id", String(128), nullable=False),
    Column("rating", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("model_version", String(64), nullable=True),
    Column("model", String(64), nullable=True),
)


#: The schema version this code writes. Version 1 is the first build's ``feedback`` table (which had no
#: version row); version 2 adds the version row itself; version 3 adds ``model``, the served artifact's
#: model name (svd, ease, …) beside its version hash, so ``feedback report`` can say which model each
#: version is. A later change appends ``(version, [(column, SQL type), ...])``, the columns it adds to
#: ``feedback``, and bumps this number; ``FeedbackStore`` applies the missing steps in order, adding a
#: column only where it is missing (a table created by this code already has every column).
SCHEMA_VERSION = 3
MIGRATIONS: list[tuple[int, list[tuple[str, str]]]] = [
    (2, []),  # the version row only: nothing to alter in ``feedback``
    (3, [("model", "VARCHAR(64)")]),
]


class FeedbackConflict(ConfigError):
    """A ``requestId`` was reused with a different user, movie or rating."""


class FeedbackUnavailable(MovierecError):
    """The feedback database did not answer a write (down, restarting, unreachable, locked past the timeout).

    The API answers 503, which a client retries (the same ``requestId`` stores the rating once): it was a
    plain-text 500 with a traceback in the log while PostgreSQL restarted. The message is what a client may
    read; ``cause`` (the database URL without its password, and the driver's reason) is for the server's log.
    """

    def __init__(self, message: str, *, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


def _one_line(error: object) -> str:
    """A driver's message on one line (psycopg adds a hint line: "Is the server running on that host …")."""
    return " ".join(str(error).split())


def db_label(option: str, value: object) -> str:
    """A database URL labelled with where it came from, at the head of a message: ``--db 'sqlite:///x'`` for a
    flag, ``MOVIEREC_DB='sqlite:///x'`` for an environment variable (``"MOVIEREC_DB="``: serve's URL read
    from there said ``--db``, an option its user never typed), both spellings for a
    :class:`~movierec.errors.Spelled` pair (:func:`~movierec.errors.labelled`)."""
    if isinstance(option, Spelled) or option.endswith("="):
        return labelled(option, value)
    return f"{option} {str(value)!r}"


def db_example(option: str, value: str) -> str:
    """``--db none`` or ``MOVIEREC_DB=none``: how to set the database where ``option`` set it."""
    return f"{option}{value}" if option.endswith("=") else f"{option} {value}"


def normalise_url(db: str | Path, option: str = "--db") -> str:
    """A database URL from a URL or a plain file path (a path means a SQLite file); ``option`` names where
    it came from in the message that refuses an empty one (:func:`db_label`)."""
    text = str(db).strip()
    if not text:
        raise ConfigError(f"{option.rstrip('=')}: empty database URL")
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    for plain in ("postgresql://", "postgres://"):  # the driver we install is psycopg 3
        if text.startswith(plain):
            return "postgresql+psycopg://" + text[len(plain) :]
    return text


#: the first 16 bytes of every SQLite database file
_SQLITE_HEADER = b"SQLite format 3\x00"


def _not_sqlite(path: Path, *, empty_ok: bool) -> str | None:
    """Why the existing file ``path`` is no SQLite database, read from its first bytes; ``None`` when it is one.

    Checked before SQLite opens the file: SQLite answers a text file with "file is not a database" only
    after connecting (a sqlalchemy traceback here), and it turns an empty file into a database in place.
    ``empty_ok``: an empty file counts as a new database (``serve`` may create the store in it).
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    if not head:
        return None if empty_ok else "the file is empty"
    return None if head == _SQLITE_HEADER else "not a SQLite file"


def _no_feedback_table(path: Path) -> str | None:
    """Why the SQLite file ``path`` holds no feedback table, asked over a read-only connection; else ``None``.

    The store's own connections set ``journal_mode=WAL``, which rewrites the header of a database in
    another journal mode: another program's database must be refused before one of them opens it.
    """
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (feedback_table.name,)
        ).fetchone()
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        conn.close()
    return None if found else f"no table {feedback_table.name!r}"


@dataclass(frozen=True)
class StoredFeedback:
    """One stored rating, as the API reports it."""

    id: int
    request_id: str
    user_id: str
    movie_id: str
    rating: float
    created_at: float
    model_version: str | None = None
    model: str | None = None


class FeedbackStore:
    """Durable, idempotent storage of feedback ratings.

    A context manager: ``with FeedbackStore(url) as store:`` closes its connections on the way out, as
    :meth:`close` does; a store that cannot open (bad URL, newer schema) closes what it opened before
    raising.
    """

    def __init__(self, url: str | Path, *, create: bool = True, option: str = "--db") -> None:
        self.option = option  # where the URL came from, as its messages name it (db_label)
        self.url = normalise_url(url, option)
        try:
            kwargs: dict[str, Any] = {"future": True}
            if self.url.startswith("sqlite"):
                kwargs["connect_args"] = {"timeout": 30.0, "check_same_thread": False}
            self.engine: Engine = create_engine(self.url, **kwargs)
        except (ArgumentError, ImportError, ValueError) as exc:
            raise ConfigError(f"{self._label()}: cannot open this database URL ({exc})") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            db_path = self.engine.url.database
            if db_path and db_path != ":memory:":
                parent = Path(db_path).expanduser().parent
                if not parent.is_dir():
                    raise ConfigError(f"{self._label()}: folder {parent} does not exist")
                if Path(db_path).expanduser().is_file():
                    why = _not_sqlite(Path(db_path).expanduser(), empty_ok=True)
                    if why:
                        raise ConfigError(
                            f"{db_label(option, db_path)}: not a feedback database ({why}); nothing was changed"
                        )
        if create:
            self.create_tables()

    def _label(self) -> str:
        """This store's URL (password as ***) labelled as its user gave it: ``--db '…'``, ``MOVIEREC_DB='…'``."""
        return db_label(self.option, shown_url(self.url))

    def create_tables(self) -> None:
        """Create the database and its tables, or migrate them (what ``create=True`` does on opening).

        ``FeedbackStore(url, create=False)`` checks the URL and connects to nothing, so no file exists
        yet; ``serve`` calls this only once its artifacts have loaded, so a bad ``--artifact`` leaves no
        ``feedback.db`` (and its ``-wal``/``-shm``) behind. Idempotent.
        """
        try:
            self._create_or_migrate()
        except DatabaseError as exc:  # OperationalError and "file is not a database" alike
            self.close()
            folder = self._unwritable_sqlite_folder()
            if folder is not None:
                raise self._unwritable(folder) from exc
            raise ConfigError(
                f"{self._label()}: cannot open or create the feedback table ({exc.orig})"
            ) from exc
        except BaseException:
            self.close()  # a refused schema or a race lost five times: no connection left behind
            raise

    def check(self) -> str:
        """Open the store as ``serve`` does when it starts (create or migrate its tables; a newer schema, a
        database that does not answer or an unwritable folder is the same one-line ConfigError) and say what
        is there: ``feedback sqlite:///…/feedback.db · schema 3``. For ``serve --check``: a SQLite file that
        does not exist yet is not created (serve creates it on its first start), only its folder is checked."""
        path = sqlite_file(self.url)
        if path is not None and not path.expanduser().exists():
            folder = self._unwritable_sqlite_folder()
            if folder is not None:
                raise self._unwritable(folder)
            return f"feedback {shown_url(self.url)} · new (serve creates it)"
        self.create_tables()
        return f"feedback {shown_url(self.url)} · schema {self.schema_version()}"

    def _unwritable(self, folder: tuple[Path, str]) -> ConfigError:
        """The refusal of a SQLite store whose folder takes no new file (:meth:`_unwritable_sqlite_folder`)."""
        return ConfigError(
            f"{self._label()}: cannot write in {folder[0]} ({folder[1]}), where SQLite keeps the database "
            f"and its -wal and -shm files; give a writable place ({db_example(self.option, '/some/writable/feedback.db')}) "
            f"or serve without feedback ({db_example(self.option, 'none')})"
        )

    def _unwritable_sqlite_folder(self) -> tuple[Path, str] | None:
        """``(folder, reason)`` when this is a SQLite file whose folder takes no new file, else None.

        SQLite said only "unable to open database file" for a database on a read-only mount (the default
        ``sqlite:///feedback.db`` in a read-only working folder, a container's image) even when the file
        was there: WAL mode writes ``-wal`` and ``-shm`` files beside it. Probed with a temporary file,
        removed at once, as ``export --out`` is checked (:func:`movierec.output_folders.unwritable`)."""
        from movierec.output_folders import unwritable

        db_path = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not db_path or db_path == ":memory:":
            return None
        folder = Path(db_path).expanduser().absolute().parent  # the default feedback.db: the working folder
        why = unwritable(folder)
        return None if why is None else (folder, why)

    def _create_or_migrate(self) -> None:
        """Create missing tables and bring the schema to :data:`SCHEMA_VERSION` (idempotent).

        Several servers may start at once against one PostgreSQL store: a table or version row that
        another process created a moment earlier shows up as an IntegrityError/ProgrammingError here,
        and the step is simply retried once against what is now there.
        """
        for attempt in range(5):
            try:
                _metadata.create_all(self.engine, checkfirst=True)
                with self.engine.begin() as conn:
                    found = conn.execute(select(schema_table.c.version).where(schema_table.c.id == 1)).first()
                    if found is None:
                        conn.execute(insert(schema_table).values(id=1, version=1))
                        current = 1
                    else:
                        current = int(found.version)
                    if current > SCHEMA_VERSION:
                        raise ConfigError(
                            f"{self._label()}: the feedback database has schema version {current}, "
                            f"newer than this movierec's {SCHEMA_VERSION}; upgrade movierec"
                        )
                    for version, columns in MIGRATIONS:
                        if version > current:
                            have = {c["name"] for c in inspect(conn).get_columns(feedback_table.name)}
                            for name, sql_type in columns:
                                if name not in have:
                                    conn.exec_driver_sql(
                                        f"ALTER TABLE {feedback_table.name} ADD COLUMN {name} {sql_type}"
                                    )
                            conn.execute(
                                schema_table.update().where(schema_table.c.id == 1).values(version=version)
                            )
                            current = version
                return
            except (IntegrityError, ProgrammingError, OperationalError) as exc:
                racing = isinstance(exc, IntegrityError | ProgrammingError) or any(
                    words in str(exc.orig) for words in ("already exists", "duplicate column")
                )
                if attempt == 4 or not racing:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(schema_table.c.version).where(schema_table.c.id == 1)).scalar_one()
            )

    def add(
        self,
        request_id: str,
        user_id: str,
        movie_id: str,
        rating: float,
        *,
        model_version: str | None = None,
        model: str | None = None,
    ) -> tuple[StoredFeedback, bool]:
        """Store one rating; returns ``(row, created)``. The same ``request_id`` again returns the stored row.

        ``model_version`` and ``model`` name the artifact that served the user (its version hash and its
        model's name). Reusing a ``request_id`` for a different (user, movie, rating) raises
        :class:`FeedbackConflict`; a database that does not answer, :class:`FeedbackUnavailable`.
        """
        stored = StoredFeedback(
            0, str(request_id), str(user_id), str(movie_id), float(rating), time.time(), model_version, model
        )
        row = {k: v for k, v in asdict(stored).items() if k != "id"}
        try:
            return self._insert(stored, row)
        except OperationalError as exc:
            # the connection failed, not the row (which is stored after all if only the commit's reply was lost)
            raise FeedbackUnavailable(
                "the feedback database does not answer; retry with the same requestId, which stores the rating once",
                cause=f"{shown_url(self.url)}: {_one_line(exc.orig)}",
            ) from exc

    def _insert(self, stored: StoredFeedback, row: dict[str, Any]) -> tuple[StoredFeedback, bool]:
        """:meth:`add`'s INSERT, and on a ``request_id`` already stored, that row or a :class:`FeedbackConflict`."""
        request_id = stored.request_id
        try:
            with self.engine.begin() as conn:
                key = conn.execute(insert(feedback_table).values(**row)).inserted_primary_key
            assert key is not None  # an INSERT of one row returns its new primary key
            return replace(stored, id=int(key[0])), True
        except IntegrityError:
            existing = self.get(str(request_id))
            if existing is None:  # pragma: no cover - a unique violation without a row would be a DB bug
                raise
            if (existing.user_id, existing.movie_id, existing.rating) != (
                row["user_id"],
                row["movie_id"],
                row["rating"],
            ):
                raise FeedbackConflict(
                    f"requestId {request_id!r} was already used for a different rating "
                    f"(user {existing.user_id}, movie {existing.movie_id}, rating {existing.rating:g})"
                ) from None
            return existing, False

    def get(self, request_id: str) -> StoredFeedback | None:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(feedback_table).where(feedback_table.c.request_id == str(request_id))
            ).first()
        if r is None:
            return None
        return StoredFeedback(
            int(r.id),
            r.request_id,
            r.user_id,
            r.movie_id,
            float(r.rating),
            float(r.created_at),
            r.model_version,
            r.model,
        )

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(feedback_table)).scalar_one())

    def frame(self, *, with_version: bool = False) -> pd.DataFrame:
        """Every stored rating: ``requestId, userId, movieId, rating, timestamp`` (ids as stored strings).

        ``with_version=True`` adds ``modelVersion`` and ``model``: the artifact that served the user, by its
        version hash and its model's name (``None`` in rows stored before schema 3 recorded it).
        """
        import pandas as pd

        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback_table).order_by(feedback_table.c.id)).all()
        frame = pd.DataFrame(
            {
                "requestId": [r.request_id for r in rows],
                "userId": [r.user_id for r in rows],
                "movieId": [r.movie_id for r in rows],
                "rating": np.array([r.rating for r in rows], dtype=np.float64),
                "timestamp": np.array([int(r.created_at) for r in rows], dtype=np.int64),
            }
        )
        if with_version:
            frame["modelVersion"] = [r.model_version for r in rows]
            frame["model"] = [r.model for r in rows]
        return frame

    def ping(self) -> bool:
        try:
            self.count()
        except OperationalError:
            return False
        return True

    def close(self) -> None:
        """Close every pooled connection (the store can be used again: it reconnects on demand)."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """WAL so readers never block the writer; FULL sync so every acknowledged commit is on disk."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _feedback_ids(fb: pd.DataFrame, inter: Interactions) -> tuple[pd.DataFrame, list[str]]:
    """Feedback rows with ids in the dataset's own types, and notes on what was dropped or added.

    Stored ids are text. For integer-id data a stored id counts only in its canonical spelling
    (:func:`~movierec.interactions.parse_int_id`): rows spelling a number any other way
    (``"0001"``, ``" 1"``, ``"１"``, written by older servers) are dropped, never turned into
    new ids. Movies the dataset does not hold are dropped (feedback never invents items). Users
    named by other text (the web page's ``web-…`` visitors) become new integer ids after the
    largest existing one, in order of first appearance, so the user column stays integer.
    """
    notes: list[str] = []
    users, movies = fb["userId"].astype(str), fb["movieId"].astype(str)
    keep = np.ones(len(fb), dtype=bool)
    if inter.item_map.ids.dtype.kind in "iu":
        parsed_m = [parse_int_id(m) for m in movies]
        known = np.array([p is not None and p in inter.item_map for p in parsed_m], dtype=bool)
        movie_ids: Any = np.array([p if p is not None else -1 for p in parsed_m], dtype=np.int64)
    else:
        known = np.array([m in inter.item_map for m in movies], dtype=bool)
        movie_ids = movies.to_numpy(dtype=object)
    if (~known).any():
        notes.append(
            f"dropped {_count(int((~known).sum()), 'feedback rating')} for movies the dataset does not hold"
        )
    keep &= known
    if inter.user_map.ids.dtype.kind in "iu":
        parsed_u = [parse_int_id(u) for u in users]
        lookalike = np.array([p is None and looks_numeric(u) for p, u in zip(parsed_u, users, strict=True)])
        if (lookalike & keep).any():
            notes.append(
                f"dropped {_count(int((lookalike & keep).sum()), 'feedback rating')} whose userId is not a canonical "
                f"integer ({INT_ID_RULE})"
            )
        keep &= ~lookalike
        named = {u for p, u, k in zip(parsed_u, users, keep, strict=True) if p is None and k}
        next_id = int(inter.user_map.ids.max()) + 1 if len(inter.user_map) else 1
        new_ids: dict[str, int] = {}
        for p, u, k in zip(parsed_u, users, keep, strict=True):
            if p is None and k and u not in new_ids:
                new_ids[u] = next_id + len(new_ids)
        if named:
            notes.append(_new_ids_note(len(named), next_id))
        user_ids: Any = np.array(
            [p if p is not None else new_ids.get(u, -1) for p, u in zip(parsed_u, users, strict=True)],
            dtype=np.int64,
        )
    else:
        user_ids = users.to_numpy(dtype=object)
    out = fb.assign(userId=user_ids, movieId=movie_ids)[keep].reset_index(drop=True)
    return out, notes


def _count(n: int, noun: str) -> str:
    """``1 new user``, ``2 new users``: a count and its noun, singular for one."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _new_ids_note(n: int, first: int) -> str:
    """The note on feedback users given new integer ids: "1 feedback user … got new id 611" for one, "3 …
    users … got new ids 611..613" for several (one visitor read "1 feedback users … got new ids 611..611")."""
    if n == 1:
        return f"1 feedback user with a non-integer id (e.g. a web visitor) got new id {first}"
    return (
        f"{n:,} feedback users with non-integer ids (e.g. web visitors) got new ids {first}..{first + n - 1}"
    )


def _unreadable_here(path: Path) -> str | None:
    """Why the SQLite file ``path``, in a folder this process cannot write, cannot be read; ``None`` when it can.

    The store keeps its databases in WAL mode, and SQLite opens a WAL database only where it can use the
    ``-shm`` file beside it: in a read-only folder (a read-only mount of the server's volume, another user's
    folder) the open fails with "unable to open database file", which was reported as "not a movierec
    feedback database". A database in another journal mode opens read-only there, so it is asked, not
    guessed.
    """
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute("SELECT 1 FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        return (
            f"cannot read it here ({exc}): the feedback store keeps SQLite in WAL mode, which needs to write "
            f"its -shm file beside the database, and {path.parent} is not writable; copy {path.name} (with "
            f"{path.name}-wal if there is one) to a writable folder and read the copy"
        )
    return None


def _copied_without_wal(path: Path) -> str:
    """The likely cause when ``path`` is a WAL-mode SQLite file with no table at all and no ``-wal`` beside
    it (or an empty one), else ``""``: a copy of a live store (``cp feedback.db`` while serve runs). SQLite keeps a WAL
    database's latest writes, its tables included, in the ``-wal`` file until a checkpoint, so such a
    copy read as "no table 'feedback'" with nothing to say that its rows were left behind."""
    import sqlite3

    try:
        with path.open("rb") as fh:
            head = fh.read(20)
        wal = Path(f"{path}-wal")  # an empty one is what a read-only open of the copy leaves (ours too)
        if head[18:20] != b"\x02\x02" or (wal.exists() and wal.stat().st_size):  # bytes 18-19: 2 is WAL
            return ""
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return ""
    if tables:
        return ""
    return (
        "; it looks like a copy of a database in WAL mode made without the -wal file beside it, which holds "
        "the latest writes: read the database where serve writes it, or copy it whole with "
        f'sqlite3 feedback.db ".backup {path.name}"'
    )


def read_feedback(db: str | Path, flag: str, *, with_version: bool = False) -> pd.DataFrame:
    """Every row of an existing feedback database (:meth:`FeedbackStore.frame`), never creating one.

    A missing SQLite file, a file that is not a SQLite database (a CSV given by mistake) or a database
    without movierec's table is a :class:`DataError` naming ``flag``; a SQLite file is checked read-only
    first, so such a file is left byte for byte as it was.
    """
    url = normalise_url(db)
    path = sqlite_file(url)
    if path is not None:
        if not path.is_file():
            raise DataError(f"{labelled(flag, db)}: no such feedback database")
        why = _not_sqlite(path, empty_ok=False)
        unreadable = None if why or os.access(path.parent, os.W_OK) else _unreadable_here(path)
        if unreadable:  # a feedback database, perhaps, that SQLite cannot open from where it lies
            raise DataError(f"{labelled(flag, db)}: {unreadable}")
        why = why or _no_feedback_table(path)
        if why:  # refused before the store's connection could touch the file
            raise DataError(
                f"{labelled(flag, db)}: not a movierec feedback database ({why}){_copied_without_wal(path)}"
            )
    store = FeedbackStore(url, create=False, option=flag)
    try:
        try:
            store.engine.connect().close()
        except DatabaseError as exc:  # a wrong password, host, port or database name: nothing was read yet
            raise DataError(
                f"{labelled(flag, shown_url(str(db)))}: cannot connect to the feedback database ({exc.orig})"
            ) from exc
        return store.frame(with_version=with_version)
    except DatabaseError as exc:
        raise DataError(  # a PostgreSQL URL's password as ***, as every other feedback message
            f"{labelled(flag, shown_url(str(db)))}: not a movierec feedback database ({exc.orig})"
        ) from exc
    finally:
        store.close()


#: how merge_feedback names its database by default: export's pipeline and ``data info``, which a notebook
#: and the CLI both reach; the CLI passes ``--with-feedback``, its one spelling
WITH_FEEDBACK = spelled("with_feedback=", "--with-feedback")


def merge_feedback(dataset: Any, db_url: str | Path, option: str = WITH_FEEDBACK) -> Any:
    """A copy of ``dataset`` whose interactions also hold every stored feedback rating.

    ``option`` names the database in messages as the caller spells it (``"--with-feedback"`` from the CLI;
    both spellings by default).

    New users get new indices (ids are re-mapped once over the union); movies the dataset does not
    hold and look-alike ids are dropped with a note (see :func:`_feedback_ids`), so id types never
    change. A rating for a (user, movie) pair already present replaces it when it is newer.
    Ratings outside the dataset's scale are a :class:`DataError`.
    """
    import pandas as pd

    url = normalise_url(db_url)
    fb = read_feedback(db_url, option)
    inter: Interactions = dataset.interactions
    if fb.empty:
        return dataset
    lo, hi = inter.rating_scale
    bad = (fb["rating"] < lo) | (fb["rating"] > hi)
    if bad.any():
        row = fb[bad].iloc[0]
        raise DataError(
            f"{labelled(option, shown_url(str(db_url)))}: rating {row['rating']:g} (requestId {row['requestId']}) is outside "
            f"the dataset's scale {lo:g}..{hi:g}"
        )
    base = inter.to_frame(raw_ids=True)
    typed, id_notes = _feedback_ids(fb, inter)
    extra = typed[["userId", "movieId", "rating"]].copy()
    if "timestamp" in base.columns:
        extra["timestamp"] = typed["timestamp"].to_numpy()
    merged = pd.concat([base, extra], ignore_index=True)
    new_inter = Interactions.from_frame(
        merged,
        time_col="timestamp" if "timestamp" in merged.columns else None,
        rating_scale=inter.rating_scale,
        source=f"{dataset.name} + feedback",
    )
    n_new_users = len(set(typed["userId"].tolist()) - set(inter.user_map.ids.tolist()))
    digest = hashlib.sha256(
        f"{dataset.sha256}:".encode() + pd.util.hash_pandas_object(fb, index=False).to_numpy().tobytes()
    )
    shown = shown_url(url)  # notes and source reach results, manifests and /health: never a password
    notes = [
        *dataset.notes,
        *id_notes,
        f"merged {_count(len(typed), 'feedback rating')} from {shown} ({_count(n_new_users, 'new user')})",
    ]
    # demographics, the titles' origin and tags carry over; ``source`` names the feedback too, so
    # reload_ref() (what a study or experiment file records) no longer names a file that holds only the
    # ratings without it
    return replace(
        dataset,
        name=f"{dataset.name}+feedback",
        interactions=new_inter,
        sha256=digest.hexdigest(),
        source=f"{dataset.source} + feedback from {shown}",
        notes=notes,
        load_options={},
    )
