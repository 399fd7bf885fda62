"""The model contract in code: tags, declared parameter constraints checked by a final fit, aliases."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, Tags, tags_of
from movierec.models.params import Boolean, Interval, Options, RandomState, validate_params
from movierec.models.registry import MODELS, get_class


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
    with pytest.raises(ConfigError, match=r"svd: learning_rate \(lr\) must be a number > 0"):
        get_class("svd")(lr=0)


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
