"""Model names → classes. Imports are lazy so the core install never needs the optional extras.

Names are kebab-case; reference backends are prefixed with their library (``surprise:svd``,
``lightfm:warp``, ``implicit:bpr``). Defaults live on the classes, not here.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from typing import Any

from movierec.errors import ConfigError

__all__ = [
    "MODELS",
    "MODEL_SWITCHES",
    "available",
    "canonical_params",
    "create",
    "get_class",
    "merge_params",
    "model_kind",
    "split_model_params",
]

# name -> (module, class, extra needed to import it or None)
MODELS: dict[str, tuple[str, str, str | None]] = {
    # explicit (Surprise-style)
    "global-mean": ("movierec.models.baseline", "GlobalMean", None),
    "baseline": ("movierec.models.baseline", "Baseline", None),
    "svd": ("movierec.models.mf", "SVD", None),
    "svdpp": ("movierec.models.mf", "SVDpp", None),
    "knn-basic": ("movierec.models.knn", "KNNBasic", None),
    "knn-means": ("movierec.models.knn", "KNNWithMeans", None),
    "knn-baseline": ("movierec.models.knn", "KNNBaseline", None),
    "knn-zscore": ("movierec.models.knn", "KNNWithZScore", None),
    "normal-predictor": ("movierec.models.classic", "NormalPredictor", None),
    "slope-one": ("movierec.models.classic", "SlopeOne", None),
    "nmf": ("movierec.models.classic", "NMF", None),
    "co-clustering": ("movierec.models.classic", "CoClustering", None),
    "bayesian-fm": ("movierec.models.bayesian", "BayesianFM", None),
    "blend": ("movierec.models.blend", "Blend", None),
    # implicit (LightFM / implicit style)
    "popularity": ("movierec.models.popularity", "Popularity", None),
    "segment-popularity": ("movierec.models.segment_popularity", "SegmentPopularity", None),
    "itemknn": ("movierec.models.itemknn", "ItemKNN", None),
    "ease": ("movierec.models.ease", "EASE", None),
    "als": ("movierec.models.als", "ALS", "reference"),
    "rp3beta": ("movierec.models.itemitem", "RP3beta", None),
    "slim": ("movierec.models.itemitem", "SLIM", None),
    "ials": ("movierec.models.ials", "IALS", None),
    "mult-vae": ("movierec.models.vae", "MultVAE", "seq"),
    "recvae": ("movierec.models.vae", "RecVAE", "seq"),
    "bpr": ("movierec.models.bpr", "BPR", None),
    "warp": ("movierec.models.bpr", "WARP", None),
    "logistic": ("movierec.models.bpr", "Logistic", None),
    "warp-kos": ("movierec.models.bpr", "WARPKOS", None),
    # sequence-aware
    "sequential-popularity": ("movierec.models.sequential", "SequentialPopularity", None),
    "markov": ("movierec.models.sequential", "Markov", None),
    "sasrec": ("movierec.models.sasrec", "SASRec", "seq"),
    "gru4rec": ("movierec.models.gru4rec", "GRU4Rec", "seq"),
    # reference backends
    "surprise:baseline": ("movierec.models.reference.surprise", "SurpriseBaseline", "reference"),
    "surprise:svd": ("movierec.models.reference.surprise", "SurpriseSVD", "reference"),
    "surprise:svdpp": ("movierec.models.reference.surprise", "SurpriseSVDpp", "reference"),
    "surprise:knn-baseline": ("movierec.models.reference.surprise", "SurpriseKNNBaseline", "reference"),
    "surprise:knn-zscore": ("movierec.models.reference.surprise", "SurpriseKNNWithZScore", "reference"),
    "surprise:slope-one": ("movierec.models.reference.surprise", "SurpriseSlopeOne", "reference"),
    "surprise:nmf": ("movierec.models.reference.surprise", "SurpriseNMF", "reference"),
    "surprise:co-clustering": ("movierec.models.reference.surprise", "SurpriseCoClustering", "reference"),
    "surprise:normal-predictor": (
        "movierec.models.reference.surprise",
        "SurpriseNormalPredictor",
        "reference",
    ),
    "lightfm:bpr": ("movierec.models.reference.lightfm", "LightFMBPR", "reference"),
    "lightfm:warp": ("movierec.models.reference.lightfm", "LightFMWARP", "reference"),
    "lightfm:logistic": ("movierec.models.reference.lightfm", "LightFMLogistic", "reference"),
    "lightfm:warp-kos": ("movierec.models.reference.lightfm", "LightFMWARPKOS", "reference"),
    "implicit:bpr": ("movierec.models.reference.implicit", "ImplicitBPR", "reference"),
    "cornac:bpr": ("movierec.models.reference.cornac", "CornacBPR", "reference"),
    "cornac:bivae": ("movierec.models.reference.cornac", "CornacBiVAE", "reference"),
    "myfm:bfm": ("movierec.models.reference.myfm", "MyFMBayesianFM", "reference"),
}


def available() -> list[str]:
    """Every registered model name whose module exists in this install."""
    out = []
    for name, (module, _cls, _extra) in MODELS.items():
        if importlib.util.find_spec(module) is not None:
            out.append(name)
    return out


def get_class(name: str) -> type:
    """The class registered under ``name``; unknown names and missing extras raise ConfigError."""
    key = name.strip().lower()
    if key not in MODELS:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(available())}")
    module, cls, extra = MODELS[key]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if extra and not exc.name.startswith("movierec"):
            raise ConfigError(
                f"model {name!r} needs the optional dependency {exc.name!r}: pip install 'movierec[{extra}]'"
            ) from exc
        raise
    return getattr(mod, cls)


def create(name: str, **params: Any) -> Any:
    """Instantiate a model by registry name with hyperparameters (validated by the class)."""
    cls = get_class(name)
    try:
        return cls(**params)
    except TypeError as exc:
        import inspect

        valid = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        raise ConfigError(f"bad hyperparameter for {name!r} ({exc}); valid: {', '.join(valid)}") from exc


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
