"""Recommender models: one module per family, all following the contract in :mod:`movierec.models.base`."""

from movierec.models.base import BaseRecommender, ExplicitRecommender, Recommender, topk
from movierec.models.registry import available, create, get_class, load_model

__all__ = [
    "BaseRecommender",
    "ExplicitRecommender",
    "Recommender",
    "available",
    "create",
    "get_class",
    "load_model",
    "topk",
]
