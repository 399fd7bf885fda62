"""What tune's importance chart and best.json say about a parameter drawn only where it acts.

Optuna's fANOVA importances are over the parameters every complete trial has, and tune draws a parameter
only where it acts (itemknn's ``alpha`` only with the ``asymmetric`` similarity): such a parameter vanished
from importance.png and best.json without a word. It is now named beside them, with how many trials drew
it, the condition, and its share among those trials once there are enough of them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

optuna = pytest.importorskip("optuna")

from datagen import make_ratings  # noqa: E402
from movierec.interactions import Interactions  # noqa: E402
from movierec.tuning import (  # noqa: E402
    CONDITIONAL_FLOOR,
    conditional_importances,
    draw_acting,
    param_importances,
    resolve_space,
    tune,
)


def test_a_parameter_drawn_only_where_it_acts_is_named_beside_the_importances(tmp_path: Path) -> None:
    """A real itemknn study: alpha is in some trials only, so it is not among the shares over all trials,
    and best.json and both charts say how many trials drew it and why the others did not."""
    inter = Interactions.from_frame(make_ratings(120, 80, 0.3, seed=3), rating_scale=(0.5, 5.0))
    out = tmp_path / "out"
    res = tune(inter, "itemknn", metric="ndcg@10", n_trials=10, cv=1, seed=4, out=out, evaluate_test=False)
    table = pd.read_csv(out / "trials.csv")
    complete = table[table["state"] == "complete"]
    summary = json.loads((out / "best.json").read_text())
    shares = summary["param_importances"]
    every = {
        c.removeprefix("params_") for c in complete if c.startswith("params_") and complete[c].notna().all()
    }
    assert shares and set(shares) == every and "alpha" not in shares, shares
    alpha = summary["conditional_importances"]["alpha"]
    drew = int(complete["params_alpha"].notna().sum()) if "params_alpha" in complete else 0
    assert 0 <= drew < len(complete)  # the seeded draw: some trials without alpha
    assert alpha["trials"] == drew and alpha["of"] == len(complete) == res.n_complete
    assert alpha["acts_only_with"] == "similarity 'asymmetric'"
    assert (alpha["importance"] is None) == (drew < CONDITIONAL_FLOOR), alpha
    assert set(summary["conditional_importances"]) == {"alpha"}  # the other four are in every trial
    note = f"alpha: drawn in {drew} of {len(complete)} trials (acts only with similarity 'asymmetric')"
    assert note in (out / "importance.html").read_text()
    assert (out / "importance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_conditional_parameters_share_is_read_among_the_trials_that_drew_it() -> None:
    """Trials drawn as tune draws them (draw_acting over itemknn's space), scored by a rule in which alpha
    alone moves the asymmetric trials' value: over all trials similarity explains most of it, and among the
    trials that drew alpha, alpha does. Under CONDITIONAL_FLOOR such trials there is no share, only the count."""
    space = resolve_space("itemknn")
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial: optuna.Trial) -> float:
        drawn = draw_acting("itemknn", space, {}, lambda name, p: p.suggest(trial, name))
        if drawn["similarity"] == "asymmetric":
            return 0.5 + 0.4 * drawn["alpha"]
        return {"cosine": 0.1, "bm25": 0.2, "lift": 0.3}[drawn["similarity"]] + drawn["k"] / 10_000

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(objective, n_trials=80)
    drew = [t for t in study.trials if "alpha" in t.params]
    assert CONDITIONAL_FLOOR <= len(drew) < 80, len(drew)
    shares = param_importances(study)
    assert "alpha" not in shares and max(shares, key=shares.__getitem__) == "similarity", shares
    found = conditional_importances(study, "itemknn", searched=list(space))
    assert set(found) == {"alpha"} and found["alpha"]["trials"] == len(drew) and found["alpha"]["of"] == 80
    # the share among those trials (18 here: 0.98; the first 10 of them gave 0.70, fANOVA's noise on few)
    assert found["alpha"]["importance"] > 0.9, found
    # the same trials up to the second that drew alpha: a count and the condition, no share
    second = drew[1].number
    early = optuna.create_study(direction="maximize")
    early.add_trials(study.trials[: second + 1])
    few = conditional_importances(early, "itemknn", searched=list(space))["alpha"]
    assert few == {
        "trials": 2,
        "of": second + 1,
        "acts_only_with": "similarity 'asymmetric'",
        "importance": None,
    }
