"""``movierec export`` measures a model's top-N against popularity first (issue 15, 'honest objectives')."""

from __future__ import annotations

import json
from pathlib import Path

from clihelp import run_cli
from movierec.serving.artifact import load_artifact


def test_an_rmse_tuned_svd_is_flagged_weak_for_top_n(tmp_path: Path, capsys) -> None:
    # the kind of svd an RMSE search picks: many factors, long training, little regularisation
    params = "n_factors=150,n_epochs=40,lr=0.01,reg=0.05"
    code, _, err = run_cli(["export", "-m", "svd", "-p", params, "--out", str(tmp_path / "svd")], capsys)
    assert code == 0
    assert "warning" in err and "ranks below popularity" in err and "ndcg@10" in err
    assert "worse than the most popular movies (most liked)" in " ".join(err.split())  # not "most-rated"
    art = load_artifact(tmp_path / "svd")
    m = art.manifest["metrics"]
    assert m["weak_for_top_n"] is True and m["ndcg@10"] < m["popularity"]["ndcg@10"]
    assert "rmse" in m and m["split"] == "ratings-holdout"
    assert any(n.startswith("weak for top-N") for n in art.manifest["notes"])


def test_a_ranking_model_below_popularity_is_refused_unless_allowed(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    """The refusal is one line. A piped step that runs 3 s prints its own lines first, and the check before
    the refusal took 0.7 s here under a load of 12: a machine a few times slower would print them, so the
    steps' lines are held back for the whole run (MOVIEREC_PROGRESS_AFTER), whatever the machine's speed."""
    monkeypatch.setenv("MOVIEREC_PROGRESS_AFTER", "3600")
    out = tmp_path / "recent"  # recent popularity: below popularity at predicting each user's next movie
    code, _, err = run_cli(["export", "-m", "sequential-popularity", "--out", str(out)], capsys)
    assert code == 2 and "ranks below popularity on the leave-last-out split" in err
    assert (
        err.rstrip().endswith("): not exported; --allow-weak exports it anyway") and "allow_weak" not in err
    )
    assert len(err.strip().splitlines()) == 1 and len(err.strip()) <= 160 and not out.exists()
    code, _, err = run_cli(
        ["export", "-m", "sequential-popularity", "--out", str(out), "--allow-weak"], capsys
    )
    assert code == 0 and load_artifact(out).manifest["metrics"]["weak_for_top_n"] is True


def test_a_sequence_model_is_checked_on_the_next_movie(tmp_path: Path, capsys) -> None:
    """export's check ranked markov on a random 20% of the ratings, where 'the user's last movie' is no
    longer the one before the held-out ones: NDCG@10 0.066 against popularity's 0.165, refused, though
    markov predicts each user's next movie better than popularity (compare: 0.0472 against 0.0194). A
    sequence model is now checked on compare's leave-last-out split, and the figures are compare's row."""
    from movierec.evaluation import compare

    out = tmp_path / "markov"
    code, text, err = run_cli(["export", "-m", "markov", "--out", str(out)], capsys)
    assert code == 0, err
    assert "hold-out (each user's latest rating, seed 42; ranking over 610 users)" in " ".join(text.split())
    m = load_artifact(out).manifest["metrics"]
    assert m["split"] == "leave-last-out" and m["weak_for_top_n"] is False
    rows = compare("ml-latest-small", ["markov", "popularity"], protocols=["leave-last-out"], progress=False)
    assert m["ndcg@10"] == rows.row("markov", "leave-last-out").metrics["ndcg@10"]
    assert m["popularity"]["ndcg@10"] == rows.row("popularity", "leave-last-out").metrics["ndcg@10"]


def test_a_strong_model_records_both_figures(tmp_path: Path, capsys) -> None:
    code, out, _ = run_cli(["export", "-m", "itemknn", "--out", str(tmp_path / "knn"), "--json"], capsys)
    assert code == 0
    metrics = json.loads(out)["metrics"]
    assert metrics["weak_for_top_n"] is False and metrics["ndcg@10"] > metrics["popularity"]["ndcg@10"] > 0.1
    code, out, _ = run_cli(
        ["export", "-m", "itemknn", "--out", str(tmp_path / "k2"), "--no-check", "--json"], capsys
    )
    assert code == 0 and json.loads(out)["metrics"] == {}


def test_tune_for_rmse_records_the_best_trials_ranking_and_warns(tmp_path: Path, capsys) -> None:
    args = [
        "tune",
        "-m",
        "baseline",
        "--metric",
        "rmse",
        "--trials",
        "2",
        "--cv",
        "1",
        "--out",
        str(tmp_path),
    ]
    code, out, err = run_cli([*args, "--json"], capsys)
    assert code == 0
    check = json.loads(out)["ranking_check"]
    assert check["metric"] == "ndcg@10" and check["weak"] is True and check["model"] < check["popularity"]
    assert "warning" in err and "ranks below popularity" in err
    assert json.loads((tmp_path / "ranking_check.json").read_text())["popularity"] == check["popularity"]


def test_exports_status_line_names_the_split_the_check_runs_on(tmp_path: Path) -> None:
    """export's spinner said 'checking markov's top-N against popularity on a hold-out split' while the check
    ran on leave-last-out (each user's latest rating); it now names that split for a sequence model, and keeps
    'a hold-out split' where the check is on the ratings hold-out (--holdout's figures, other models)."""
    import contextlib

    import movierec
    from movierec.serving.pipeline import train_and_export

    shown: list[str] = []

    def status(text: str) -> contextlib.AbstractContextManager[None]:
        shown.append(text)
        return contextlib.nullcontext()

    ds = movierec.load("ml-latest-small")
    train_and_export(ds, "markov", {}, tmp_path / "m", status=status)
    assert "checking markov's top-N against popularity on leave-last-out (each user's latest rating)" in shown
    shown.clear()
    train_and_export(ds, "markov", {}, tmp_path / "mh", holdout=True, allow_weak=True, status=status)
    assert "checking markov's top-N against popularity on a hold-out split" in shown, shown
    assert load_artifact(tmp_path / "mh").manifest["metrics"]["split"] == "ratings-holdout"


def test_pythons_refusal_of_a_weak_model_names_its_keyword_only(tmp_path: Path) -> None:
    """The refusal named both doors ("(allow_weak=True in Python, --allow-weak in the CLI)"); each reader
    gets its own spelling now, Python's keyword here, the CLI's flag in the test above."""
    import pytest

    import movierec
    from movierec.serving.pipeline import train_and_export
    from movierec.serving.quality import WeakModelError

    ds = movierec.load("ml-latest-small")
    with pytest.raises(WeakModelError) as refused:
        train_and_export(ds, "sequential-popularity", {}, tmp_path / "recent")
    assert str(refused.value).endswith("): not exported; allow_weak=True exports it anyway")
    assert "--allow-weak" not in str(refused.value) and not (tmp_path / "recent").exists()
