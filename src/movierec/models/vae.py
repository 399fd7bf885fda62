"""Variational autoencoders for collaborative filtering: Mult-VAE (Liang et al. 2018) and RecVAE
(Shenbin et al. 2020), trained in PyTorch, scored in numpy.

Both read a user's whole interaction row, encode it to a Gaussian posterior over a latent vector,
and decode the mean into a multinomial distribution over items (log-softmax likelihood). Training
needs ``torch`` (``pip install 'movierec[seq]'``); the learned weights are stored as numpy arrays
(``net.<layer>_``), so scoring, ``save``/``load`` and serving need neither torch nor pickle. A person
not in training is one more row through the encoder (``score_new_user``, the ``vae`` serving family's
fold-in: their ratings ≥ the threshold, weighed as training rows were).

- Mult-VAE: [items → 600 → 200] tanh encoder with input dropout, symmetric decoder, KL weight β
  annealed linearly from 0 to ``beta`` over training (Liang et al.'s "partially regularised" VAE).
- RecVAE: a deeper densely connected encoder (swish + layer norm), a linear decoder, a composite
  prior (standard normal, the previous epoch's posterior, a wide normal), a KL weight γ·|x_u| that
  grows with the user's history, and alternating encoder/decoder updates.
"""

from __future__ import annotations

import copy
import time
import warnings
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, Tags, check_random_state
from movierec.models.groups import TorchTrainerParams
from movierec.models.params import NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, Constraint
from movierec.models.space import FloatRange, IntRange, SearchSpace
from movierec.models.weighting import WeightedRecommender, weighted_csr

__all__ = ["MultVAE", "RecVAE"]

_PREFIX = "net."


def _torch() -> Any:
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise ConfigError("the VAE models need torch: pip install torch 'movierec[seq]'") from exc
    return torch


def _swish(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gain + bias


class _VAE(TorchTrainerParams, WeightedRecommender):
    """Shared training loop, numpy inference and persistence of the two VAEs.

    ``n_threads`` defaults to 1: torch's intra-op threads spin-wait, and on the shared 2-core machine (load
    ~14) two threads made a tiny RecVAE fit 25× slower than one.
    """

    item_vectors: ClassVar[bool | None] = True

    kind: ClassVar[str] = "implicit"
    # a new user's row goes through the encoder: the vae serving family runs the numpy forward pass
    # (scoring/vae.py), for known users, visitors and score_new_user alike
    tags: ClassVar[Tags] = Tags(fold_in="factors", serving="vae")
    _json_state: ClassVar[tuple[str, ...]] = ("history_",)

    # both VAEs' sizes and input dropout (Liang et al.'s and Shenbin et al.'s reference settings);
    # epochs, batch_size, learning_rate, n_threads and random_state are TorchTrainerParams'
    hidden: int = 600
    latent: int = 200
    dropout: float = 0.5

    def _build(self, torch: Any, n_items: int) -> Any:
        raise NotImplementedError

    def _train_epoch(self, torch: Any, net: Any, x: sp.csr_matrix, rng: np.random.Generator) -> float:
        raise NotImplementedError

    def _encode_np(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _decode_np(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Train for ``epochs`` epochs with Adam on mini-batches of users (loss per epoch in ``history_``)."""
        if train.n_ratings == 0:
            raise DataError(f"{self.name}: no interactions to train on")
        torch = _torch()
        rng = check_random_state(self.random_state)
        torch.manual_seed(int(rng.integers(0, 2**31 - 1)))
        torch.set_num_threads(int(self.n_threads))
        x = sp.csr_matrix(weighted_csr(train, self.weighting, self.half_life_days), dtype=np.float32)
        self._remember_train(train)
        self.user_items_ = x
        net = self._build(torch, x.shape[1])
        self._steps = 0
        self._steps_per_epoch = -(-x.shape[0] // int(self.batch_size))
        self.history_: list[dict[str, float]] = []
        for epoch in range(1, int(self.epochs) + 1):
            tic = time.perf_counter()
            loss = self._train_epoch(torch, net, x, rng)
            if not np.isfinite(loss):
                raise ConfigError(f"{self.name} diverged at epoch {epoch}; lower learning_rate")
            record = {"epoch": epoch, "loss": float(loss), "seconds": time.perf_counter() - tic}
            self.history_.append(record)
            if on_epoch is not None:
                self._export(net)
                if on_epoch(epoch, record) is False:
                    break
        self._export(net)
        return self

    def _export(self, net: Any) -> None:
        for key, value in net.state_dict().items():
            if not key.startswith("prior."):
                setattr(self, f"{_PREFIX}{key}_", value.detach().cpu().numpy().astype(np.float32))

    def _w(self, key: str) -> np.ndarray:
        return getattr(self, f"{_PREFIX}{key}_")

    def _forward_rows(self, rows: sp.csr_matrix) -> np.ndarray:
        x = np.asarray(rows.toarray(), dtype=np.float32)
        return self._decode_np(self._encode_np(x)).astype(np.float32)

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Decoder logits of the posterior mean of each user's training row."""
        self._check_fitted()
        users = self._check_users(users)
        out = self._forward_rows(self.user_items_[users])
        return out if items is None else out[:, np.asarray(items)]

    def item_embeddings(self) -> np.ndarray | None:
        """The last decoder layer's item vectors."""
        return None

    @staticmethod
    def _sparse_batch(torch: Any, x: sp.csr_matrix, batch: np.ndarray) -> tuple[Any, Any, Any, Any, Any]:
        """``(indptr, rows, cols, values, normalised values)`` of a batch's rows (CSR), each row L2-normalised.

        Training feeds the encoder these non-zeros (:meth:`_input`) instead of a dense batch: the first
        layer then costs O(nnz·hidden) instead of O(batch·items·hidden), in the forward pass and in its
        weight gradient (a CSR × dense product: 39 ms against 118 ms dense for 500 × 1682 at ml-100k's
        4.7% density, 600 hidden, forward + backward, one thread), and the likelihood gathers the user's
        items instead of a dense product."""
        sub = x[batch]
        sub.sort_indices()
        indptr = torch.from_numpy(sub.indptr.astype(np.int64))
        cols = torch.from_numpy(sub.indices.astype(np.int64))
        vals = torch.from_numpy(sub.data.astype(np.float32))
        rows = torch.from_numpy(np.repeat(np.arange(len(batch)), np.diff(sub.indptr)))
        norm = torch.zeros(len(batch)).index_add_(0, rows, vals * vals).sqrt_().clamp_min_(1e-12)
        return indptr, rows, cols, vals, vals / norm[rows]

    @staticmethod
    def _input(
        torch: Any, indptr: Any, cols: Any, values: Any, shape: tuple[int, int], dropout: float
    ) -> Any:
        """The encoder's sparse CSR input: input dropout on the non-zeros (Liang et al.'s
        F.dropout(F.normalize(x)); the zeros a dense dropout would touch stay zero)."""
        if dropout > 0:
            values = values * (torch.rand_like(values) >= dropout) / (1.0 - dropout)
        # torch flags sparse CSR as beta (the product we use is checked in tests); the invariants are
        # checked, O(nnz): a malformed batch raises instead of reading out of bounds
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            return torch.sparse_csr_tensor(indptr, cols, values, shape, check_invariants=True)

    def _batches(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        order = rng.permutation(n)
        size = int(self.batch_size)
        return [order[s : s + size] for s in range(0, n, size)]


class MultVAE(_VAE):
    """Mult-VAE (Liang, Krishnan, Hoffman & Jebara 2018): ``hidden``/``latent`` sizes, KL weight annealed
    linearly to ``beta`` over the first ``anneal_epochs`` epochs (so a fit stopped early equals a
    shorter fit), input ``dropout``, Adam at ``learning_rate``, ``epochs`` over ``batch_size`` users.

    Defaults are the paper's ([600, 200], β 0.2, dropout 0.5, batches of 500, Adam 1e-3) with 100 epochs,
    and ``bench/validation_study.py mult-vae [--protocol mlls]`` keeps them: on a validation split inside
    the training part they score NDCG@10 0.1607 on ml-latest-small (compare's default split; lr 3e-3:
    0.1537 at 50 epochs; 200 epochs: 0.1595) and 0.2622 on ml-100k (batches of 100: 0.2565 at 25 epochs,
    then lower; 200 epochs: 0.2432). Past its best epoch it overfits on data this small."""

    name: ClassVar[str] = "mult-vae"
    search_space: ClassVar[SearchSpace] = {
        "latent": IntRange(32, 400, log=True),
        "beta": FloatRange(0.0, 1.0),
        "dropout": FloatRange(0.0, 0.8),
        "epochs": IntRange(20, 300, log=True),
        "learning_rate": FloatRange(1e-4, 1e-2, log=True),
    }

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "beta": [NON_NEGATIVE],
        "anneal_epochs": [NON_NEGATIVE_INT],
    }

    beta: float = 0.2
    anneal_epochs: int = 20

    def _build(self, torch: Any, n_items: int) -> Any:
        nn = torch.nn
        h, z = int(self.hidden), int(self.latent)

        class Net(nn.Module):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.enc1 = nn.Linear(n_items, h)
                self.enc2 = nn.Linear(h, 2 * z)
                self.dec1 = nn.Linear(z, h)
                self.dec2 = nn.Linear(h, n_items)
                for layer in (self.enc1, self.enc2, self.dec1, self.dec2):  # Liang et al.'s initialisation
                    nn.init.xavier_uniform_(layer.weight)
                    nn.init.normal_(layer.bias, std=0.001)

        net = Net()
        self._opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate))
        return net

    def _train_epoch(self, torch: Any, net: Any, x: sp.csr_matrix, rng: np.random.Generator) -> float:
        F = torch.nn.functional
        z_dim = int(self.latent)
        total = 0.0
        for batch in self._batches(x.shape[0], rng):
            indptr, rows, cols, vals, normed = self._sparse_batch(torch, x, batch)
            inp = self._input(torch, indptr, cols, normed, (len(batch), x.shape[1]), float(self.dropout))
            h = torch.tanh(inp @ net.enc1.weight.t() + net.enc1.bias)
            stats = net.enc2(h)
            mu, logvar = stats[:, :z_dim], stats[:, z_dim:]
            zz = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            logits = net.dec2(torch.tanh(net.dec1(zz)))
            # −Σ_i x_ui log softmax_i: only the user's items enter, so gather them instead of a dense product
            nll = -(F.log_softmax(logits, dim=1)[rows, cols] * vals).sum() / len(batch)
            kl = (0.5 * (-logvar + logvar.exp() + mu**2 - 1.0)).sum(dim=1).mean()
            self._steps += 1
            ramp = max(1, int(self.anneal_epochs) * self._steps_per_epoch)
            anneal = float(self.beta) * min(1.0, self._steps / ramp)
            loss = nll + anneal * kl
            self._opt.zero_grad()
            loss.backward()
            self._opt.step()
            total += float(loss.detach()) * len(batch)
        return total / x.shape[0]

    def _encode_np(self, x: np.ndarray) -> np.ndarray:
        norm = np.sqrt((x**2).sum(axis=1, keepdims=True))
        x = x / np.maximum(norm, 1e-12)
        h = np.tanh(x @ self._w("enc1.weight").T + self._w("enc1.bias"))
        return (h @ self._w("enc2.weight").T + self._w("enc2.bias"))[:, : int(self.latent)]

    def _decode_np(self, z: np.ndarray) -> np.ndarray:
        h = np.tanh(z @ self._w("dec1.weight").T + self._w("dec1.bias"))
        return h @ self._w("dec2.weight").T + self._w("dec2.bias")

    def item_embeddings(self) -> np.ndarray | None:
        w = getattr(self, f"{_PREFIX}dec2.weight_", None)
        return None if w is None else np.asarray(w)


class RecVAE(_VAE):
    """RecVAE (Shenbin, Alekseev, Tutubalina, Malykh & Nikolenko 2020): ``hidden``/``latent`` sizes, KL
    weight ``gamma``·|x_u|, ``enc_epochs`` encoder passes (input ``dropout``) then one decoder pass per epoch.

    ``history_``'s loss is the decoder pass's negative log-likelihood (that pass needs no KL term, so
    it is not computed).

    Defaults: the paper's sizes, γ 0.005 and batches of 500, with Adam at 2e-3 for 10 epochs, the best
    point of ``bench/validation_study.py recvae --protocol mlls`` (a validation split inside the training
    part of compare's default ml-latest-small split): NDCG@10 0.1316, against 0.1294 for the paper's
    lr 5e-4 and 50 epochs; on ml-100k's validation split 0.2360 against 0.2227. It overfits after its
    first epochs on data this small, and stays below Mult-VAE on both (0.1607, 0.2622)."""

    name: ClassVar[str] = "recvae"
    search_space: ClassVar[SearchSpace] = {
        "latent": IntRange(32, 400, log=True),
        "gamma": FloatRange(1e-4, 0.05, log=True),
        "epochs": IntRange(10, 100, log=True),
        "learning_rate": FloatRange(1e-4, 5e-3, log=True),
    }
    _MIXTURE = (3 / 20, 3 / 4, 1 / 10)  # the reference code's prior weights
    _LN_EPS = 0.1

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "gamma": [POSITIVE],
        "enc_epochs": [POSITIVE_INT],
    }

    gamma: float = 0.005
    enc_epochs: int = 3
    # the trainer group's defaults (TorchTrainerParams declares them)
    epochs = 10
    learning_rate = 2e-3

    def _build(self, torch: Any, n_items: int) -> Any:
        nn = torch.nn
        h, z, eps = int(self.hidden), int(self.latent), self._LN_EPS

        class Encoder(nn.Module):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.ModuleList([nn.Linear(n_items, h)] + [nn.Linear(h, h) for _ in range(4)])
                self.ln = nn.ModuleList([nn.LayerNorm(h, eps=eps) for _ in range(5)])
                self.mu = nn.Linear(h, z)
                self.logvar = nn.Linear(h, z)

            def forward(self, x: Any, dropout: float) -> tuple[Any, Any]:
                x = torch.nn.functional.normalize(x, dim=1)
                x = torch.nn.functional.dropout(x, p=dropout, training=dropout > 0)
                return self.trunk(self.fc[0](x))

            def forward_sparse(self, inp: Any) -> tuple[Any, Any]:
                """The same network on a normalised, dropped-out sparse batch (``_sparse_batch``)."""
                return self.trunk(inp @ self.fc[0].weight.t() + self.fc[0].bias)

            def trunk(self, pre: Any) -> tuple[Any, Any]:
                hs: list[Any] = []
                for k, (fc, ln) in enumerate(zip(self.fc, self.ln, strict=True)):
                    if k:
                        pre = fc(hs[-1])
                    for h_prev in hs:  # dense connections (the reference code's h1 + h2 + …)
                        pre = pre + h_prev
                    hs.append(ln(pre * torch.sigmoid(pre)))  # swish, then layer norm
                return self.mu(hs[-1]), self.logvar(hs[-1])

        class Net(nn.Module):  # type: ignore[misc, name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.encoder = Encoder()
                self.prior = Encoder()  # the previous epoch's encoder: the composite prior's middle part
                self.prior.requires_grad_(False)
                self.decoder = nn.Linear(z, n_items)

        net = Net()
        net.prior.load_state_dict(copy.deepcopy(net.encoder.state_dict()))
        self._opt_enc = torch.optim.Adam(net.encoder.parameters(), lr=float(self.learning_rate))
        self._opt_dec = torch.optim.Adam(net.decoder.parameters(), lr=float(self.learning_rate))
        return net

    def _loss(self, torch: Any, net: Any, x: sp.csr_matrix, batch: np.ndarray, encoder_step: bool) -> Any:
        """The negative ELBO of one batch. In a decoder step the encoder runs without a graph (its
        output is a constant for the decoder's gradient); in an encoder step the decoder's weights are
        frozen, so autograd computes no gradient that the step would throw away."""
        F = torch.nn.functional
        indptr, rows, cols, vals, normed = self._sparse_batch(torch, x, batch)
        shape = (len(batch), x.shape[1])
        clean = self._input(torch, indptr, cols, normed, shape, 0.0)
        inp = self._input(torch, indptr, cols, normed, shape, float(self.dropout)) if encoder_step else clean
        with torch.set_grad_enabled(encoder_step):
            mu, logvar = net.encoder.forward_sparse(inp)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        mll = (F.log_softmax(net.decoder(z), dim=1)[rows, cols] * vals).sum() / len(batch)
        if not encoder_step:  # the KL term does not depend on the decoder
            return -mll
        log2pi = float(np.log(2 * np.pi))

        def log_pdf(v: Any, m: Any, lv: Any) -> Any:
            return -0.5 * (lv + log2pi + (v - m) ** 2 / lv.exp())

        with torch.no_grad():  # the composite prior's middle part: last epoch's encoder on the clean row
            post_mu, post_logvar = net.prior.forward_sparse(clean)
        zeros = torch.zeros_like(z)
        parts = [
            log_pdf(z, zeros, zeros) + np.log(self._MIXTURE[0]),
            log_pdf(z, post_mu, post_logvar) + np.log(self._MIXTURE[1]),
            log_pdf(z, zeros, zeros + 10.0) + np.log(self._MIXTURE[2]),
        ]
        prior = torch.logsumexp(torch.stack(parts, dim=-1), dim=-1)
        kl_weight = float(self.gamma) * torch.zeros(len(batch)).index_add_(0, rows, vals)
        kld = ((log_pdf(z, mu, logvar) - prior).sum(dim=1) * kl_weight).mean()
        return -(mll - kld)

    def _train_epoch(self, torch: Any, net: Any, x: sp.csr_matrix, rng: np.random.Generator) -> float:
        total = 0.0
        for opt, encoder_step, passes in (
            (self._opt_enc, True, int(self.enc_epochs)),
            (self._opt_dec, False, 1),
        ):
            if not encoder_step:
                net.prior.load_state_dict(copy.deepcopy(net.encoder.state_dict()))
            net.decoder.requires_grad_(not encoder_step)
            for _ in range(passes):
                total = 0.0
                for batch in self._batches(x.shape[0], rng):
                    loss = self._loss(torch, net, x, batch, encoder_step)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(batch)
        net.decoder.requires_grad_(True)
        return total / x.shape[0]

    def _encode_np(self, x: np.ndarray) -> np.ndarray:
        norm = np.sqrt((x**2).sum(axis=1, keepdims=True))
        x = x / np.maximum(norm, 1e-12)
        hs: list[np.ndarray] = []
        for k in range(5):
            inp = x if not hs else hs[-1]
            pre = inp @ self._w(f"encoder.fc.{k}.weight").T + self._w(f"encoder.fc.{k}.bias")
            for h in hs:  # dense connections: every earlier layer's output joins the pre-activation
                pre = pre + h
            hs.append(
                _layer_norm(
                    _swish(pre),
                    self._w(f"encoder.ln.{k}.weight"),
                    self._w(f"encoder.ln.{k}.bias"),
                    self._LN_EPS,
                )
            )
        return hs[-1] @ self._w("encoder.mu.weight").T + self._w("encoder.mu.bias")

    def _decode_np(self, z: np.ndarray) -> np.ndarray:
        return z @ self._w("decoder.weight").T + self._w("decoder.bias")

    def item_embeddings(self) -> np.ndarray | None:
        w = getattr(self, f"{_PREFIX}decoder.weight_", None)
        return None if w is None else np.asarray(w)
