"""Size parameters too large for the machine are refused in one line before fit allocates anything
(movierec.models.memory), in Python, in compare, export and tune; tune prunes a sampled point too large."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from clihelp import run_process
from datagen import make_ratings
from movierec.interactions import Interactions
from movierec.models.memory import MARGIN, Footprint, MemoryLimitError, available_bytes, estimate
from movierec.models.mf import SVD
from movierec.models.registry import MODELS, create
from movierec.models.space import Choice

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
HUGE = 10**8  # factors: 4,133.6 GB on ml-latest-small, above any machine this runs on


@pytest.fixture
def small() -> Interactions:
    return Interactions.from_frame(make_ratings(120, 80, 0.3, seed=3), rating_scale=(0.5, 5.0))


def test_a_model_too_large_is_refused_before_fit_allocates(small: Interactions) -> None:
    """factors=10**8 would need 4 GB per user or movie row block: one ConfigError line, at once."""
    assert available_bytes() is not None
    t0 = time.perf_counter()
    with pytest.raises(MemoryLimitError) as err:
        create("svd", n_factors=HUGE).fit(small)
    assert time.perf_counter() - t0 < 5
    message = str(err.value)
    need = (small.n_users + small.n_items) * HUGE * 4 / 1e9
    assert re.fullmatch(
        rf"svd with factors=100000000 needs about {need:,.1f} GB for its factors \({small.n_users} users \+ "
        rf"{small.n_items} movies\); [\d,]+\.\d GB is available: use fewer factors",
        message,
    ), message
    # the estimates: NMF's two ratings × factors float64 arrays, a VAE's layers
    nmf = estimate(create("nmf", factors=100), 10, 20, 1000)
    assert nmf is not None and nmf[2] == (10 + 20 + 2 * 1000) * 100 * 8
    vae = estimate(create("mult-vae", hidden=600), 10, 20)
    assert vae is not None and vae[2] == 8 * 20 * 600 * 4
    assert estimate(create("popularity"), 10, 20) is None  # nothing scales with a parameter
    create("svd", factors=8, epochs=1).fit(small)  # an ordinary size fits


@pytest.mark.parametrize(
    "command",
    [
        ["compare", "--models", "svd", "--params", f"factors={HUGE}"],
        ["export", "--model", "svd", "--params", f"n_factors={HUGE}", "--out", "art"],
        ["tune", "--model", "svd", "--params", f"n_factors={HUGE}", "--trials", "2"],
    ],
    ids=["compare", "export", "tune"],
)
def test_each_command_refuses_it_in_one_line(command: list[str], tmp_path: Path) -> None:
    """``tune --params n_factors=100000`` was killed by the kernel (exit 137) with no word: each command now
    refuses a size that cannot fit in one line, exit 2, and leaves nothing behind."""
    proc = run_process(*command, cwd=tmp_path, inherit_columns=True)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()  # compare's '[   0.0s] svd · fitting · 0/25' came first before
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert (
        "svd with factors=100000000 needs about 4,133.6 GB for its factors (610 users + 9,724 movies);"
        in lines[0]
    )
    assert lines[0].split("; ", 1)[1].startswith(tuple("0123456789")), lines[0]
    assert "GB is available: use fewer factors" in lines[0]
    assert "continuing" not in proc.stderr and "Trial" not in proc.stderr
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())


class SizedSVD(SVD):
    """svd declaring a footprint of a third of the memory available per factor: factors=1 fits, factors=10
    cannot (set per test, from what is available then)."""

    name: ClassVar[str] = "test-sized-svd"
    search_space: ClassVar[dict] = {("factors",): Choice((1, 10)), ("epochs",): Choice((1,))}
    memory_footprint: ClassVar[Footprint] = Footprint("factors", 0, 1)


def test_a_trial_whose_point_cannot_fit_is_pruned_with_the_reason(
    small: Interactions, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A sampled point too large for the machine prunes its trial, with the reason kept on it, instead of
    the kernel killing the study's process."""
    from movierec.tuning import tune

    available = available_bytes()
    assert available is not None
    per_factor = int(available / (small.n_items * 3 * MARGIN))  # factors=1: a third; factors=10: 3.3 ×
    monkeypatch.setattr(SizedSVD, "memory_footprint", Footprint("factors", 0, 1, bytes=per_factor))
    monkeypatch.setitem(MODELS, SizedSVD.name, ("test_model_memory", "SizedSVD", None))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    result = tune(small, SizedSVD.name, n_trials=8, cv=2, seed=1, storage=url, study_name="sized")
    table = result.to_frame()
    assert set(table["params_factors"]) == {1, 10}, table
    assert set(table.loc[table["params_factors"] == 10, "state"]) == {"pruned"}
    assert set(table.loc[table["params_factors"] == 1, "state"]) == {"complete"}
    assert result.best_params["factors"] == 1
    import optuna

    trials = optuna.load_study(study_name="sized", storage=url).trials
    reasons = [t.user_attrs.get("pruned_because", "") for t in trials if t.params["factors"] == 10]
    assert reasons and all(
        r.startswith("test-sized-svd with factors=10 needs about") and r.endswith("use fewer factors")
        for r in reasons
    ), reasons


def test_pair_dots_gathers_in_blocks_and_agrees_with_one_gather() -> None:
    """Rating predictions gathered every pair's factor rows at once (2 × pairs × factors × 4 bytes: 21.5 GB
    for svd at factors=100000 on a validation fold); they now go a block at a time, with the same result."""
    from movierec.models.base import pair_dots

    rng = np.random.default_rng(0)
    left = rng.normal(size=(3, 1 << 20)).astype(np.float32)  # 4 pairs per block at this width
    right = rng.normal(size=(4, 1 << 20)).astype(np.float32)
    users, items = rng.integers(0, 3, 10), rng.integers(0, 4, 10)
    expected = np.einsum("ij,ij->i", left[users], right[items], dtype=np.float64)
    np.testing.assert_allclose(pair_dots(left, right, users, items), expected, rtol=1e-12)
