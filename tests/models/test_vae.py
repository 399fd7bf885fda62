"""Mult-VAE and RecVAE: contract, numpy inference equal to the torch forward pass, learning on real data."""

from __future__ import annotations

import numpy as np
import pytest

from contract import check_contract
from movierec.errors import ConfigError
from movierec.interactions import IdMap, Interactions
from movierec.models.vae import MultVAE, RecVAE

torch = pytest.importorskip("torch")

SMALL = {"hidden": 16, "latent": 8, "epochs": 3, "batch_size": 16}


@pytest.mark.parametrize("name", ["mult-vae", "recvae"])
def test_contract(tiny: Interactions, tmp_path, name: str) -> None:
    model = check_contract(name, tiny.to_implicit(3.0), tmp_path, **SMALL)
    assert len(model.history_) == 3 and np.isfinite([h["loss"] for h in model.history_]).all()
    new = model.score_new_user(np.array([1, 2, 3]))
    assert new.shape == (tiny.n_items,) and np.isfinite(new).all()


def test_numpy_inference_matches_torch_forward(tiny: Interactions) -> None:
    train = tiny.to_implicit(3.0)
    rows = torch.from_numpy(train.csr().toarray().astype(np.float32))
    F = torch.nn.functional
    mult = MultVAE(**SMALL).fit(train)
    net = mult._build(torch, train.n_items)
    net.load_state_dict({k[4:-1]: torch.from_numpy(v) for k, v in vars(mult).items() if k.startswith("net.")})
    with torch.no_grad():
        mu = net.enc2(torch.tanh(net.enc1(F.normalize(rows, dim=1))))[:, :8]
        want = net.dec2(torch.tanh(net.dec1(mu))).numpy()
    np.testing.assert_allclose(mult.score(np.arange(train.n_users)), want, rtol=1e-4, atol=1e-4)
    rec = RecVAE(**SMALL).fit(train)
    net = rec._build(torch, train.n_items)
    state = {k[4:-1]: torch.from_numpy(v) for k, v in vars(rec).items() if k.startswith("net.")}
    net.load_state_dict(
        {**state, **{f"prior.{k[8:]}": v for k, v in state.items() if k.startswith("encoder.")}}
    )
    with torch.no_grad():
        want = net.decoder(net.encoder(rows, 0.0)[0]).numpy()
    np.testing.assert_allclose(rec.score(np.arange(train.n_users)), want, rtol=1e-4, atol=1e-4)


def _blocks(n_users: int = 60, n_items: int = 40, seed: int = 0) -> Interactions:
    """Two communities: users of group g interact with ~half of group g's items and nothing else."""
    rng = np.random.default_rng(seed)
    group_u = np.arange(n_users) % 2
    group_i = np.arange(n_items) % 2
    mask = (group_u[:, None] == group_i[None, :]) & (rng.random((n_users, n_items)) < 0.5)
    u, i = np.nonzero(mask)
    return Interactions(u, i, np.ones(len(u)), IdMap(np.arange(n_users)), IdMap(np.arange(n_items)))


@pytest.mark.parametrize("cls", [MultVAE, RecVAE])
def test_learns_the_communities(cls: type) -> None:
    train = _blocks()
    model = cls(hidden=32, latent=8, epochs=40, batch_size=20, learning_rate=1e-2, dropout=0.2).fit(train)
    recs, _ = model.recommend(np.arange(train.n_users), k=5)
    same = (recs % 2) == (np.arange(train.n_users) % 2)[:, None]
    assert same.mean() > 0.9, same.mean()
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]


def test_bad_parameters(tiny: Interactions) -> None:
    with pytest.raises(ConfigError, match="dropout"):
        MultVAE(dropout=1.0).fit(tiny)
    with pytest.raises(ConfigError, match="gamma"):
        RecVAE(gamma=0).fit(tiny)


def test_sparse_training_batch_equals_the_dense_one(tiny: Interactions) -> None:
    """The sparse CSR batch the training loops use: same normalised input, same first-layer product and
    weight gradient, same multinomial likelihood as the dense batch of the papers' code."""
    F = torch.nn.functional
    x = tiny.to_implicit(3.0).csr().astype(np.float32)
    batch = np.array([4, 0, 7, 2])
    dense = torch.from_numpy(x[batch].toarray())
    indptr, rows, cols, vals, normed = MultVAE._sparse_batch(torch, x, batch)
    inp = MultVAE._input(torch, indptr, cols, normed, (len(batch), x.shape[1]), 0.0)
    np.testing.assert_allclose(inp.to_dense().numpy(), F.normalize(dense, dim=1).numpy(), rtol=1e-6)
    w = torch.randn(5, x.shape[1], requires_grad=True)
    (inp @ w.t()).pow(2).sum().backward()
    g_sparse = w.grad.clone()
    w.grad = None
    (F.normalize(dense, dim=1) @ w.t()).pow(2).sum().backward()
    np.testing.assert_allclose(g_sparse.numpy(), w.grad.numpy(), rtol=1e-5, atol=1e-6)
    logp = F.log_softmax(torch.randn(len(batch), x.shape[1]), dim=1)
    np.testing.assert_allclose(float((logp[rows, cols] * vals).sum()), float((logp * dense).sum()), rtol=1e-5)
    torch.manual_seed(0)
    dropped = MultVAE._input(torch, indptr, cols, normed, (len(batch), x.shape[1]), 0.5).to_dense().numpy()
    kept = dropped[dense.numpy() > 0]
    assert (dropped[dense.numpy() == 0] == 0).all() and 0 < (kept > 0).sum() < len(kept)
