"""The model contract in code: tags, declared parameter constraints checked by a final fit, aliases."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, Tags, tags_of
from movierec.models.params import Boolean, Interval, Options, RandomState, validate_params
from movierec.models.registry import MODELS, create, get_class


def _classes() -> list[tuple[str, type]]:
    out = []
    for name in MODELS:
        try:
            out.append((name, get_class(name)))
        except ConfigError:  # an optional extra is missing here
            continue
    return out


@pytest.mark.parametrize(("name", "cls"), _classes(), ids=[n for n, _ in _classes()])
def test_every_model_declares_consistent_tags(name: str, cls: type) -> None:
    tags = tags_of(cls)
    assert isinstance(cls.tags, Tags)
    assert cls.kind == tags.kind == ("explicit" if tags.predicts_ratings else "implicit")
    assert cls.sequential == tags.sequential == (tags.trains_on == "sequences")
    if tags.predicts_ratings:
        assert hasattr(cls, "predict") and tags.trains_on == "ratings"
    assert tags.trains_on in ("ratings", "interactions", "sequences")
    assert tags.fold_in in ("factors", "neighbours", "sequence", "popularity", "none")
    # fit is the contract's, training is _fit
    assert cls.fit is BaseRecommender.fit
    assert "_fit" in {k for c in cls.__mro__ for k in vars(c)}


@pytest.mark.parametrize(
    ("name", "alias", "canonical", "value"),
    [
        ("svd", "n_factors", "factors", 7),
        ("svd", "n_epochs", "epochs", 3),
        ("svd", "lr", "learning_rate", 0.01),
        ("svd", "reg", "regularization", 0.05),
        ("svdpp", "n_factors", "factors", 5),
        ("baseline", "n_epochs", "epochs", 4),
        ("bpr", "no_components", "factors", 6),
        ("warp", "no_components", "factors", 6),
        ("als", "iterations", "epochs", 2),
        ("sasrec", "lr", "learning_rate", 0.001),
    ],
)
def test_reference_names_are_aliases(name: str, alias: str, canonical: str, value: Any) -> None:
    try:
        cls = get_class(name)
    except ConfigError as exc:
        pytest.skip(str(exc))
    model = cls(**{alias: value})
    assert getattr(model, canonical) == value
    assert getattr(model, alias) == value  # reading the old spelling still works
    params = model.get_params()
    assert params[canonical] == value and alias not in params
    assert model.set_params(**{alias: value}).get_params()[canonical] == value
    assert cls.canonical_params({alias: value}) == {canonical: value}
    with pytest.raises(ConfigError, match=f"{canonical}.*{alias}|{alias}.*{canonical}"):
        cls(**{alias: value, canonical: value})


def test_constraint_errors_name_the_model_the_field_and_its_alias(tiny: Interactions) -> None:
    with pytest.raises(
        ConfigError, match=r"bpr: factors \(n_factors, no_components\) must be a whole number ≥ 1, got 0"
    ):
        get_class("bpr")(factors=0).fit(tiny)
    # every name that sets it is named, Surprise's compound lr_all too
    with pytest.raises(ConfigError, match=r"svd: learning_rate \(lr, lr_all\) must be a number > 0"):
        get_class("svd")(lr=0)


def _create_or_skip(name: str, **params: Any) -> BaseRecommender:
    """``registry.create`` (the one entry point of --params, config files and Recommender), skipping a model
    whose optional library is missing here."""
    try:
        get_class(name)
    except ConfigError as exc:
        pytest.skip(str(exc))
    return create(name, **params)


# Surprise's spellings with an exact counterpart: (model, as a Surprise user types them, what they mean here)
SURPRISE_NAMES = [
    ("svd", {"lr_all": 0.01}, {"learning_rate": 0.01, "lr_bias": 0.01}),
    ("svd", {"reg_all": 0.05}, {"regularization": 0.05, "reg_bias": 0.05}),
    ("svd", {"init_std_dev": 0.2}, {"init_std": 0.2}),
    # a part given by its own name wins over the compound, whichever part it is (Surprise's rule)
    ("svd", {"lr_all": 0.01, "lr_bias": 0.03}, {"learning_rate": 0.01, "lr_bias": 0.03}),
    ("svd", {"lr_all": 0.01, "learning_rate": 0.03}, {"learning_rate": 0.03, "lr_bias": 0.01}),
    ("svd", {"reg_all": 0.05, "lr": 0.02}, {"learning_rate": 0.02, "regularization": 0.05}),
    # ... and a part given as None is not given (Surprise: ``lr_bu if lr_bu is not None else lr_all``)
    ("svd", {"reg_all": 0.05, "reg_bias": None}, {"regularization": 0.05, "reg_bias": 0.05}),
    ("svdpp", {"lr_all": 0.01}, {"learning_rate": 0.01}),
    ("svdpp", {"reg_all": 0.1, "init_std_dev": 0.3}, {"regularization": 0.1, "init_std": 0.3}),
    ("surprise:svd", {"lr_all": 0.01, "reg_all": 0.05}, {"learning_rate": 0.01, "lr_bias": 0.01}),
    ("nmf", {"n_factors": 7, "n_epochs": 9, "reg_pu": 0.1}, {"factors": 7, "epochs": 9, "reg_pu": 0.1}),
    (  # Surprise's biased NMF, bias terms by their Surprise names
        "nmf",
        {"biased": True, "lr_bu": 0.01, "reg_bi": 0.05},
        {"biased": True, "lr_bu": 0.01, "reg_bi": 0.05},
    ),
    ("co-clustering", {"n_cltr_u": 4, "n_epochs": 6}, {"n_cltr_u": 4, "epochs": 6}),
    ("baseline", {"reg": 0.1, "n_epochs": 5}, {"regularization": 0.1, "epochs": 5}),
    ("knn-basic", {"k": 7, "min_k": 2}, {"k": 7, "min_k": 2}),
]


@pytest.mark.parametrize(("name", "given", "canonical"), SURPRISE_NAMES)
def test_surprise_names_build_the_model_under_our_names(
    name: str, given: dict[str, Any], canonical: dict[str, Any], bundled: Any
) -> None:
    import movierec

    model = _create_or_skip(name, **given)
    params = model.get_params()
    assert {k: params[k] for k in canonical} == canonical
    assert not set(params) - set(model._param_names())  # only our names are recorded
    translated = get_class(name).canonical_params(given)
    assert {k: translated[k] for k in canonical} == canonical and set(translated) <= set(params)
    assert type(model)().set_params(**given).get_params() == params
    rec = movierec.Recommender(bundled, name, **given)  # the notebook's entry point
    assert {k: rec.model.get_params()[k] for k in canonical} == canonical


def test_lr_all_follows_surprises_rule_for_its_parts() -> None:
    """Surprise's own SVD given the same names sets each learning rate and regularisation term as ours does."""
    surprise = pytest.importorskip("surprise")
    cases = [
        ({"lr_all": 0.01}, {}),
        ({"lr_all": 0.01, "lr_bu": 0.03, "lr_bi": 0.03}, {"lr_bias": 0.03}),
        ({"lr_all": 0.01, "lr_pu": 0.04, "lr_qi": 0.04}, {"learning_rate": 0.04}),
        ({"reg_all": 0.05, "reg_bu": None, "reg_bi": None}, {"reg_bias": None}),
        (
            {"reg_all": 0.05, "reg_pu": 0.2, "reg_qi": 0.2, "reg_bu": 0.1, "reg_bi": 0.1},
            {"regularization": 0.2, "reg_bias": 0.1},
        ),
    ]
    for theirs_given, parts in cases:
        compounds = {k: v for k, v in theirs_given.items() if k.endswith("_all")}
        theirs = surprise.SVD(**theirs_given)
        ours = create("svd", **compounds, **parts)
        lr_bias = ours.learning_rate if ours.lr_bias is None else ours.lr_bias
        reg_bias = ours.regularization if ours.reg_bias is None else ours.reg_bias
        assert (theirs.lr_pu, theirs.lr_qi, theirs.lr_bu, theirs.lr_bi) == (
            ours.learning_rate,
            ours.learning_rate,
            lr_bias,
            lr_bias,
        ), theirs_given
        assert (theirs.reg_pu, theirs.reg_qi, theirs.reg_bu, theirs.reg_bi) == (
            ours.regularization,
            ours.regularization,
            reg_bias,
            reg_bias,
        ), theirs_given


def test_svd_fitted_with_lr_all_is_the_svd_fitted_with_our_names(bundled: Any) -> None:
    inter = bundled.interactions
    small = inter.subset(inter.users < 60)
    shape = {"factors": 6, "epochs": 3}
    by_surprise_names = create("svd", **shape, lr_all=0.02, reg_all=0.05).fit(small)
    by_ours = create("svd", **shape, learning_rate=0.02, regularization=0.05).fit(small)
    for attr in ("user_factors_", "item_factors_", "user_bias_", "item_bias_"):
        np.testing.assert_array_equal(getattr(by_surprise_names, attr), getattr(by_ours, attr))
    # lr_all reaches the biases too: with Surprise's default rate left on them the model differs
    slow_biases = create("svd", **shape, learning_rate=0.02, regularization=0.05, lr_bias=0.005).fit(small)
    assert not np.array_equal(slow_biases.user_bias_, by_surprise_names.user_bias_)


# Surprise's names with no exact counterpart here: (model, name, what the one line says it is called here)
UNMAPPED = [
    ("svd", "lr_bu", "Surprise's per-bias learning rates are one here, lr_bias"),
    ("svd", "reg_bi", "Surprise's per-bias regularisation terms are one here, reg_bias"),
    ("svd", "lr_qi", "one here, learning_rate"),
    ("svd", "reg_pu", "one here, regularization"),
    ("svd", "lr_yj", "model svdpp"),
    ("svdpp", "lr_yj", "one here, learning_rate (or lr_all)"),
    ("svdpp", "reg_bu", "one here, regularization (or reg_all)"),
    ("knn-basic", "sim_options", "similarity (its 'name'), user_based"),
    ("knn-means", "sim_options", "min_support, shrinkage"),
    ("knn-baseline", "bsl_options", "bsl_method (its 'method'), reg_i, reg_u, bsl_epochs"),
    ("knn-baseline", "bsl_options", "bsl_reg (its 'reg'), bsl_learning_rate (its 'learning_rate')"),
    ("baseline", "bsl_options", "method, reg_i, reg_u, epochs (its 'n_epochs')"),
    ("surprise:svd", "lr_bu", "lr_bias"),
]


@pytest.mark.parametrize(("name", "key", "says"), UNMAPPED)
def test_surprise_names_without_a_counterpart_say_what_they_are_called_here(
    name: str, key: str, says: str
) -> None:
    _create_or_skip(name)
    value: Any = {} if key.endswith("_options") else 0.01
    for attempt in (lambda: create(name, **{key: value}), lambda: create(name).set_params(**{key: value})):
        with pytest.raises(ConfigError) as exc:
            attempt()
        message = str(exc.value)
        assert message.startswith(f"{name} has no {key!r}: ") and says in message
        assert "\n" not in message and "unexpected keyword" not in message


class _Legacy(BaseRecommender):
    """A model written against the old contract: its own ``fit``, constraints declared."""

    name: ClassVar[str] = "legacy"
    _parameter_constraints: ClassVar[dict] = {
        "factors": [Interval(int, 1, None)],
        "mode": [Options("a", "b")],
    }

    def __init__(self, factors: int = 2, mode: str = "a") -> None:
        self.factors = factors
        self.mode = mode

    def fit(self, train: Interactions, **kwargs: Any) -> _Legacy:  # type: ignore[override]
        self._remember_train(train)
        self.item_factors_ = np.ones((train.n_items, self.factors), dtype=np.float32)
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        return np.zeros((len(users), self.n_items_), dtype=np.float32)


def test_a_legacy_fit_still_gets_the_final_fit(tiny: Interactions) -> None:
    assert _Legacy.fit is BaseRecommender.fit
    assert _Legacy(n_factors=3).factors == 3  # shared aliases come for free
    with pytest.raises(ConfigError, match="legacy: mode must be one of 'a', 'b', got 'c'"):
        _Legacy(mode="c").fit(tiny)
    assert _Legacy(factors=3).fit(tiny).item_factors_.shape == (tiny.n_items, 3)


@pytest.mark.parametrize(
    ("constraint", "good", "bad"),
    [
        (Interval(int, 1, None), [1, 5, np.int64(3)], [0, 2.5, True, "3", None]),
        (Interval(float, 0, 1, closed="left"), [0, 0.5, 0.999], [1.0, -0.1, float("nan"), float("inf")]),
        (Options("x", "y"), ["x", "y"], ["z", None, 1]),
        (Boolean(), [True, False, np.bool_(True)], [1, "yes", None]),
        (RandomState(), [None, 0, 2**32 - 1, np.random.default_rng(0)], ["seed", 1.5, False, -1, 2**32]),
    ],
)
def test_constraints_accept_and_refuse(constraint: Any, good: list, bad: list) -> None:
    for value in good:
        assert constraint.accepts(value), value
        validate_params("m", {"p": value}, {"p": [constraint]})
    for value in bad:
        assert not constraint.accepts(value), value
        with pytest.raises(ConfigError, match=r"m: p must be"):
            validate_params("m", {"p": value}, {"p": [constraint]})
    validate_params("m", {"p": None}, {"p": [constraint, None]})


def test_saved_models_with_old_parameter_names_still_load(tiny: Interactions, tmp_path: Any) -> None:
    import json

    svd = get_class("svd")(factors=4, epochs=2).fit(tiny)
    folder = svd.save(tmp_path / "svd")
    meta = json.loads((folder / "model.json").read_text())
    assert meta["params"]["factors"] == 4
    meta["params"] = {("n_factors" if k == "factors" else k): v for k, v in meta["params"].items()}
    (folder / "model.json").write_text(json.dumps(meta))
    again = get_class("svd").load(folder)
    assert again.factors == 4
    np.testing.assert_allclose(again.score(np.arange(3)), svd.score(np.arange(3)))


def test_load_model_loads_whichever_model_a_folder_holds(tiny: Interactions, tmp_path: Any) -> None:
    """implicit's model.save(path) has a load that reads the class from the file; here a saved folder
    needed its class (``ALS.load``), and ``BaseRecommender.load`` said only "holds a 'als' model, not
    'base'". ``load_model`` reads the name from model.json, and the class-bound error names it."""
    from movierec.errors import ArtifactError
    from movierec.models import BaseRecommender, load_model

    for name in ("itemknn", "svd"):
        model = get_class(name)().fit(tiny.to_implicit(3.0) if name == "itemknn" else tiny)
        folder = model.save(tmp_path / name)
        again = load_model(folder)
        assert type(again) is type(model)
        np.testing.assert_allclose(again.score(np.arange(3)), model.score(np.arange(3)), rtol=1e-6)
    with pytest.raises(
        ArtifactError, match=r"holds a 'svd' model, not 'base'; movierec\.models\.load_model\("
    ):
        BaseRecommender.load(tmp_path / "svd")
    with pytest.raises(ArtifactError, match="not a saved model"):
        load_model(tmp_path)


@pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")
def test_a_broken_saved_model_is_one_readable_error_and_leaves_no_file_open(
    tiny: Interactions, tmp_path: Any
) -> None:
    """arrays.npz cut short: load raised zipfile's BadZipFile (a traceback, not our one line) and np.load left
    the file open; a model.json that is not JSON or missing files already gave an ArtifactError."""
    from movierec.errors import ArtifactError

    folder = get_class("svd")(factors=4, epochs=2).fit(tiny).save(tmp_path / "svd")
    data = (folder / "arrays.npz").read_bytes()
    (folder / "arrays.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match=r"arrays\.npz: unreadable saved arrays"):
        get_class("svd").load(folder)
    (folder / "arrays.npz").write_bytes(b"")
    with pytest.raises(ArtifactError, match=r"arrays\.npz: unreadable saved arrays"):
        get_class("svd").load(folder)
    (folder / "model.json").write_text("{")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        get_class("svd").load(folder)
