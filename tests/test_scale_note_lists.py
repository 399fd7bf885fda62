"""recommend and similar on ratings that do not top out at 5: their default models learn from ratings ≥ 4
(MovieLens' 4 stars of 5), which on a 1-10 scale makes a 4 of 10 a liked movie. compare and report said so;
the lists said nothing and read 'ratings of 4+'. Run as a person runs them: the CLI in a subprocess."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clihelp import run_process


def _tens(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    users, items = np.divmod(np.arange(40 * 30), 30)
    keep = rng.random(len(users)) < 0.5
    frame = pd.DataFrame(
        {
            "customer": [f"u_{u:05d}" for u in users[keep]],
            "title_id": [f"tt{i:07d}" for i in items[keep]],
            "score": rng.integers(1, 11, int(keep.sum())),
        }
    )
    path = tmp_path / "tens.csv"
    frame.to_csv(path, index=False)
    return path


def _columns(path: Path) -> list[str]:
    """The options that read the 1-10 file: its path and its own column names."""
    return [
        "--ratings",
        str(path),
        "--user-col",
        "customer",
        "--item-col",
        "title_id",
        "--rating-col",
        "score",
    ]


def test_a_list_trained_on_positives_says_the_default_threshold_is_for_5_stars(tmp_path: Path) -> None:
    path = _tens(tmp_path)
    cols = _columns(path)
    share = f"{float((pd.read_csv(path)['score'] >= 4).mean()):.0%}"
    for cmd in (
        ["recommend", "--user", "u_00003", "-k", "3"],
        ["similar", "--movie-id", "tt0000002", "-k", "3"],
    ):
        proc = run_process(*cmd, *cols, "--min-support", "1", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        err = " ".join(proc.stderr.split())
        assert "learns from ratings ≥ 4, which is MovieLens' 4 stars of 5" in err, err
        assert f"on this data's ratings (1–10) it counts {share} of them as positives" in err, err
        given = run_process(*cmd, *cols, "--min-support", "1", "--implicit-threshold", "8", cwd=tmp_path)
        assert given.returncode == 0 and "MovieLens" not in given.stderr, given.stderr
    # a rating model ranks by predicted ratings: no threshold, no note
    svd = run_process("recommend", "--user", "u_00003", "-k", "3", "--model", "svd", *cols, cwd=tmp_path)
    assert svd.returncode == 0 and "MovieLens" not in svd.stderr, svd.stderr


def test_a_recommender_warns_as_the_cli_notes(tmp_path: Path) -> None:
    """From Python, the same sentence is a UserWarning pointing at the caller's line; threshold= given, a
    rating model, or ratings up to 5 give none."""
    import warnings

    import movierec

    frame = pd.read_csv(_tens(tmp_path)).rename(
        columns={"customer": "userId", "title_id": "movieId", "score": "rating"}
    )
    with pytest.warns(
        UserWarning, match="ease learns from ratings ≥ 4, which is MovieLens' 4 stars of 5"
    ) as got:
        movierec.Recommender(frame, "ease")
    assert Path(got[0].filename).name == Path(__file__).name
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        movierec.Recommender(frame, "ease", threshold=8)
        movierec.Recommender(frame, "svd")
        movierec.Recommender(frame.assign(rating=(frame["rating"] + 1) // 2), "ease")


def test_export_says_the_default_threshold_is_for_5_stars(tmp_path: Path) -> None:
    """export trained ease on a 1-10 file's ratings ≥ 4 (94% of h111's file) and said nothing, where
    recommend and similar now note it: the same note, not with a threshold given, not for a rating model."""
    path = _tens(tmp_path)
    cols = _columns(path)
    share = f"{float((pd.read_csv(path)['score'] >= 4).mean()):.0%}"
    proc = run_process(
        "export", "-m", "ease", *cols, "-o", str(tmp_path / "ease"), "--no-check", cwd=tmp_path
    )
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 0 and err.count("MovieLens' 4 stars of 5") == 1, err
    assert (
        f"note: ease learns from ratings ≥ 4, which is MovieLens' 4 stars of 5; on this data's ratings (1–10) "
        f"it counts {share} of them as positives: set a threshold for this scale" in err
    ), err
    for args in (["-m", "ease", "--implicit-threshold", "8"], ["-m", "svd"]):
        out = str(tmp_path / "_".join(args).strip("-"))
        quiet = run_process("export", *args, *cols, "-o", out, "--no-check", cwd=tmp_path)
        assert quiet.returncode == 0 and "MovieLens" not in quiet.stderr, (args, quiet.stderr)
