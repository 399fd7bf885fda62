"""The shared model machinery: top-k selection, parameter checks, the registry."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import check_positive, check_random_state, topk
from movierec.models.registry import MODELS, available, create, get_class


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float32, st.tuples(st.integers(1, 5), st.integers(1, 30)), elements=st.floats(-10, 10, width=32)
    ),
    st.integers(1, 40),
)
def test_topk_matches_full_sort(scores: np.ndarray, k: int) -> None:
    idx, vals = topk(scores, k)
    assert idx.shape == (scores.shape[0], k) and vals.shape == (scores.shape[0], k)
    for row in range(scores.shape[0]):
        expect = np.sort(scores[row])[::-1][: min(k, scores.shape[1])]
        np.testing.assert_array_equal(vals[row][: len(expect)], expect)
        valid = idx[row][idx[row] >= 0]
        np.testing.assert_array_equal(scores[row][valid], vals[row][: len(valid)])
        assert (idx[row][len(expect) :] == -1).all()


def test_topk_marks_excluded_items_as_missing() -> None:
    scores = np.array([[1.0, -np.inf, 3.0, -np.inf]], dtype=np.float32)
    idx, vals = topk(scores, 3)
    assert idx.tolist() == [[2, 0, -1]]
    assert vals[0, 2] == -np.inf


@pytest.mark.parametrize(
    ("value", "integer", "ok"),
    [
        (1, True, True),
        (0, True, False),
        (-3, True, False),
        (2.5, True, False),
        (0.01, False, True),
        (float("nan"), False, False),
        (True, True, False),
    ],
)
def test_check_positive(value: float, integer: bool, ok: bool) -> None:
    if ok:
        check_positive("x", value, integer=integer)
    else:
        with pytest.raises(ConfigError, match="x must"):
            check_positive("x", value, integer=integer)


def test_random_state_is_reproducible() -> None:
    assert check_random_state(3).random() == check_random_state(3).random()
    gen = np.random.default_rng(1)
    assert check_random_state(gen) is gen
    with pytest.raises(ConfigError):
        check_random_state("seed")  # type: ignore[arg-type]


def test_unknown_model_lists_valid_names() -> None:
    """Where nothing is close; a close one names where the list is (test_a_typo_gets_the_likely_fix_first)."""
    with pytest.raises(
        ConfigError,
        match=r"unknown model 'qwerty'; e\.g\. svd, ease, .*all 52 models: movierec\.models\.available\(\)$",
    ):
        get_class("qwerty")
    with pytest.raises(ConfigError, match=r"unknown model 'svdx' \(did you mean 'svd'\?\); all \d+ models: "):
        get_class("svdx")


def test_a_typo_gets_the_likely_fix_first() -> None:
    """The closest name comes first, and where the list is instead of the list: after the guess, the 52
    names made a 725-character message (10 lines at 80 columns) that buried it. A name with nothing close
    still gets the whole list, since it has nothing else to go on."""
    with pytest.raises(ConfigError) as typo:
        get_class("eas")
    # each door is told where its own list is: a function in Python, a command in the CLI
    said = f"unknown model 'eas' (did you mean 'ease'?); all {len(available())} models: "
    assert str(typo.value) == said + "movierec.models.available()"
    assert typo.value.in_cli() == said + "movierec models"
    with pytest.raises(ConfigError, match=r"unknown model 'zzzz'; e\.g\. svd, ease, als, popularity; all 52"):
        get_class("zzzz")  # nothing close: no guess, the first picks and where the list is
    with pytest.raises(
        ConfigError,
        match=r"^svd has no hyperparameter 'factor' \(did you mean 'factors'\?\); all 11: "
        r'movierec\.models\.create\("svd"\)\.get_params\(\)$',
    ) as factor:
        create("svd", factor=10)
    assert factor.value.in_cli().endswith("(did you mean 'factors'?); all 11: movierec models svd")
    # a misspelt Surprise name gets its Surprise spelling back (it loads as an alias), in every entry point
    for bad, close in (("n_factor", "n_factors"), ("lr_alll", "lr_all"), ("n-epochs", "n_epochs")):
        with pytest.raises(
            ConfigError, match=rf"'{bad}' \(did you mean '{close}'\?\); all 11: movierec\.models\.create"
        ):
            create("svd", **{bad: 1})
        with pytest.raises(ConfigError, match=rf"'{bad}' \(did you mean '{close}'\?\)"):
            create("svd").set_params(**{bad: 1})
    # a reference library's run option is not guessed at (cache_ratings was 'did you mean iterations?')
    with pytest.raises(ConfigError, match=r"^svdpp has no 'cache_ratings': Surprise's SVD\+\+ memory switch"):
        create("svdpp", cache_ratings=True)
    with pytest.raises(ConfigError, match=r"^svd has no 'verbose': progress is the caller's here"):
        create("svd", verbose=True)
    from movierec.evaluation import get_protocol

    with pytest.raises(
        ConfigError, match=r"unknown protocol 'full_rankin' \(did you mean 'full-ranking'\?\)"
    ):
        get_protocol("full_rankin")
    assert get_protocol("full_ranking").name == "full-ranking"  # as an experiment file spells it


def test_the_names_newcomers_type_point_to_the_model_here() -> None:
    """The README says SVD++; ``-m svd++`` was read as svd with item features '+' ("give the model as svd
    and its item features apart (--item-features ,)"), and ``movierec models svd++`` said "did you mean
    'svd'?". implicit's ALS got "did you mean 'implicit:bpr'?", LightFM "did you mean 'lightfm:bpr'?", a
    reference backend recommend refuses. Each is one line naming the model here, in every entry point."""
    from clihelp import run_process
    from movierec.viz.report import parse_models

    said = {
        "svd++": "SVD++ (Surprise's SVDpp) is svdpp here",
        "implicit:als": "implicit's AlternatingLeastSquares is als here",
        "LightFM": "LightFM's model is warp, bpr, logistic or warp-kos here",
    }
    for name, text in said.items():
        with pytest.raises(ConfigError, match=rf"^unknown model '{re.escape(name)}': {re.escape(text)}"):
            get_class(name)
    with pytest.raises(ConfigError, match=r"SVD\+\+ \(Surprise's SVDpp\) is svdpp here"):
        parse_models("svd++,ease")  # report and embed's --models
    for args in (["recommend", "--user", "1", "-m", "SVD++"], ["models", "svd++"]):
        proc = run_process(*args, env={"COLUMNS": "80"})
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert "is svdpp here" in proc.stderr and "item features" not in proc.stderr, proc.stderr


def test_registry_names_are_kebab_case() -> None:
    for name in MODELS:
        assert name == name.lower() and "_" not in name and " " not in name


def test_bad_constructor_argument_is_a_config_error() -> None:
    name = next((n for n in ("popularity", "svd", "baseline") if _importable(n)), None)
    if name is None:
        pytest.skip("no model module installed yet")
    with pytest.raises(ConfigError, match=f"^{name} has no hyperparameter 'no_such_param'; valid: ") as bad:
        create(name, no_such_param=1)
    # one traceback in a notebook: the TypeError it rewords was shown above it as "the direct cause"
    assert bad.value.__cause__ is None and bad.value.__suppress_context__


def test_a_model_without_hyperparameters_says_it_takes_none() -> None:
    # its class takes no arguments at all, so Python's TypeError names no keyword ("GlobalMean() takes no
    # arguments"): the line named none either and ended "valid: " with nothing after it
    for params in ({"factors": 10}, {"args": 1}):
        with pytest.raises(ConfigError) as bad:
            create("global-mean", **params)
        assert str(bad.value) == f"global-mean has no hyperparameter {next(iter(params))!r}: it takes none"


def _importable(name: str) -> bool:
    try:
        get_class(name)
    except (ConfigError, ModuleNotFoundError):
        return False
    return True


def test_integer_lookup_on_string_id_map() -> None:
    """CLI/HTTP callers may pass 7 for a map of string ids (pandas 3 stores them with a ``str`` dtype)."""
    import pandas as pd

    from movierec.interactions import IdMap

    ids, _ = IdMap.from_values(pd.Series(["7", "a", "3"]))
    assert ids.index(7) == ids.index("7") == 1
    assert 7 in ids
    ints, _ = IdMap.from_values([3, 5])
    assert ints.index("5") == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_topk_is_score_then_index_order_with_ties_and_padding(dtype: type) -> None:
    """topk's compiled selection equals a full sort by (score descending, index ascending) on rows full of
    ties and -inf, at every k: ties at the k-th place keep the lower index; rows short of k finite scores
    are padded with -1/-inf; NaN never ranks."""
    from movierec.models.base import topk

    rng = np.random.default_rng(7)
    for _ in range(300):
        n, m = int(rng.integers(1, 6)), int(rng.integers(2, 60))
        s = rng.integers(0, 5, size=(n, m)).astype(dtype)
        s[rng.random((n, m)) < 0.3] = -np.inf
        s[rng.random((n, m)) < 0.05] = np.nan
        k = int(rng.integers(1, m))
        idx, vals = topk(s, k)
        assert idx.dtype == np.int32 and vals.dtype == np.float32 and idx.shape == vals.shape == (n, k)
        for r in range(n):
            ok = np.flatnonzero(s[r] > -np.inf)
            want = ok[np.lexsort((ok, -s[r][ok]))][:k]
            assert list(idx[r, : len(want)]) == list(want)
            np.testing.assert_array_equal(vals[r, : len(want)], s[r][want].astype(np.float32))
            assert (idx[r, len(want) :] == -1).all() and np.isneginf(vals[r, len(want) :]).all()


def test_reason_order_is_best_rated_then_most_recent_over_the_training_rows() -> None:
    """The order explain tries a known user's movies: ratings and times from the full data (an implicit
    model's training view holds 1s), only the movies the view kept, best rated, then most recent."""
    from movierec.interactions import IdMap, Interactions
    from movierec.models.base import reason_order

    users = np.array([0, 0, 0, 0, 0, 1, 1], dtype=np.int32)
    items = np.array([0, 1, 2, 3, 4, 0, 2], dtype=np.int32)
    ratings = np.array([4.0, 5.0, 4.0, 2.0, 5.0, 4.5, 4.5], dtype=np.float32)
    times = np.array([10, 20, 30, 40, 5, 1, 2], dtype=np.int64)
    full = Interactions(users, items, ratings, IdMap(np.array([7, 8])), IdMap(np.arange(5) + 100), times)
    train = full.to_implicit(4.0)
    indptr, order = reason_order(train, full)
    assert list(indptr) == [0, 4, 6]
    assert list(order[:4]) == [
        1,
        4,
        2,
        0,
    ]  # 5 at t20, 5 at t5, 4 at t30, 4 at t10; the 2 (item 3) is not in training
    assert list(order[4:]) == [2, 0]  # equal ratings: the most recent first
    _, own = reason_order(train)  # no full data: the view's own 1s, so by time alone
    assert list(own[:4]) == [2, 1, 0, 4]


def test_a_model_without_a_similar_list_names_models_that_have_one(tiny: Interactions) -> None:
    """popularity links no movie to another: the refusal names models that do, and each of them does (the
    words of ``movierec similar -m popularity``, :func:`movierec.scoring.support.no_similar_reason`)."""
    import re

    with pytest.raises(ConfigError, match="no item vectors or neighbour lists, so no 'similar'") as err:
        create("popularity").fit(tiny.to_implicit(4.0)).similar_items(0)
    named = re.findall(r"\b(ease|slim|rp3beta|itemknn|svd|als|ials)\b", str(err.value))
    assert named == ["ease", "itemknn", "svd"]
    for name in named:
        data = tiny if name == "svd" else tiny.to_implicit(4.0)
        idx, _ = create(name).fit(data).similar_items(0, k=3)
        assert len(idx) == 3, name


def test_movierec_models_refuses_a_name_as_python_does() -> None:
    """``movierec models NAME`` and ``get_class`` give one refusal for a name that is not a model here
    (:func:`registry.registered_name`), each door's fix in its own words (``in_cli``): the command wrote its
    own copy of the foreign-name check and the typo's, and answered 'svd+genres' with all 52 names and
    'svd,ease' with "did you mean 'ease'?", where Python named the fix (give the features apart; run it
    once per model)."""
    from clihelp import one_error_line, run_process

    for name in ("svd++", "BiasScorer", "lightfm", "svd+genres", "svd,ease", "eas", "qwerty"):
        with pytest.raises(ConfigError) as python:
            get_class(name)
        assert one_error_line(run_process("models", name, env={"COLUMNS": "80"})) == python.value.in_cli()
    assert "'svd' with item_features='genres'" in _refusal("svd+genres")
    assert _refusal("svd,ease").startswith("'svd,ease' names 2 models where one goes")


def _refusal(name: str) -> str:
    with pytest.raises(ConfigError) as exc:
        get_class(name)
    return str(exc.value)
