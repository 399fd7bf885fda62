"""ease's ``popularity_shrink`` κ: a person with n positives is ranked with γ·n/(n + κ), not the full γ.

With the fixed γ −0.3 (chosen on known users, 20+ ratings each), ``recommend --rated "Toy Story=5"`` listed
Eraser and Executive Decision third and fourth, 1996 films co-rated in the same sessions whose few ratings
γ boosted (bench/visitor_gamma_study.py). The model, the exported artifact (known users, visitors, the
known-user reasons) and the CLI rank with one rule; κ 0 is the old ranking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import movierec
from clihelp import run_process
from movierec.models.ease import EASE

TOY_STORY, TOY_STORY_2, WONKA, ERASER, EXECUTIVE_DECISION = 1, 3114, 1073, 786, 494


@pytest.fixture(scope="module")
def fitted() -> dict[str, movierec.Recommender]:
    """ease at its defaults (κ 20) and with κ 0 (the fixed γ of before) on ml-latest-small."""
    return {
        "new": movierec.Recommender("ml-latest-small", "ease").fit(),
        "old": movierec.Recommender("ml-latest-small", "ease", popularity_shrink=0.0).fit(),
    }


def _ids(frame: Any) -> list[int]:
    return [int(m) for m in frame["movieId"]]


def test_one_given_movie_no_longer_lifts_rarely_rated_1996_films(fitted: dict[str, Any]) -> None:
    old = _ids(fitted["old"].recommend_for({TOY_STORY: 5.0}, k=8))
    new = _ids(fitted["new"].recommend_for({TOY_STORY: 5.0}, k=8))
    assert old[:5] == [TOY_STORY_2, 783, ERASER, EXECUTIVE_DECISION, WONKA]  # the fixed γ's list
    assert new[:2] == [TOY_STORY_2, WONKA] and ERASER not in new and EXECUTIVE_DECISION not in new


def test_the_model_scales_each_persons_scores_by_their_history(fitted: dict[str, Any]) -> None:
    """Scores = the fixed-γ scores × count^(−γ·κ/(n + κ)), n = the visitor's given positives or a known
    user's training items; κ 0 is the fixed γ exactly (B × count^γ)."""
    new: EASE = fitted["new"].model
    old: EASE = fitted["old"].model
    assert new.popularity_shrink == 20.0 and old.popularity_shrink == 0.0
    np.testing.assert_array_equal(new.weights_, old.weights_)  # B is the same; only the scoring differs
    counts = np.maximum(np.asarray((old.user_items_ != 0).sum(axis=0)).ravel(), 1).astype(np.float64)

    def scaled(scores: np.ndarray, n: np.ndarray) -> np.ndarray:
        return scores * counts[None, :] ** (0.3 * 20.0 / (n[:, None] + 20.0))

    given = np.array([fitted["new"].movie_index(m) for m in (TOY_STORY, WONKA, 2571)])
    for n in (1, 3):
        want = scaled(old.score_new_user(given[:n])[None, :], np.array([n]))[0]
        np.testing.assert_allclose(new.score_new_user(given[:n]), want, rtol=2e-4, atol=1e-7)
    users = np.arange(0, new.n_users_, 37)
    n_u = np.diff(old.user_items_.indptr)[users].astype(np.float64)
    np.testing.assert_allclose(new.score(users), scaled(old.score(users), n_u), rtol=2e-4, atol=1e-7)
    # the scaling never reaches movies without training interactions: they score 0 as before
    assert not new.score(users)[:, np.setdiff1d(np.arange(new.n_items_), new.active_items_)].any()


def test_the_artifact_ranks_known_users_and_visitors_as_the_model(
    fitted: dict[str, Any], tmp_path: Path
) -> None:
    """The exported artifact (what serve, the web page and Spark batch run) gives the model's lists and its
    known-user reasons; an artifact of κ 0 gives the fixed γ's list."""
    rec = fitted["new"]
    art = rec.export(tmp_path / "new")
    assert art.manifest["fold_in"]["popularity_shrink"] == 20.0
    visitor = art.recommend_for_ratings([(TOY_STORY, 5.0)], k=8)["movieId"].tolist()
    assert visitor == _ids(rec.recommend_for({TOY_STORY: 5.0}, k=8))
    old_art = fitted["old"].export(tmp_path / "old")
    assert "popularity_shrink" not in old_art.manifest["fold_in"]
    old_visitor = old_art.recommend_for_ratings([(TOY_STORY, 5.0)], k=8)["movieId"].tolist()
    assert old_visitor == _ids(fitted["old"].recommend_for({TOY_STORY: 5.0}, k=8)) and ERASER in old_visitor
    n_u = np.diff(rec.model.user_items_.indptr)
    light = int(np.flatnonzero(n_u == n_u[n_u > 0].min())[0])  # a user with the fewest positives
    user = rec.dataset.interactions.user_map.ids[light]
    want = rec.recommend(user, k=8, explain=True)
    got = art.recommend_rows(user, k=8, explain=True)
    assert [int(r["movieId"]) for r in got] == _ids(want)
    reasons = ["; ".join(b["title"] for b in r["because"]) for r in got]
    assert reasons == list(want["because"])
    # the reasons' leave-one-out: the user's row without one movie, scored at n − 1 (not n) movies
    heavy = int(np.argsort(n_u)[200])
    items, weights = art.scorer.user_row(heavy)
    keep = np.arange(len(items)) != 3
    model_side = rec.model.score_new_user(items[keep])
    np.testing.assert_allclose(
        art.scorer.without_one(art.scorer.known(heavy), items, weights, 3), model_side, rtol=1e-3, atol=1e-6
    )


def test_a_model_saved_before_the_shrink_keeps_its_fixed_exponent(
    fitted: dict[str, Any], tmp_path: Path
) -> None:
    import json

    path = fitted["new"].model.save(tmp_path / "ease")
    meta = json.loads((path / "model.json").read_text())
    assert meta["params"]["popularity_shrink"] == 20.0
    assert EASE.load(path).popularity_shrink == 20.0
    del meta["params"]["popularity_shrink"]  # as written before the parameter existed
    (path / "model.json").write_text(json.dumps(meta))
    assert EASE.load(path).popularity_shrink == 0.0


def test_the_cli_lists_what_the_model_lists(tmp_path: Path) -> None:
    """``recommend --rated "Toy Story=5"`` (ease, the default) without Eraser; ``-p popularity_shrink=0``
    gives the fixed γ's list back."""
    new = run_process("recommend", "--rated", "Toy Story=5", cwd=tmp_path)
    assert new.returncode == 0, new.stderr
    assert "Willy Wonka" in new.stdout and "Eraser (1996)" not in new.stdout
    assert new.stdout.index("Toy Story 2") < new.stdout.index("Willy Wonka")
    old = run_process("recommend", "--rated", "Toy Story=5", "-p", "popularity_shrink=0", cwd=tmp_path)
    assert old.returncode == 0, old.stderr
    assert old.stdout.index("Eraser (1996)") < old.stdout.index("Willy Wonka")
