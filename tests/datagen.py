"""Tiny synthetic ratings for tests, and where the optional ml-100k lies (a plain module: conftest.py files are
not importable by name, since every folder's conftest is a module named conftest)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["SHARED_DATA", "make_ratings", "ml100k_path", "mlls_first_users", "planted_demographics"]

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def ml100k_path() -> Path | None:
    """Folder with ml-100k files (../shared/data or $MOVIEREC_DATA), or None."""
    cands = []
    if os.environ.get("MOVIEREC_DATA"):
        cands.append(Path(os.environ["MOVIEREC_DATA"]) / "ml-100k")
    cands.append(SHARED_DATA / "ml-100k")
    for c in cands:
        if (c / "u.data").is_file():
            return c
    return None


def mlls_first_users(folder: Path, n_users: int = 150, *, tags: bool = False) -> Path:
    """``folder`` made a MovieLens folder of ml-latest-small's users 1…``n_users`` (their ratings.csv rows,
    the bundled movies.csv whole, and its tags.csv when ``tags``), for ``--dataset PATH`` or ``load(path)``.

    The same files and reading path as the bundled data at a fraction of its size (150 users: 22,303
    ratings of 5,017 movies, against 100,836 of 9,724), for tests whose point does not rest on the whole
    file: each ease fit, lift table and report on it costs a second or more less."""
    from movierec.datasets import bundled_path

    source = bundled_path()
    folder.mkdir(parents=True, exist_ok=True)
    ratings = pd.read_csv(source / "ratings.csv")
    ratings[ratings["userId"] <= n_users].to_csv(folder / "ratings.csv", index=False)
    for name in ("movies.csv", *(["tags.csv"] if tags else [])):
        (folder / name).write_bytes((source / name).read_bytes())
    return folder


def make_ratings(n_users: int = 30, n_items: int = 40, density: float = 0.3, seed: int = 0) -> pd.DataFrame:
    """A small random ratings frame with low-rank structure, half-star ratings and timestamps."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_users, 3))
    v = rng.normal(size=(n_items, 3))
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True  # every user rates something
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True  # every item is rated
    users, items = np.nonzero(mask)
    raw = (u[users] * v[items]).sum(1)
    ratings = np.clip(np.round((3.0 + raw) * 2) / 2, 0.5, 5.0)
    return pd.DataFrame(
        {
            "userId": users + 1,
            "movieId": items * 10 + 1,
            "rating": ratings,
            "timestamp": 1_000_000_000 + rng.integers(0, 10_000_000, len(users)),
        }
    )


def planted_demographics(n_users: int = 120, seed: int = 0):  # type: ignore[no-untyped-def]
    """A Dataset with a users table and a planted preference: women aged 30 rate movies 1–20
    ("genre X") 5 stars, men aged 52 rate movies 21–40 ("genre Y"); each also rates 2 others 2 stars."""
    from movierec.datasets import Dataset
    from movierec.interactions import Interactions

    rng = np.random.default_rng(seed)
    rows = []
    users = []
    for u in range(n_users):
        young_f = u % 2 == 0
        users.append((u + 1, 30 if young_f else 52, "F" if young_f else "M", "writer" if u % 3 else "other",
                      "94043" if u % 4 else "02139"))  # fmt: skip
        liked = np.arange(0, 20) if young_f else np.arange(20, 40)
        for t, i in enumerate(rng.choice(liked, 12, replace=False)):
            rows.append((u + 1, int(i) + 1, 5.0, 1_000_000 + 100 * u + t))
        for t, i in enumerate(rng.choice(np.setdiff1d(np.arange(40), liked), 2, replace=False)):
            rows.append((u + 1, int(i) + 1, 2.0, 1_000_050 + 100 * u + t))
    frame = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    inter = Interactions.from_frame(frame, rating_scale=(1.0, 5.0))
    table = pd.DataFrame(users, columns=["userId", "age", "gender", "occupation", "zip"])
    return Dataset("planted", inter, users=table)


def planted_movielens_folder(folder, n_users: int = 80):  # type: ignore[no-untyped-def]
    """:func:`planted_demographics` written as a MovieLens folder (ratings.csv, movies.csv and ml-100k's
    u.user), so the CLI's ``--dataset FOLDER --user-features demographics`` reads it; ``folder`` returned."""
    ds = planted_demographics(n_users=n_users)
    folder.mkdir(parents=True)
    ds.interactions.to_frame().to_csv(folder / "ratings.csv", index=False)
    lines = ["movieId,title,genres", *(f"{i},Movie {i} (2000),Drama" for i in range(1, 41))]
    (folder / "movies.csv").write_text("\n".join(lines) + "\n")
    (folder / "u.user").write_text(
        "".join("|".join(map(str, row)) + "\n" for row in ds.users.itertuples(index=False))
    )
    return folder
