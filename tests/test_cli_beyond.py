"""``compare --beyond`` tables and ``--rerank`` rows from the CLI; a bad re-ranker is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_cli_compare import assert_user_error, run_here


def test_compare_beyond_tables_fit_80_columns_and_rows_carry_the_metrics(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    proc = run_here(
        capsys, "compare", "-m", "popularity", "--protocols", "full-ranking", "--beyond", "--rerank",
        "mmr:0.4", "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for title in ("diversity and calibration", "popularity bias", "ndcg@10 by user group (activity)"):
        assert title in out
    block = out[out.index("beyond accuracy") :]
    # "wrote PATH" lines carry the (long, xdist) tmp path; everything else fits 80 columns
    assert max(len(line) for line in block.splitlines() if not line.startswith("wrote ")) <= 80
    assert "popularity+mmr:0.4" in out and "ILD genre" in out and "arp@10" not in out.split("beyond")[0]
    rec = json.loads((tmp_path / "results.json").read_text())[0]
    assert rec["model"] == "popularity+mmr:0.4"
    for key in (
        "ild_genres@10",
        "arp@10",
        "aplt@10",
        "calibration_kl@10",
        "gini@10",
        "ndcg@10[activity gap]",
    ):
        assert key in rec, key
    lo, hi = rec["intervals"]["ndcg@10[activity gap]"]
    assert lo <= rec["ndcg@10[activity gap]"] <= hi
    groups = [rec[f"ndcg@10[activity={g}]"] for g in ("low", "mid", "high")]
    assert rec["ndcg@10[activity gap]"] == pytest.approx(max(groups) - min(groups))
    assert 0 < rec["ndcg@10[activity gap p]"] <= 1 and "ndcg@10[activity gap p]" not in rec["intervals"]
    assert "p under the gap: permutation p that the groups differ" in out


def test_compare_bad_rerank_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    proc = run_here(capsys, "compare", "-m", "popularity", "--rerank", "shuffle:0.2")
    assert_user_error(proc, "unknown re-ranker 'shuffle:0.2'", "mmr:λ")
    proc = run_here(capsys, "compare", "-m", "popularity", "--rerank", "mmr:2")
    assert_user_error(proc, "λ must be in [0, 1]")


def test_recommend_rerank_changes_the_list_not_the_seen_filter(capsys: pytest.CaptureFixture[str]) -> None:
    plain = run_here(capsys, "recommend", "-u", "1", "-m", "popularity", "-k", "8", "--json")
    mmr = run_here(
        capsys, "recommend", "-u", "1", "-m", "popularity", "-k", "8", "--json", "--rerank", "mmr:0.7"
    )
    zero = run_here(
        capsys, "recommend", "-u", "1", "-m", "popularity", "-k", "8", "--json", "--rerank", "mmr:0"
    )
    assert plain.returncode == mmr.returncode == zero.returncode == 0, mmr.stderr
    ids = [[r["movieId"] for r in json.loads(p.stdout)] for p in (plain, mmr, zero)]
    assert ids[2] == ids[0] and ids[1] != ids[0] and len(ids[1]) == 8
    genres = [{g for r in json.loads(p.stdout)[:3] for g in r["genres"]} for p in (plain, mmr)]
    assert len(genres[1]) >= len(genres[0])
    assert_user_error(run_here(capsys, "recommend", "-u", "1", "--rerank", "mmr:9"), "λ must be in [0, 1]")


def test_a_reranked_lists_caption_says_its_scores_are_the_models_before_the_reranking(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``recommend --rerank calibrated:0.5`` (docs/beyond-accuracy.md) printed ease's scores out of order
    (0.084, 0.130, 0.156, 0.127, …) under "score: on the model's own scale, not a rating; only the order
    means something", which reads as a sorting bug. The re-ranker has no score of its own, so each row
    keeps the model's: the caption now says the scores are the model's before the re-ranker re-ordered
    the list, in one line at 80 columns, and Python's list says the same."""
    import movierec

    monkeypatch.setenv("COLUMNS", "80")
    proc = run_here(capsys, "recommend", "-u", "1", "-m", "ease", "--rerank", "calibrated:0.5")
    assert proc.returncode == 0, proc.stderr
    said = "the model's own (not a rating), before calibrated:0.5 re-ordered the list"
    assert f"score: {said}\n" in proc.stdout, proc.stdout
    assert "only the order means something" not in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    scores = [float(line.split("│")[4]) for line in proc.stdout.splitlines() if line.startswith("│")]
    assert len(scores) == 10 and scores != sorted(scores, reverse=True)  # what the caption explains
    rec = movierec.Recommender("ml-latest-small", "ease").fit()
    assert rec.recommend(1, k=5, rerank="calibrated:0.5").attrs["about"] == {"score": said}


def test_beyond_and_rerank_need_full_ranking_and_calibrated_needs_genres(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    proc = run_here(capsys, "compare", "-m", "popularity", "--protocols", "test-candidates", "--beyond")
    assert_user_error(proc, "beyond-accuracy metrics (--beyond) measure full-ranking lists")  # the flag alone
    proc = run_here(
        capsys, "compare", "-m", "popularity", "--protocols", "test-candidates", "--rerank", "mmr:0.2"
    )
    assert_user_error(proc, "add full-ranking to the protocols")
    ratings = tmp_path / "r.csv"
    ratings.write_text(
        "userId,movieId,rating\n"
        + "".join(f"{u},{i},{4 + (u + i) % 2}\n" for u in range(9) for i in range(6))
    )
    proc = run_here(
        capsys, "compare", "-m", "popularity", "--protocols", "full-ranking", "--ratings", str(ratings), "--time-col", "",
        "--rerank", "calibrated:0.5",
    )  # fmt: skip
    assert_user_error(proc, "needs movie genres")


def test_experiment_files_take_beyond_and_rerank() -> None:
    from movierec.errors import ConfigError
    from movierec.experiment import compare_kwargs, parse_experiment

    base = 'protocols = ["full-ranking"]\n[[models]]\nname = "popularity"\n'
    exp = parse_experiment('beyond = true\nrerank = "MMR:0.30"\n' + base)
    kw = compare_kwargs(exp)
    assert kw["beyond"] is True and kw["rerank"] == "mmr:0.3"
    assert "beyond" not in parse_experiment(base).to_toml()  # absent stays absent in best.toml
    with pytest.raises(ConfigError, match="rerank"):
        parse_experiment('rerank = "shuffle:0.1"\n' + base)


def test_compare_cv_group_brackets_hold_their_values_and_the_last_fold_note_is_gone(tmp_path: Path) -> None:
    """``compare --cv 3 --beyond`` in a subprocess: every group's bracket in results.json holds its value
    (it was the last fold's own interval, which need not), the printed group table shows those brackets,
    by_fold keeps every fold's own group figures, and the note now says why n overshoots the users."""
    from test_cli_compare import run

    proc = run(
        "compare", "-m", "popularity", "--protocols", "full-ranking", "--beyond", "--cv", "3",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rec = json.loads((tmp_path / "results.json").read_text())[0]
    assert rec["folds"] == 3 and len(rec["by_fold"]["ndcg@10[activity=low]"]) == 3
    keys = [k for k in rec["intervals"] if "[activity" in k]
    assert len(keys) == 6 * 4  # six accuracy metrics × (three terciles and the gap)
    for key in keys:
        lo, hi = rec["intervals"][key]
        assert lo <= rec[key] <= hi, (key, lo, rec[key], hi)
    table = proc.stdout[proc.stdout.index("ndcg@10 by user group (activity)") :]
    for g in ("low", "mid", "high"):
        lo, hi = rec["intervals"][f"ndcg@10[activity={g}]"]
        assert f"[{lo:.3f},{hi:.3f}]".replace("0.", ".") in table, (g, lo, hi)
        assert f"n={rec[f'users[activity={g}]']:,.0f}" in table
    text = " ".join(proc.stdout.split())
    assert "last fold" not in text
    sizes = sum(rec[f"users[activity={g}]"] for g in ("low", "mid", "high"))
    assert "user groups under 3-fold cv: each (user, fold) counts in the group it had in that fold" in text
    assert f"(activity {sizes:,.0f} for {rec['n_users']:,} users)" in text
