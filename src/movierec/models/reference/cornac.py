"""Cornac's BPR (Rendle et al. 2009; Salah, Truong & Lauw 2020, "Cornac: a comparative framework for
multimodal recommender systems") behind the movierec contract: ``cornac:bpr``; and Cornac's BiVAE
(Truong, Salah & Lauw 2021, "Bilateral Variational Autoencoder for Collaborative Filtering", WSDM),
``cornac:bivae``, the reference VAE next to our ``mult-vae``/``recvae`` (needs torch).

The reference our ``bpr`` is checked against: plain SGD at a constant learning rate, a positive pair
drawn uniformly from all training pairs and a negative item uniformly from the catalogue (skipped
when the user has it), λ on user and item factors and the item bias, no user bias. Cornac maps ids
itself; the factors are mapped back to our dense indices, and items Cornac never saw get zero
vectors and a zero bias.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import (
    REFERENCE_INSTALL,
    TORCH_INSTALL,
    BaseRecommender,
    check_positive,
    check_random_state,
)
from movierec.models.groups import SGDFactorParams, TorchTrainerParams
from movierec.models.params import NON_NEGATIVE, POSITIVE_INT, Constraint, Options
from movierec.progress import quiet_tqdm_import

__all__ = ["CornacBPR", "CornacBiVAE"]


def _cornac_dataset(train: Interactions, seed: int) -> Any:
    try:
        with quiet_tqdm_import():  # the first import of cornac, which loads tqdm.auto
            import cornac
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("the cornac:* models need cornac: pip install 'movierec[reference]'") from exc
    data = list(
        zip(train.users.tolist(), train.items.tolist(), train.ratings.astype(float).tolist(), strict=True)
    )
    return cornac.data.Dataset.from_uir(data, seed=seed)


def _to_dense_rows(mapping: dict[int, int], n: int, values: np.ndarray) -> np.ndarray:
    """Cornac's rows (indexed by its own ids) moved to our dense indices; ids it never saw get zeros."""
    ours = np.array([u for u in range(n) if u in mapping], dtype=np.int64)
    theirs = np.array([mapping[u] for u in ours], dtype=np.int64)
    out = np.zeros((n, *values.shape[1:]), dtype=np.float32)
    if len(ours):
        out[ours] = values[theirs]
    return out


class CornacBPR(SGDFactorParams, BaseRecommender):
    """``cornac.models.BPR``: ``factors`` (Cornac's ``k``), ``epochs`` (``max_iter``), ``learning_rate``,
    ``regularization`` (``lambda_reg``); ``num_threads=1`` by default so a seed gives the same model."""

    name: ClassVar[str] = "cornac:bpr"
    kind: ClassVar[str] = "implicit"
    requires: ClassVar[dict[str, str]] = {"cornac": REFERENCE_INSTALL}
    _aliases: ClassVar[dict[str, str]] = {  # Cornac's spellings
        "k": "factors",
        "max_iter": "epochs",
        "lambda_reg": "regularization",
    }
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {"num_threads": [POSITIVE_INT]}

    # the group's defaults (SGDFactorParams declares them)
    factors = 200
    epochs = 100
    regularization = 0.001

    def _fit(self, train: Interactions) -> Self:
        """Train Cornac's BPR on every training pair (features are ignored)."""
        if train.n_ratings == 0:
            raise DataError("cornac:bpr: no positive interactions to train on")
        seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
        ds = _cornac_dataset(train, seed)
        import cornac

        params = self.library_params("factors", "epochs", "learning_rate", "regularization", "num_threads")
        model = cornac.models.BPR(**params, seed=seed).fit(ds)
        self._remember_train(train)
        self.user_factors_ = _to_dense_rows(ds.uid_map, train.n_users, np.asarray(model.u_factors))
        self.item_factors_ = _to_dense_rows(ds.iid_map, train.n_items, np.asarray(model.i_factors))
        self.item_bias_ = _to_dense_rows(ds.iid_map, train.n_items, np.asarray(model.i_biases))
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """b_i + x_u · y_i, as Cornac scores."""
        self._check_fitted()
        users = self._check_users(users)
        sel = slice(None) if items is None else np.asarray(items)
        out = self.user_factors_[users] @ self.item_factors_[sel].T + self.item_bias_[sel][None, :]
        return out.astype(np.float32, copy=False)


class CornacBiVAE(TorchTrainerParams, BaseRecommender):
    """``cornac.models.BiVAECF``: ``factors`` latent dimensions (Cornac's ``k``), ``encoder_structure``
    hidden sizes of both encoders, ``act_fn``, ``likelihood`` (``pois``/``bern``/``gaus``), ``epochs``
    (``n_epochs``), ``batch_size``, ``learning_rate``, ``beta_kl``; on the CPU (``use_gpu=False``) so
    runs compare with ours.

    Defaults are Cornac's README example for MovieLens (k 50, encoder [100], tanh, Poisson, 500 epochs,
    batch 128, lr 0.001). Scores are θ_u·β_i, the logit of Cornac's sigmoid score (same ranking,
    no ties from a saturated sigmoid).
    """

    name: ClassVar[str] = "cornac:bivae"
    kind: ClassVar[str] = "implicit"
    requires: ClassVar[dict[str, str]] = {"cornac": REFERENCE_INSTALL, "torch": TORCH_INSTALL}
    _aliases: ClassVar[dict[str, str]] = {"k": "factors", "n_epochs": "epochs"}  # Cornac's spellings
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "act_fn": [Options("sigmoid", "tanh", "elu", "relu", "relu6")],
        "likelihood": [Options("pois", "bern", "gaus")],
        "beta_kl": [NON_NEGATIVE],
    }

    factors: int = 50
    encoder_structure: tuple[int, ...] | list[int] = (100,)
    act_fn: str = "tanh"
    likelihood: str = "pois"
    beta_kl: float = 1.0
    # the trainer group's defaults (TorchTrainerParams declares them)
    epochs = 500
    batch_size = 128

    def _validate_params(self) -> None:
        super()._validate_params()
        if not isinstance(self.encoder_structure, (list, tuple)):  # a number was a TypeError ("not iterable")
            raise ConfigError(
                f"{self.name}: encoder_structure must be a list of layer sizes ([100]), got {self.encoder_structure!r}"
            )
        for size in self.encoder_structure:
            check_positive("encoder_structure entry", size, integer=True)

    def _fit(self, train: Interactions) -> Self:
        """Train Cornac's BiVAE on every training pair (features are ignored)."""
        hidden = list(self.encoder_structure)
        if train.n_ratings == 0:
            raise DataError("cornac:bivae: no positive interactions to train on")
        try:
            import torch
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("cornac:bivae needs torch: pip install torch 'movierec[seq]'") from exc
        seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
        ds = _cornac_dataset(train, seed)
        import cornac

        threads = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads))
        try:
            params = self.library_params(
                "factors", "act_fn", "likelihood", "epochs", "batch_size", "learning_rate", "beta_kl"
            )
            model = cornac.models.BiVAECF(encoder_structure=hidden, **params, seed=seed, use_gpu=False).fit(
                ds
            )
        finally:
            torch.set_num_threads(threads)
        self._remember_train(train)
        theta = model.bivae.mu_theta.detach().cpu().numpy()
        beta = model.bivae.mu_beta.detach().cpu().numpy()
        self.user_factors_ = _to_dense_rows(ds.uid_map, train.n_users, theta)
        self.item_factors_ = _to_dense_rows(ds.iid_map, train.n_items, beta)
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """θ_u · β_i (Cornac ranks by sigmoid of this)."""
        self._check_fitted()
        users = self._check_users(users)
        vi = self.item_factors_ if items is None else self.item_factors_[np.asarray(items)]
        return (self.user_factors_[users] @ vi.T).astype(np.float32, copy=False)
