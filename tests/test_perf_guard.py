"""Performance regression guard: counts work instead of timing it (issue 8).

Each check would fail on an accidental O(n²) or per-rating Python loop, whatever the machine's
speed: kernels are called once per epoch whatever the data size, neighbour lists stay bounded
by k per item, and batched scoring calls the model once per batch of users.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from datagen import make_ratings
from movierec.interactions import Interactions
from movierec.models import create


def _data(n_users: int, n_items: int, seed: int = 0) -> Interactions:
    return Interactions.from_frame(
        make_ratings(n_users, n_items, density=0.2, seed=seed), rating_scale=(0.5, 5.0)
    )


class _Counter:
    """Wraps a real kernel and counts its calls (the kernel still does the work)."""

    def __init__(self, fn):  # type: ignore[no-untyped-def]
        self.fn = fn
        self.calls = 0

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.fn(*args, **kwargs)


@pytest.mark.parametrize(("module", "kernel", "model", "params", "per_fit"), [
    ("movierec.models.mf", "svd_epochs", "svd", {"n_epochs": 3, "n_factors": 4}, 1),
    ("movierec.models.bpr", "learn_bpr_block", "bpr", {"epochs": 3, "no_components": 4}, 3),
    ("movierec.models.bpr", "pairwise_epoch_identity", "warp", {"epochs": 3, "no_components": 4}, 3),
])  # fmt: skip
def test_kernel_calls_per_fit_do_not_grow_with_the_data(
    monkeypatch, module, kernel, model, params, per_fit
) -> None:  # type: ignore[no-untyped-def]
    """Without a listener svd runs all its epochs in one kernel call; bpr/warp one call per epoch."""
    import importlib

    mod = importlib.import_module(module)
    calls = []
    for n_users, n_items in [(20, 30), (120, 200)]:
        counter = _Counter(getattr(mod, kernel))
        monkeypatch.setattr(mod, kernel, counter)
        train = _data(n_users, n_items)
        if model != "svd":
            train = train.to_implicit(3.0)
        create(model, random_state=0, **params).fit(train)
        calls.append(counter.calls)
    assert calls[0] == calls[1] == per_fit, f"kernel calls per fit at two sizes: {calls} (expected {per_fit})"


def test_a_listener_gets_every_epoch_and_the_same_model() -> None:
    """With ``on_epoch`` the sweeps run one per call; the result equals the one-call fit exactly."""
    from movierec.models.kernels.accel import CALLS

    train = _data(60, 80)
    before = CALLS["svd_epochs"]
    quiet = create("svd", n_epochs=4, n_factors=6, random_state=3).fit(train)
    assert CALLS["svd_epochs"] - before == 1
    seen: list[int] = []
    listened = create("svd", n_epochs=4, n_factors=6, random_state=3).fit(
        train, on_epoch=lambda epoch, row: seen.append(epoch)
    )
    assert CALLS["svd_epochs"] - before == 1 + 4
    assert seen == [1, 2, 3, 4]
    np.testing.assert_array_equal(quiet.user_factors_, listened.user_factors_)
    assert [r["loss"] for r in quiet.history_] == [r["loss"] for r in listened.history_]


def test_the_model_is_usable_after_every_epoch_of_its_trainer() -> None:
    """``trainer.train_epoch()`` leaves a model that scores as a fit of that many epochs would."""
    train = _data(60, 80)
    trainer = create("svd", n_epochs=3, n_factors=6, random_state=3).trainer(train)
    trainer.train_epoch()
    mid = trainer.model.predict(train.users[:20], train.items[:20]).copy()
    two = create("svd", n_epochs=1, n_factors=6, random_state=3).fit(train)
    np.testing.assert_allclose(mid, two.predict(train.users[:20], train.items[:20]), rtol=0, atol=0)
    trainer.train_epochs(2)
    model = trainer.finalize()
    assert len(model.history_) == 3 and model.user_factors_.flags.c_contiguous
    assert model.user_factors_.shape[1] == 6


def _numba_signatures() -> dict[str, int]:
    """Signatures each numba kernel of a loaded ``movierec`` module holds (compiled, or loaded from numba's cache)."""
    import sys

    from numba.core.registry import CPUDispatcher

    return {
        f"{name}.{fn.py_func.__qualname__}": len(fn.signatures)
        for name, module in list(sys.modules.items())
        if name.startswith("movierec.") and module is not None
        for fn in vars(module).values()
        if isinstance(fn, CPUDispatcher)
    }


def test_no_kernel_is_compiled_twice_in_one_process() -> None:
    """svd, baseline, knn-baseline, bpr, warp, ease and slim fits at several sizes and dtypes compile (or load)
    no numba kernel (theirs are the compiled extension's); the numba kernel that remains (bayesian-fm's
    sampler) holds one signature, whatever the size."""
    sizes = [(30, 40), (90, 150)]
    before = _numba_signatures()
    for n_users, n_items in sizes:
        train = _data(n_users, n_items)
        for name, params in [("svd", {"n_factors": 5, "n_epochs": 2}), ("baseline", {}),
                             ("knn-baseline", {"k": 5}), ("svd", {"n_factors": 7, "n_epochs": 2}),
                             ("svd", {"n_factors": 6, "n_epochs": 2, "exact": True})]:  # fmt: skip
            create(name, **params).fit(train).predict(train.users[:10], train.items[:10])
        create("bpr", epochs=2, no_components=4, random_state=0).fit(train.to_implicit(3.0))
        create("warp", epochs=2, no_components=4, random_state=0).fit(train.to_implicit(3.0))
        create("ease").fit(train.to_implicit(3.0))
        create("slim", k=5).fit(train.to_implicit(3.0))
    late = {name: n for name, n in _numba_signatures().items() if n > before.get(name, 0)}
    assert not late, f"numba kernels run on paths the extension covers: {late}"
    for n_users, n_items in sizes:
        train = _data(n_users, n_items)
        create("bayesian-fm", rank=3, n_iter=3, burn_in=1).fit(train)
    used = {name: n for name, n in _numba_signatures().items() if n > 0}
    assert used, "bayesian-fm ran no numba kernel: the check below would see nothing"
    twice = {name: n for name, n in used.items() if n > 1}
    assert not twice, f"numba kernels compiled more than once: {twice}"


@pytest.mark.parametrize(("model", "params", "bound"), [
    ("itemknn", {"k": 10}, 10),
    ("knn-baseline", {"k": 5, "max_neighbours": 12}, 12),
])  # fmt: skip
def test_neighbour_lists_stay_linear_in_items(model: str, params: dict, bound: int) -> None:
    nnz = []
    for n_items in (100, 400):
        train = _data(150, n_items, seed=1)
        if model == "itemknn":
            train = train.to_implicit(3.0)
        fitted = create(model, **params).fit(train)
        neigh = fitted.neighbours_
        assert neigh.shape == (n_items, n_items)
        assert np.diff(neigh.indptr).max() <= bound
        nnz.append(neigh.nnz)
    # 4x the items may at most give 4x the stored similarities (no n_items² growth)
    assert nnz[1] <= 4 * bound * 100 and nnz[1] <= 4.5 * max(nnz[0], 1)


def test_recommend_scores_in_batches(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    train = _data(50, 60).to_implicit(3.0)
    model = create("popularity").fit(train)
    counter = _Counter(model.score)
    monkeypatch.setattr(model, "score", counter)
    users = np.arange(50)
    model.recommend(users, k=5, batch_size=16)
    assert counter.calls == 4  # ceil(50 / 16): one vectorised call per batch, never one per user


def test_default_fits_and_a_tsne_map_import_no_numba() -> None:
    """A fresh process fitting the report's and compare's defaults (svd, svdpp, knn-baseline, ease, ials, bpr, warp,
    warp-kos, logistic; warp with side features too) and drawing one t-SNE map never imports numba: nothing
    is JIT-compiled on a user's first command (issue 16). openTSNE's own neighbour lookup would import
    pynndescent."""
    import subprocess
    import sys

    code = """
import sys
import numpy as np
import scipy.sparse as sp
from datagen import make_ratings
from movierec.interactions import Interactions
from movierec.models import create
from movierec.viz.embeddings import project
train = Interactions.from_frame(make_ratings(60, 80, density=0.2, seed=0), rating_scale=(0.5, 5.0))
positives = train.to_implicit(3.0)
for name in ("svd", "svdpp", "knn-baseline"):
    create(name, epochs=2).fit(train) if name != "knn-baseline" else create(name, k=5).fit(train)
for name in ("bpr", "warp", "warp-kos", "logistic"):
    create(name, epochs=2, random_state=0).fit(positives)
side = sp.random(positives.n_items, 4, density=0.5, random_state=0, format="csr")
create("warp", epochs=2, random_state=0).fit(positives, item_features=side)
model = create("ease").fit(positives)
create("ials", epochs=2).fit(positives)
project(np.random.default_rng(0).normal(size=(40, 8)), "tsne", 0, None)
print(sorted(m for m in ("numba", "pynndescent") if m in sys.modules))
"""
    tests_dir = str(Path(__file__).parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (tests_dir, env.get("PYTHONPATH", "")) if p)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


@pytest.mark.parametrize(("stub", "message"), [
    ("None", "compiled kernels are not built: run `pip install -e .`"),
    ("types.ModuleType('stale')", "compiled kernels are older than this source (no svd_epochs"),
])  # fmt: skip
def test_a_missing_or_stale_extension_fails_at_import_saying_how_to_build_it(stub: str, message: str) -> None:
    """The compiled kernels have no fallback: without them (or with a build older than the source) the
    first import of a kernel module fails at once with the build command, not halfway through a fit."""
    import subprocess
    import sys

    code = f"""
import sys, types
sys.modules["movierec.models.kernels._native"] = {stub}
try:
    import movierec.models.kernels.hybrid
except ImportError as exc:
    print(exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert message in out.stdout and "build_ext --inplace" in out.stdout, out.stdout


@pytest.mark.parametrize("name", ["bpr", "warp"])
def test_a_progress_bar_does_not_make_a_hybrid_fit_publish_per_chunk(name: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """bpr/warp without side features compute the model's vectors once per fit, with or without a
    progress-only listener, however many chunks its epochs run in (issue 16: 14 publishes were 8% of a
    default bpr fit in ``compare``); the listened fit equals the quiet one."""
    from movierec.models import training
    from movierec.models.bpr import HybridMF
    from movierec.models.training import progress_only

    train = _data(60, 80).to_implicit(3.0)
    counter = _Counter(HybridMF._finalise)
    monkeypatch.setattr(HybridMF, "_finalise", lambda self, *a: counter(self, *a))
    monkeypatch.setattr(training, "CHUNK_SECONDS", 1e-9)  # one epoch per chunk: 6 chunks
    quiet = create(name, epochs=6, no_components=4, random_state=0).fit(train)
    assert counter.calls == 1
    seen: list[int] = []
    listened = create(name, epochs=6, no_components=4, random_state=0).fit(
        train, on_epoch=progress_only(lambda epoch, row: seen.append(epoch))
    )
    assert seen == [1, 2, 3, 4, 5, 6] and counter.calls == 2
    np.testing.assert_array_equal(quiet.item_factors_, listened.item_factors_)
    assert listened.item_factors_.flags.c_contiguous
