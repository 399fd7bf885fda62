"""Parameters that act only with another one (``acts_when``): the declarations are checked against what the
models do, a person who sets an idle one hears so, and ``tune`` does not search it."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import movierec
from datagen import mlls_first_users
from movierec.interactions import Interactions
from movierec.models.params import acts_when
from movierec.models.registry import create, get_class, idle_notes
from movierec.tuning import active_space

#: (model, the parameter, a value it changes to, its switch's values: off, on) for every declaration; under
#: several conditions, the settings that turn it off and on
CASES = [
    ("knn-basic", "shrinkage", 5.0, ("msd", "pearson_baseline")),
    ("knn-basic", "bsl_method", "sgd", ("msd", "pearson_baseline")),
    ("knn-basic", "bsl_epochs", 2, ("cosine", "pearson_baseline")),
    (
        "knn-basic",
        "reg_i",
        1.0,
        ({"similarity": "pearson_baseline", "bsl_method": "sgd"}, {"similarity": "pearson_baseline"}),
    ),
    ("knn-basic", "reg_u", 1.0, ({"bsl_method": "als"}, {"similarity": "pearson_baseline"})),
    (
        "knn-basic",
        "bsl_reg",
        0.5,
        ({"similarity": "pearson_baseline"}, {"similarity": "pearson_baseline", "bsl_method": "sgd"}),
    ),
    (
        "knn-basic",
        "bsl_learning_rate",
        0.05,
        ({"bsl_method": "sgd"}, {"similarity": "pearson_baseline", "bsl_method": "sgd"}),
    ),
    ("knn-means", "shrinkage", 5.0, ("cosine", "pearson_baseline")),
    ("knn-zscore", "shrinkage", 5.0, ("pearson", "pearson_baseline")),
    ("knn-baseline", "shrinkage", 5.0, ("msd", "pearson_baseline")),
    ("knn-baseline", "reg_i", 1.0, ("sgd", "als")),
    ("knn-baseline", "reg_u", 1.0, ("sgd", "als")),
    ("knn-baseline", "bsl_reg", 0.5, ("als", "sgd")),
    ("knn-baseline", "bsl_learning_rate", 0.05, ("als", "sgd")),
    ("nmf", "reg_bu", 0.5, (False, True)),
    ("nmf", "reg_bi", 0.5, (False, True)),
    ("nmf", "lr_bu", 0.05, (False, True)),
    ("nmf", "lr_bi", 0.05, (False, True)),
    ("baseline", "reg_i", 1.0, ("sgd", "als")),
    ("baseline", "reg_u", 1.0, ("sgd", "als")),
    ("baseline", "regularization", 0.2, ("als", "sgd")),
    ("baseline", "learning_rate", 0.02, ("als", "sgd")),
    ("itemknn", "alpha", 0.9, ("cosine", "asymmetric")),
    ("itemknn", "bm25_k1", 3.0, ("cosine", "bm25")),
    ("itemknn", "bm25_b", 0.2, ("cosine", "bm25")),
    ("itemknn", "half_life_days", 20.0, ("binary", "recency")),
    ("ease", "time_weight", 0.3, (0, 10)),
    ("ease", "half_life_days", 20.0, ("binary", "recency")),
    ("popularity", "half_life_days", 20.0, ("binary", "recency")),
    ("bpr", "rho", 0.5, ("auto", "adadelta")),
    ("bpr", "epsilon", 1e-3, ("adagrad", "adadelta")),
    ("bpr", "learning_rate", 0.2, ("adadelta", "adagrad")),
    ("bpr", "half_life_days", 20.0, ("binary", "recency")),
    ("bpr", "max_sampled", 30, None),  # never read: only the WARP losses sample up to it
    ("logistic", "max_sampled", 30, None),
]


@pytest.fixture(scope="module")
def small() -> Interactions:
    inter = movierec.load("ml-latest-small").interactions
    return inter.subset(inter.users < 60)


#: each (model, its settings)'s scores on ``small``, fitted once for the module: the cases share their
#: switches' settings (bpr's adadelta is one case's off and two cases' on; nmf's four share both), and a fit
#: is deterministic (every model's default seed), so a second fit of the same settings gave the same array
_FITTED: dict[tuple[str, int, str], np.ndarray] = {}

#: bpr and logistic fitted at 16 factors and 20 epochs (bpr's defaults, 200 and 150, took ~1 CPU-s a fit, these
#: ~0.06, and the cases fit bpr 15 times): the checks compare two fits of the same size, which are equal to the bit while the
#: parameter is idle (it is never read, whatever the size) and apart once it acts (every epoch reads it)
_LIGHT: dict[str, dict[str, Any]] = {name: {"factors": 16, "epochs": 20} for name in ("bpr", "logistic")}


def _scores(name: str, train: Interactions, **params: Any) -> np.ndarray:
    from movierec.models.base import training_view

    key = (name, id(train), repr(sorted(params.items())))
    if key not in _FITTED:
        model = create(name, **{**_LIGHT.get(name, {}), **params})
        scores = np.array(model.fit(training_view(model, train)).score(np.arange(20)))
        scores.flags.writeable = False  # shared by the cases: none may change it
        _FITTED[key] = scores
    return _FITTED[key]


# one worker runs every case (make test's --dist loadgroup), so the cases that share a setting share its fit
@pytest.mark.xdist_group("acts-when-fits")
@pytest.mark.parametrize("name, key, value, switch", CASES)
def test_a_declared_parameter_changes_nothing_while_its_switch_is_off_and_something_once_on(
    name: str, key: str, value: Any, switch: tuple[Any, Any] | None, small: Interactions
) -> None:
    cond = acts_when(get_class(name))[key]
    off, on = (s if isinstance(s, dict) else {cond.switch: s} for s in switch) if switch else ({}, None)
    np.testing.assert_array_equal(_scores(name, small, **off), _scores(name, small, **off, **{key: value}))
    assert idle_notes(name, {key: value, **off})
    if on is not None:
        assert not np.allclose(_scores(name, small, **on), _scores(name, small, **on, **{key: value}))
        assert not idle_notes(name, {key: value, **on})


def test_a_reference_librarys_spelling_of_an_idle_parameter_gets_the_note_too() -> None:
    """Surprise's ``lr`` on baseline with ALS baselines changes nothing, as ``learning_rate`` does; the note
    came only for our own spelling."""
    (note,) = idle_notes("baseline", {"method": "als", "lr": 0.01})
    assert (
        note
        == "baseline: learning_rate (given as lr) acts only with method 'sgd' (here 'als'), so it changes nothing"
    )
    assert not idle_notes("baseline", {"method": "sgd", "lr": 0.01})


def _declared_by(cls: type, key: str) -> str:
    """The class whose ``acts_when`` declares ``key`` for ``cls`` (the nearest in its MRO)."""
    return next(k.__qualname__ for k in cls.__mro__ if key in k.__dict__.get("acts_when", {}))


def test_every_declaration_of_these_models_is_checked_above() -> None:
    """A new ``acts_when`` on one of them (or on a class they share) needs a row in CASES; a declaration
    shared by a family is checked once, on one of its models (HybridMF's on bpr)."""
    names = {n for n, *_ in CASES}
    declared = {(_declared_by(get_class(n), k), k) for n in names for k in acts_when(get_class(n))}
    assert declared == {(_declared_by(get_class(n), k), k) for n, k, *_ in CASES}


def test_the_cli_says_an_idle_parameter_changes_nothing_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The note is said once per run. On ml-latest-small's first 40 users (the bundled files' reading path):
    the three knn-basic runs were most of this test's time (1.1 CPU-s each on 150 users, 0.6 on 40), and the
    note does not rest on the data."""
    from movierec.cli import main

    data = ["--dataset", str(mlls_first_users(tmp_path / "mlls40", 40))]
    with pytest.raises(SystemExit) as done:
        main(["recommend", "--user", "1", "-m", "knn-basic", "-k", "2", "--params", "shrinkage=50", *data])
    assert done.value.code in (0, None)
    err = " ".join(capsys.readouterr().err.split())  # piped, the note wraps at 80 columns
    want = "knn-basic: shrinkage acts only with similarity 'pearson_baseline' (here 'msd'), so it changes nothing"
    assert err.count(want) == 1, err
    with pytest.raises(SystemExit):  # a second run in the same process says it again
        main(["recommend", "--user", "1", "-m", "knn-basic", "-k", "2", "--params", "shrinkage=50", *data])
    assert " ".join(capsys.readouterr().err.split()).count(want) == 1
    with pytest.raises(SystemExit):
        main(["recommend", "--user", "1", "-m", "knn-basic", "-k", "2", "--params", "shrinkage=50,similarity=pearson_baseline", *data])  # fmt: skip
    assert "changes nothing" not in capsys.readouterr().err


def test_a_notebook_is_warned_too() -> None:
    ds = movierec.load("ml-latest-small")
    with pytest.warns(UserWarning, match="baseline: learning_rate acts only with method 'sgd'"):
        movierec.Recommender(ds, "baseline", learning_rate=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        movierec.Recommender(ds, "baseline", method="sgd", learning_rate=0.1)


def test_tune_leaves_out_what_the_fixed_switch_turns_off() -> None:
    assert {"reg_i", "reg_u"} <= set(active_space("baseline", False, {}))
    assert not {"reg_i", "reg_u"} & set(active_space("baseline", False, {"method": "sgd"}))
    assert "time_weight" not in active_space("ease", False, {}) and "time_weight" in active_space("ease", False, {"time_window": 10})  # fmt: skip
    assert "alpha" in active_space("itemknn", False, {})  # its switch, similarity, is searched with it


def test_movierec_models_marks_idle_parameters_and_what_tune_searches_only_on_request() -> None:
    from movierec.cli.models import model_info

    base = model_info("baseline")
    assert base["acts_only_with"]["learning_rate"] == "method 'sgd'"
    assert base["search_space"]["reg_i"] == "0.1 to 50, log scale"  # searched: the default method is ALS
    assert model_info("ease")["search_space"]["time_weight"].endswith(
        "(searched when --params sets time_window > 0)"
    )


def test_movierec_models_marks_what_tune_draws_only_under_a_searched_switch() -> None:
    """``movierec models warp`` listed ``learning_rate`` and ``max_sampled`` as if every trial drew them, while
    ease's list marks its conditional ones: tune draws learning_rate only without the adadelta schedule and
    max_sampled only for the WARP losses (:func:`movierec.tuning.draw_acting`), itemknn's alpha only with the
    asymmetric similarity. The searched values are named."""
    from movierec.cli.models import model_info

    warp = model_info("warp")["search_space"]
    assert warp["learning_rate"].endswith("(drawn only with learning_schedule 'adagrad')"), warp
    assert warp["max_sampled"].endswith("(drawn only with loss 'warp' or 'warp-kos')"), warp
    assert warp["factors"] == "8 to 256, log scale" and warp["loss"] == "warp | bpr | logistic | warp-kos"
    assert model_info("bpr")["search_space"]["learning_rate"].endswith("(drawn only with learning_schedule 'auto' or 'adagrad')")  # fmt: skip
    assert (
        model_info("itemknn")["search_space"]["alpha"] == "0 to 1 (drawn only with similarity 'asymmetric')"
    )
    assert (
        "drawn only" not in model_info("lightfm:warp-kos")["search_space"]["max_sampled"]
    )  # no loss searched


def test_movierec_models_says_which_parameter_takes_one_value_and_what_therefore_never_acts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ials listed ``weighting = 'binary'`` beside models where it is a choice, and ``half_life_days`` as
    acting with recency weighting, which ials refuses."""
    from movierec.cli import main
    from movierec.cli.models import model_info

    ials = model_info("ials")
    assert ials["only_value"] == {
        "weighting": "iALS weighs every positive 1; als weighs them by rating or recency"
    }
    assert ials["never_acts"] == {"half_life_days": "never acts here: weighting takes only 'binary'"}
    ease = model_info("ease")
    assert ease["only_value"] == {} and "half_life_days" not in ease["never_acts"]
    assert ease["choices"]["weighting"] == [
        "binary",
        "rating",
        "recency",
        "values",
    ]  # where it is a choice, the choices
    assert "weighting" not in ials["choices"]
    assert idle_notes("ials", {"half_life_days": 30}) == [
        "ials: half_life_days acts only with weighting 'recency', and weighting takes only 'binary' here, "
        "so it changes nothing"
    ]
    with pytest.raises(SystemExit) as done:
        main(["models", "ials"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "weighting = 'binary' (the only value: iALS weighs every positive 1" in out
    assert "half_life_days = 365.0 (never acts here: weighting takes only 'binary')" in out
    with pytest.raises(SystemExit):
        main(["models", "ease"])
    assert "weighting = 'binary' (one of 'binary', 'rating', 'recency', 'values')" in " ".join(
        capsys.readouterr().out.split()
    )


def test_several_conditions_must_all_hold_and_the_note_names_the_switches_that_are_off() -> None:
    """``a & b``: one ActsWhen that acts only while both hold; its note and ``tune`` read every condition."""
    from movierec.models.params import ActsWhen, Options, idle_params, never_acts

    class Model:
        default_similarity = "msd"
        acts_when: ClassVar[dict[str, ActsWhen]] = {
            "reg": ActsWhen("similarity", ("pearson_baseline",)) & ActsWhen("method", ("als",)),
            "window_weight": ActsWhen("method", ("als", "sgd"))
            & ActsWhen("window")
            & ActsWhen("kind", ("a",)),
        }

    reg, weight = Model.acts_when["reg"], Model.acts_when["window_weight"]
    assert (reg.switch, reg.values) == ("similarity", ("pearson_baseline",))  # the first condition's, as one
    assert [c.switch for c in weight.conditions] == ["method", "window", "kind"]
    assert reg.describe() == "similarity 'pearson_baseline' and method 'als'"
    assert weight.describe() == "method 'als' or 'sgd' and window > 0 and kind 'a'"
    assert reg.holds(Model, {"similarity": "pearson_baseline", "method": "als"})
    assert not reg.holds(Model, {"method": "als"})  # similarity None reads as the default, msd
    assert not reg.holds(Model, {"similarity": "pearson_baseline", "method": "sgd"})
    assert weight.holds(Model, {"method": "sgd", "window": 3, "kind": "a"})
    assert not weight.holds(Model, {"method": "sgd", "window": 0, "kind": "a"})

    def note(given: dict[str, Any], **params: Any) -> dict[str, str]:
        return idle_params(Model, given, params)

    assert note({"reg": 1}, method="als") == {
        "reg": "acts only with similarity 'pearson_baseline' and method 'als' (here similarity 'msd')"
    }
    assert note({"reg": 1}, similarity="pearson_baseline", method="sgd") == {
        "reg": "acts only with similarity 'pearson_baseline' and method 'als' (here method 'sgd')"
    }
    assert note({"reg": 1}, similarity="cosine", method="sgd") == {
        "reg": "acts only with similarity 'pearson_baseline' and method 'als' "
        "(here similarity 'cosine', method 'sgd')"
    }
    assert note({"reg": 1}, similarity="pearson_baseline", method="als") == {}
    # tune leaves a parameter out when any condition's switch is not searched and is off
    fixed = {"similarity": "pearson_baseline", "method": "sgd"}
    assert reg.left_off(Model, fixed, {"similarity"}) and not reg.left_off(Model, fixed, {"method"})
    assert reg.left_off(Model, {"method": "als"}, {"method"}) and not reg.left_off(
        Model, {}, {"similarity", "method"}
    )
    assert not reg.left_off(Model, {**fixed, "method": "als"}, set())
    # one switch that takes a single value here, outside the condition's: it never acts
    Model.parameter_constraints = classmethod(lambda cls: {"kind": [Options("b")]})  # type: ignore[attr-defined]
    assert never_acts(Model) == {"window_weight": "kind takes only 'b'"}
    with pytest.raises(ValueError, match="never"):
        ActsWhen.never("the WARP losses") & reg


def test_the_knn_models_baseline_options_act_only_with_pearson_baseline() -> None:
    """knn-basic/means/zscore's baseline options need the pearson_baseline similarity too; knn-baseline's do
    not (its offsets are the baselines); ``movierec models`` says both conditions."""
    from movierec.cli.models import model_info

    for name in ("knn-basic", "knn-means", "knn-zscore"):
        assert idle_notes(name, {"bsl_learning_rate": 0.05, "bsl_method": "sgd"}) == [
            f"{name}: bsl_learning_rate acts only with similarity 'pearson_baseline' and bsl_method 'sgd' "
            "(here similarity 'msd'), so it changes nothing",
            f"{name}: bsl_method acts only with similarity 'pearson_baseline' (here 'msd'), so it changes nothing",
        ]
        assert idle_notes(name, {"bsl_method": "sgd", "reg_i": 2.0, "similarity": "pearson_baseline"}) == [
            f"{name}: reg_i acts only with similarity 'pearson_baseline' and bsl_method 'als' "
            "(here bsl_method 'sgd'), so it changes nothing",
        ]
        assert not idle_notes(name, {"bsl_method": "sgd", "bsl_reg": 2.0, "similarity": "pearson_baseline"})
        assert (
            model_info(name)["acts_only_with"]["bsl_reg"]
            == "similarity 'pearson_baseline' and bsl_method 'sgd'"
        )
    assert not idle_notes("knn-baseline", {"bsl_method": "sgd", "bsl_epochs": 3, "similarity": "msd"})
    assert model_info("knn-baseline")["acts_only_with"]["bsl_reg"] == "bsl_method 'sgd'"
    assert "bsl_epochs" not in model_info("knn-baseline")["acts_only_with"]


def test_every_tunable_models_trials_draw_exactly_the_parameters_that_act() -> None:
    """``tune`` draws define-by-run (:func:`movierec.tuning.draw_acting`): a parameter only where its
    ``acts_when`` holds for the values drawn before it, so no trial lists one that changed nothing, and none
    leaves out one that acts. Real Optuna trials (random draws, nothing fitted) over every tunable model."""
    optuna = pytest.importorskip("optuna")
    from movierec.models.params import idle_params
    from movierec.models.registry import split_model_params
    from movierec.tuning import draw_acting, resolve_space, tunable_names

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for model in tunable_names():
        space = resolve_space(model)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        for _ in range(12):
            trial = study.ask()
            drawn = draw_acting(model, space, {}, lambda name, p, t=trial: p.suggest(t, name))
            study.tell(trial, 0.0)
            name, params = split_model_params(model, drawn)
            cls = get_class(name)
            full = {**cls().get_params(), **params}
            assert not idle_params(cls, params, full), (model, drawn)
            left = set(space) - set(drawn)
            conditions = acts_when(cls)
            assert all(k in conditions and not conditions[k].holds(cls, full) for k in left), (model, drawn)
            assert trial.params == drawn  # what Optuna records is what was drawn


def test_a_warp_study_draws_learning_rate_only_with_a_schedule_that_reads_it() -> None:
    """warp's ``learning_rate`` acts with adagrad, not adadelta (LightFM's adadelta never reads it): a seeded
    study's adadelta trials have none, its adagrad trials one, and ``max_sampled`` comes only with a WARP
    loss. The best params list what acted only. A 120 × 80 synthetic set, 3 epochs: about a second."""
    pytest.importorskip("optuna")
    from datagen import make_ratings
    from movierec.tuning import tune

    small = Interactions.from_frame(make_ratings(120, 80, 0.3, seed=3), rating_scale=(0.5, 5.0))
    res = tune(small, "warp", metric="ndcg@10", n_trials=12, cv=1, seed=3, progress=False,
               fixed_params={"epochs": 3, "factors": 8})  # fmt: skip
    rows = res.trials.to_dict("records")
    schedules = {r["params_learning_schedule"] for r in rows}
    assert schedules == {"adagrad", "adadelta"}, schedules  # both drawn: the check below has cases of each
    for r in rows:
        assert np.isnan(r["params_learning_rate"]) == (r["params_learning_schedule"] == "adadelta"), r
        assert np.isnan(r["params_max_sampled"]) == (r["params_loss"] not in ("warp", "warp-kos")), r
    best = res.best_params
    assert ("learning_rate" in best) == (best["learning_schedule"] != "adadelta")
    assert ("max_sampled" in best) == (best["loss"] in ("warp", "warp-kos"))
