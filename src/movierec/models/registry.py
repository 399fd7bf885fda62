"""Model names → classes. Imports are lazy so the core install never needs the optional extras.

Names are kebab-case; reference backends are prefixed with their library (``surprise:svd``,
``lightfm:warp``, ``implicit:bpr``). Defaults live on the classes, not here.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from movierec.errors import ConfigError, Doors, did_you_mean, framed
from movierec.models.base import BaseRecommender, saved_model_meta

__all__ = [
    "FOREIGN_MODELS",
    "MODELS",
    "MODEL_SWITCHES",
    "available",
    "base_specs",
    "canonical_params",
    "check_requirements",
    "create",
    "get_class",
    "load_model",
    "merge_params",
    "missing_module",
    "missing_requirement",
    "model_attribute_hint",
    "model_kind",
    "own_model",
    "registered_name",
    "split_model_params",
    "user_feature_models",
]


def _module(
    module: str, extra: str | None, classes: dict[str, str]
) -> dict[str, tuple[str, str, str | None]]:
    """``{name: (module, class, extra)}`` for the models one module defines."""
    return {name: (module, cls, extra) for name, cls in classes.items()}


# name -> (module, class, extra needed to import it or None), written per module
MODELS: dict[str, tuple[str, str, str | None]] = {
    # explicit (Surprise-style)
    **_module("movierec.models.baseline", None, {"global-mean": "GlobalMean", "baseline": "Baseline"}),
    **_module("movierec.models.mf", None, {"svd": "SVD", "svdpp": "SVDpp"}),
    **_module(
        "movierec.models.knn",
        None,
        {
            "knn-basic": "KNNBasic",
            "knn-means": "KNNWithMeans",
            "knn-baseline": "KNNBaseline",
            "knn-zscore": "KNNWithZScore",
        },
    ),
    **_module(
        "movierec.models.classic",
        None,
        {
            "normal-predictor": "NormalPredictor",
            "slope-one": "SlopeOne",
            "nmf": "NMF",
            "co-clustering": "CoClustering",
        },
    ),
    **_module("movierec.models.itemknn_explicit", None, {"itemknn-explicit": "ItemKNNExplicit"}),
    **_module("movierec.models.bayesian", None, {"bayesian-fm": "BayesianFM"}),
    **_module("movierec.models.blend", None, {"blend": "Blend"}),
    # implicit (LightFM / implicit style)
    **_module("movierec.models.popularity", None, {"popularity": "Popularity"}),
    **_module("movierec.models.segment_popularity", None, {"segment-popularity": "SegmentPopularity"}),
    **_module("movierec.models.itemknn", None, {"itemknn": "ItemKNN"}),
    **_module("movierec.models.ease", None, {"ease": "EASE", "user-ease": "UserEASE"}),
    **_module("movierec.models.ensemble", None, {"ensemble": "Ensemble"}),
    **_module("movierec.models.als", "reference", {"als": "ALS"}),
    **_module("movierec.models.itemitem", None, {"rp3beta": "RP3beta", "slim": "SLIM"}),
    **_module("movierec.models.ials", None, {"ials": "IALS"}),
    **_module("movierec.models.vae", "seq", {"mult-vae": "MultVAE", "recvae": "RecVAE"}),
    **_module(
        "movierec.models.bpr",
        None,
        {"bpr": "BPR", "warp": "WARP", "logistic": "Logistic", "warp-kos": "WARPKOS"},
    ),
    # sequence-aware
    **_module(
        "movierec.models.sequential",
        None,
        {"sequential-popularity": "SequentialPopularity", "markov": "Markov"},
    ),
    **_module("movierec.models.sasrec", "seq", {"sasrec": "SASRec"}),
    **_module("movierec.models.gru4rec", "seq", {"gru4rec": "GRU4Rec"}),
    # reference backends
    **_module(
        "movierec.models.reference.surprise",
        "reference",
        {
            "surprise:baseline": "SurpriseBaseline",
            "surprise:svd": "SurpriseSVD",
            "surprise:svdpp": "SurpriseSVDpp",
            "surprise:knn-baseline": "SurpriseKNNBaseline",
            "surprise:knn-zscore": "SurpriseKNNWithZScore",
            "surprise:slope-one": "SurpriseSlopeOne",
            "surprise:nmf": "SurpriseNMF",
            "surprise:co-clustering": "SurpriseCoClustering",
            "surprise:normal-predictor": "SurpriseNormalPredictor",
        },
    ),
    **_module(
        "movierec.models.reference.lightfm",
        "reference",
        {
            "lightfm:bpr": "LightFMBPR",
            "lightfm:warp": "LightFMWARP",
            "lightfm:logistic": "LightFMLogistic",
            "lightfm:warp-kos": "LightFMWARPKOS",
        },
    ),
    **_module("movierec.models.reference.implicit", "reference", {"implicit:bpr": "ImplicitBPR"}),
    **_module(
        "movierec.models.reference.cornac",
        "reference",
        {"cornac:bpr": "CornacBPR", "cornac:bivae": "CornacBiVAE"},
    ),
    **_module("movierec.models.reference.myfm", "reference", {"myfm:bfm": "MyFMBayesianFM"}),
}


def available() -> list[str]:
    """Every registered model name whose module exists in this install."""
    out = []
    for name, (module, _cls, _extra) in MODELS.items():
        if importlib.util.find_spec(module) is not None:
            out.append(name)
    return out


def user_feature_models() -> list[str]:
    """Registered models that learn from user side features (``uses_user_features``) and import here.

    Each model's module is imported to ask its class, so this is for messages, not a hot path."""
    out = []
    for name in available():
        try:
            cls = get_class(name)
        except (ConfigError, ImportError):
            continue
        if getattr(cls, "uses_user_features", False):
            out.append(name)
    return out


def item_feature_models() -> list[str]:
    """Registered models whose ``fit`` takes item features and that import here, ease first (the usual
    pick), the reference libraries' ``lib:*`` folded into one name each: for messages naming the fix, so
    they never fall behind the registry as a written list would.

    Each model's module is imported to ask its class, so this is for messages, not a hot path."""
    from movierec.models.base import fit_options

    out: list[str] = []
    for name in available():
        try:
            cls = get_class(name)
        except (ConfigError, ImportError):
            continue
        if "item_features" in fit_options(cls):
            short = f"{name.split(':')[0]}:*" if ":" in name else name
            out += [] if short in out else [short]
    return sorted(out, key=lambda n: n != "ease")


def load_model(path: str | Path) -> BaseRecommender:
    """The model :meth:`BaseRecommender.save` wrote into folder ``path``, whichever it is: its
    ``model.json`` names the class, so the caller need not know it (``BaseRecommender.load`` and
    ``ALS.load`` load one class's models only)."""
    meta = saved_model_meta(path)
    return get_class(str(meta.get("model"))).load(path)


_LK_BIAS = Doors(
    "LensKit's BiasScorer is baseline here: BiasScorer(damping=d) is baseline(reg_i=d, reg_u=d, epochs=1)",
    "LensKit's BiasScorer is baseline here: BiasScorer(damping=d) is baseline with --params "
    "reg_i=d,reg_u=d,epochs=1",
)
_LK_POP = Doors(
    "LensKit's PopScorer is popularity here, which counts ratings ≥ the threshold: "
    "Recommender(ds, 'popularity', threshold=0.5) counts every rating, as PopScorer does",
    "LensKit's PopScorer is popularity here; --implicit-threshold 0.5 makes it count every rating, as "
    "PopScorer does",
)
_LK_ITEM_KNN = (
    "LensKit's ItemKNNScorer(feedback='implicit') is closest to itemknn (cosine; its k= neighbours are "
    "kept per movie when fitting, not max_nbrs picked per target); its default, feedback='explicit', is "
    "itemknn-explicit (the same predictions; max_nbrs=, min_nbrs=, min_sim= as LensKit's)"
)
_LK_USER_KNN = (
    "LensKit's UserKNNScorer is closest to knn-means with user_based=True (Surprise's user-based kNN)"
)
_LK_IMPLICIT_MF = (
    "LensKit's ImplicitMFScorer is ials here (implicit ALS, Hu et al. 2008; embedding_size= is factors=)"
)
_LK_BIASED_MF = (
    "LensKit's BiasedMFScorer (biased MF by ALS) is closest to svd here (the same model learned by SGD, "
    "Surprise's SVD; embedding_size= is factors=)"
)
#: LensKit's model names (2025's scorer classes and 0.14's algorithm classes, as typed with or without
#: 'Scorer') → where the model is here: one line, where "unknown model 'bias' (did you mean 'ials'?)"
#: pointed the wrong way. None is an alias: their defaults differ from ours (docs/from-lenskit.md). A
#: line whose fix is spelled differently in Python and the CLI is a :class:`Doors` (popularity's threshold)
FOREIGN_MODELS: dict[str, str] = {
    **dict.fromkeys(("biasscorer", "bias"), _LK_BIAS),
    **dict.fromkeys(("popscorer", "popular", "pop"), _LK_POP),
    **dict.fromkeys(("itemknnscorer", "itemitem", "item-knn", "item_knn"), _LK_ITEM_KNN),
    **dict.fromkeys(("userknnscorer", "useruser", "userknn", "user-knn", "user_knn"), _LK_USER_KNN),
    **dict.fromkeys(("implicitmfscorer", "implicitmf", "implicit-mf"), _LK_IMPLICIT_MF),
    **dict.fromkeys(("biasedmfscorer", "biasedmf", "biased-mf"), _LK_BIASED_MF),
    **dict.fromkeys(
        ("funksvdscorer", "funksvd"), "LensKit's FunkSVDScorer is svd here (Funk's SGD biased MF)"
    ),
    # the names the README and papers use: 'svd++' was read as svd with item features '+' ("give the
    # model as svd and its item features apart (--item-features ,)"), 'implicit:als' got "did you mean
    # 'implicit:bpr'?", 'lightfm' "did you mean 'lightfm:bpr'?", a reference backend recommend refuses
    "svd++": "SVD++ (Surprise's SVDpp) is svdpp here",
    "implicit:als": "implicit's AlternatingLeastSquares is als here (it runs implicit's own solver)",
    "lightfm": "LightFM's model is warp, bpr, logistic or warp-kos here, by its loss= (LightFM(loss='warp') "
    "is warp); lightfm:warp and the others run LightFM itself, beside them in compare",
}


#: reference backends whose movierec counterpart is not named by the part after the colon
_OWN_MODEL = {"myfm:bfm": "bayesian-fm", "cornac:bivae": "recvae (or mult-vae)"}


def own_model(reference: str) -> str:
    """The movierec model a reference backend stands beside, for a message that sends a reader to it:
    ``lightfm:warp`` → ``warp``, ``myfm:bfm`` → ``bayesian-fm``. The CLI's refusal to serve lists from one
    and export's refusal each worked it out, and export's said 'bfm' and 'bivae', which are no models."""
    key = reference.strip().lower()
    return _OWN_MODEL.get(key, key.split(":", 1)[-1])


def unknown_model(name: str, names: list[str], guesses: Iterable[str] = ()) -> Doors:
    """The message for a model name not among ``names`` ("unknown model 'eas' ..."): with a close match,
    that match and where each door lists them all (``movierec.models.available()`` in Python, ``movierec
    models`` in the CLI: a :class:`~movierec.errors.Doors`); with none, the commonest first picks and the
    same place. The 52 names after the guess made one 725-character line (10 lines at 80 columns) that
    buried it. ``guesses``: the names to guess from, where they are more than ``names`` (a registered model
    not installed here)."""
    guess = did_you_mean(name, guesses or names)
    if guess:
        said = f"unknown model {name!r}{guess}"
    else:
        said = f"unknown model {name!r}; e.g. {', '.join(n for n in _FIRST_PICKS if n in names)}"
    return Doors(
        f"{said}; all {len(names)} models: movierec.models.available()",
        f"{said}; all {len(names)} models: movierec models",
    )


#: the models a newcomer most often starts from, named where a mistyped model has no close match
_FIRST_PICKS = ("svd", "ease", "als", "popularity")

#: Surprise's, LightFM's and implicit's class names for a model registered here under another word, as a
#: notebook types them after ``import movierec`` (``movierec.LightFM()``): the model, and why it is that one
_OTHER_CLASSES = {
    "baselineonly": ("baseline", "Surprise's BaselineOnly is baseline here"),
    "lightfm": ("warp", FOREIGN_MODELS["lightfm"]),
    "alternatingleastsquares": ("als", "implicit's AlternatingLeastSquares is als here"),
    "bayesianpersonalizedranking": (
        "bpr",
        "implicit's BayesianPersonalizedRanking is bpr here (LightFM's model; implicit:bpr runs implicit's own)",
    ),
}


def _folded(word: str) -> str:
    return word.lower().replace("-", "").replace("_", "")


def model_attribute_hint(word: str) -> str | None:
    """How to get the model ``word`` names, for the package's AttributeError: ``movierec.SVD()`` (Surprise's
    ``SVD()``) said only "module 'movierec' has no attribute 'SVD'". ``word`` is a registered name or its
    class's, in any case, ``_`` or nothing for ``-`` (``SVD``, ``knn_basic``, ``KNNBasic``), or another
    library's class name (:data:`_OTHER_CLASSES`); the reference backends (``surprise:svd``) are left out,
    as their classes are for parity checks. ``None`` for a word that names no model here."""
    key = _folded(word)
    for name, (module, cls, _extra) in MODELS.items():
        if ":" not in name and key in (_folded(name), cls.lower()):
            return f"a model is picked by its name: {_recommender_call(name)} (the class itself: from {module} import {cls})"
    if key in _OTHER_CLASSES:
        name, why = _OTHER_CLASSES[key]
        return f"{why}; a model is picked by its name: {_recommender_call(name)}"
    return None


def _recommender_call(name: str) -> str:
    return f"movierec.Recommender(ds, {name!r}) with ds = movierec.load('ml-latest-small')"


def get_class(name: str) -> type[BaseRecommender]:
    """The class registered under ``name``; unknown names and missing extras raise ConfigError."""
    module, cls, extra = MODELS[registered_name(name)]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if extra and not (exc.name or "").startswith("movierec"):
            raise ConfigError(
                f"model {name!r} needs the optional dependency {exc.name!r}: pip install 'movierec[{extra}]'"
            ) from exc
        raise
    return getattr(mod, cls)


def registered_name(name: str) -> str:
    """``name`` as :data:`MODELS` spells it (``' SVD '`` → ``'svd'``), or the one ConfigError for a name
    that is not a model here, which every entry point gives (:func:`get_class`, ``movierec models NAME``):
    another library's name for a model (:data:`FOREIGN_MODELS`), the report's ``NAME+feature`` form, two
    models where one goes, or a typo (:func:`unknown_model`). ``movierec models`` wrote its own copy of
    the first and last, and answered ``svd+genres`` and ``svd,ease`` with the whole list of 52 names or a
    guess at one of the two, where Python named the fix."""
    key = name.strip().lower()
    if key not in MODELS and key in FOREIGN_MODELS:  # before NAME+feature: 'svd++' is SVD++, not svd
        raise ConfigError(framed(FOREIGN_MODELS[key], lambda why: f"unknown model {name!r}: {why}"))
    base, plus, feats = key.partition("+")
    # the report's per-model form (NAME+feature), typed where one option gives every model its features
    if plus and base in MODELS:
        given = feats.replace("+", ",")

        def apart(how: str) -> str:
            return f"unknown model {name!r}: give the model and its features apart, {how} (NAME+feature is the report's form)"

        raise ConfigError(
            Doors(
                apart(f"{base!r} with item_features={given!r}"), apart(f"{base} with --item-features {given}")
            )
        )
    parts = [p.strip() for p in key.split(",") if p.strip()]
    if len(parts) > 1 and all(p.partition("+")[0] in MODELS for p in parts):
        # 'svd,ease' where one model goes: "did you mean 'ease'?" guessed at one of the two that were meant
        said = (
            f"{name!r} names {len(parts)} models where one goes: run it once per model "
            f"({' and '.join(repr(p) for p in parts[:3])}{', …' if len(parts) > 3 else ''}), or compare them "
            "side by side"
        )
        few = len(parts) <= 3  # the models themselves, where the command stays within two rows
        raise ConfigError(
            Doors(
                f"{said} (compare(ds, {parts if few else '[...]'}))",
                f"{said} (compare --models {','.join(parts) if few else '…'})",
            )
        )
    if key not in MODELS:
        raise ConfigError(unknown_model(name, available(), MODELS))
    return key


def base_specs(
    owner: str,
    bases: Mapping[str, Any] | None,
    default: Mapping[str, Any],
    *,
    example: str,
    refuse: Callable[[type[BaseRecommender]], str | None],
) -> list[tuple[str, str, dict[str, Any]]]:
    """``[(label, registered name, params), …]`` of a model made of registered models (blend, ensemble).

    ``bases`` is a table ``{name or "name#label": params}`` (``None``: ``default``); ``refuse(cls)``
    says why a base cannot serve (``"is not a rating model (…)"``), or ``None``. ConfigErrors name
    ``owner`` and the base.
    """
    table = default if bases is None else bases
    if not isinstance(table, Mapping) or not table:
        raise ConfigError(f"{owner} bases must be a non-empty table of model name → params, e.g. {example}")
    article = "an" if owner[:1] in "aeiou" else "a"
    out = []
    for label, params in table.items():
        name = str(label).split("#", 1)[0].strip().lower()
        if name == owner:
            raise ConfigError(f"{article} {owner} cannot contain another {owner}")
        cls = get_class(name)
        why = refuse(cls) or missing_requirement(cls)
        if why:
            raise ConfigError(f"{owner} base {name!r} {why}")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ConfigError(f"{owner} base {label!r}: params must be a table, got {params!r}")
        out.append((str(label), name, dict(params)))
    return out


def missing_module(cls: type[BaseRecommender]) -> tuple[str, str] | None:
    """``(module, install command)`` of the first module in ``cls.requires`` this install lacks, else
    ``None``. Checked with ``find_spec`` (nothing is imported: torch alone takes seconds to import)."""
    for module, install in getattr(cls, "requires", {}).items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package missing, or a module left half-imported
            found = False
        if not found:
            return module, install
    return None


def missing_requirement(cls: type[BaseRecommender]) -> str | None:
    """``"needs torch: pip install …"`` when :func:`missing_module` finds one missing, else ``None``."""
    missing = missing_module(cls)
    return None if missing is None else f"needs {missing[0]}: {missing[1]}"


def check_requirements(name: str, cls: type[BaseRecommender] | None = None) -> None:
    """ConfigError ``model 'sasrec' needs torch: pip install …`` when model ``name`` cannot train here."""
    why = missing_requirement(cls if cls is not None else get_class(name))
    if why:
        raise ConfigError(f"model {name!r} {why}")


def create(name: str, **params: Any) -> BaseRecommender:
    """Instantiate a model by registry name with hyperparameters (validated by the class).

    A model whose optional modules are missing (:attr:`BaseRecommender.requires`) is refused here, and
    so is a value its declared constraints refuse (``factors=-1``, ials' ``weighting="rating"``), so
    ``compare``, ``tune`` and ``export``, which create every model before training any, stop at once:
    not after the models before it have trained, as when ``fit`` was the first to check."""
    cls = get_class(name)
    check_requirements(name, cls)
    try:
        model = cls(**params)
    except TypeError as exc:  # reworded below, its traceback left out (one traceback in a notebook)
        import inspect

        valid = [p for p in inspect.signature(cls).parameters if p != "self"]
        bad = re.search(r"unexpected keyword argument '([^']+)'", str(exc))
        unknown = [k for k in params if k not in valid]  # 'GlobalMean() takes no arguments' names none
        # what a reference library's name is called here (svd's lr_bu), or the closest name
        if bad or unknown:
            key = bad[1] if bad else unknown[0]
            raise ConfigError(cls.unknown_param_error(key)) from None  # the TypeError, reworded
        raise ConfigError(f"bad hyperparameter for {name!r} ({exc}); valid: {', '.join(valid)}") from None
    model._validate_params()
    return model


def idle_notes(name: str, given: dict[str, Any]) -> list[str]:
    """One sentence per hyperparameter in ``given`` that changes nothing with the model's other parameters
    (:class:`~movierec.models.params.ActsWhen`): ``--params shrinkage=50`` on knn-basic, whose MSD
    similarity Surprise never shrinks, trained the same model without a word. Empty for a name that is not
    a registered model or parameters its class refuses (``create`` says why)."""
    from movierec.models.params import idle_params

    try:
        cls = get_class(name)
        params = cls(**given).get_params()
        # a reference library's spelling (baseline's lr, svd's lr_all) is judged under the name it sets
        own = canonical_params(name, given)
    except (ConfigError, ImportError, TypeError, ValueError):
        return []
    typed = {c: a for a in given for c in canonical_params(name, {a: given[a]}) if c != a}
    return [
        f"{name}: {key}{f' (given as {typed[key]})' if key in typed else ''} {why}, so it changes nothing"
        for key, why in idle_params(cls, own, params).items()
    ]


def model_kind(name: str) -> str:
    """``explicit`` or ``implicit`` for a registered model name."""
    from movierec.models.base import tags_of

    return tags_of(get_class(name)).kind


def canonical_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` under model ``name``'s own hyperparameter names (``n_factors`` → ``factors``…)."""
    canon = getattr(get_class(name), "canonical_params", None)
    return canon(params) if callable(canon) else dict(params)


def merge_params(name: str, *layers: dict[str, Any]) -> dict[str, Any]:
    """Later layers override earlier ones, whichever spelling (canonical or alias) each layer uses."""
    out: dict[str, Any] = {}
    for layer in layers:
        out.update(canonical_params(name, layer))
    return out


# A search-space entry whose value picks the registered model instead of a constructor argument:
# BPR and WARP are one factorisation with two losses (Rendle et al. 2009; Weston et al. 2011).
MODEL_SWITCHES: dict[str, dict[str, str]] = {
    "loss": {"bpr": "bpr", "warp": "warp", "logistic": "logistic", "warp-kos": "warp-kos"}
}


def split_model_params(model: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(registered model, constructor params) for a trial's params, applying :data:`MODEL_SWITCHES`."""
    out = dict(params)
    for key, targets in MODEL_SWITCHES.items():
        if key in out and model in targets.values():
            if key not in get_class(model)._param_names():
                model = targets[str(out.pop(key))]
    return model, out
