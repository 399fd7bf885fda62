"""Mult-VAE and RecVAE training speed: ours against a straightforward plain PyTorch loop (issue 19).

    PYTHONPATH=src python bench/bench_vae.py [--repeat 3] [--models mult-vae recvae]

The reference loops are what the papers' code does, written plainly: each batch of users becomes a
dense tensor (``X[batch].toarray()``), ``F.normalize`` + ``F.dropout``, the same network (built by our
``_build``, so the architecture, initialisation and optimiser are identical), the multinomial
likelihood as a dense product, and for RecVAE one ``loss.backward()`` through the whole model in every
step (Shenbin et al.'s code). Ours (``movierec.models.vae``) feeds the encoder a sparse CSR batch,
gathers the likelihood at the user's items, and skips gradients a step throws away. Data: the bundled
ml-latest-small, ``compare``'s default implicit training split (610 users × 9,724 items, positives
≥ 4); seconds per epoch = median over ``EPOCHS`` epochs, median of ``--repeat`` runs, alternated. One
torch thread each. The load average goes into the row's notes.
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import make_row, parse_mode, write_some_results  # noqa: E402

EPOCHS = 3


def _plain_multvae_epoch(model: Any, torch: Any, net: Any, x: Any, rng: np.random.Generator) -> float:
    F = torch.nn.functional
    z_dim, total = int(model.latent), 0.0
    for batch in model._batches(x.shape[0], rng):
        xb = torch.from_numpy(x[batch].toarray())
        inp = F.dropout(F.normalize(xb, dim=1), p=float(model.dropout), training=True)
        stats = net.enc2(torch.tanh(net.enc1(inp)))
        mu, logvar = stats[:, :z_dim], stats[:, z_dim:]
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = net.dec2(torch.tanh(net.dec1(z)))
        nll = -(F.log_softmax(logits, dim=1) * xb).sum(dim=1).mean()
        kl = (0.5 * (-logvar + logvar.exp() + mu**2 - 1.0)).sum(dim=1).mean()
        model._steps += 1
        anneal = float(model.beta) * min(
            1.0, model._steps / max(1, model.anneal_epochs * model._steps_per_epoch)
        )
        loss = nll + anneal * kl
        model._opt.zero_grad()
        loss.backward()
        model._opt.step()
        total += float(loss.detach()) * len(batch)
    return total / x.shape[0]


def _plain_recvae_epoch(model: Any, torch: Any, net: Any, x: Any, rng: np.random.Generator) -> float:
    F = torch.nn.functional
    log2pi = float(np.log(2 * np.pi))

    def log_pdf(v: Any, m: Any, lv: Any) -> Any:
        return -0.5 * (lv + log2pi + (v - m) ** 2 / lv.exp())

    def loss_of(xb: Any, dropout: float) -> Any:
        mu, logvar = net.encoder(xb, dropout)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        mll = (F.log_softmax(net.decoder(z), dim=1) * xb).sum(dim=1).mean()
        with torch.no_grad():
            post_mu, post_logvar = net.prior(xb, 0.0)
        zeros = torch.zeros_like(z)
        w = model._MIXTURE
        parts = [log_pdf(z, zeros, zeros) + np.log(w[0]), log_pdf(z, post_mu, post_logvar) + np.log(w[1]),
                 log_pdf(z, zeros, zeros + 10.0) + np.log(w[2])]  # fmt: skip
        prior = torch.logsumexp(torch.stack(parts, dim=-1), dim=-1)
        kld = ((log_pdf(z, mu, logvar) - prior).sum(dim=1) * float(model.gamma) * xb.sum(dim=1)).mean()
        return -(mll - kld)

    total = 0.0
    for opt, dropout, passes in ((model._opt_enc, float(model.dropout), int(model.enc_epochs)), (model._opt_dec, 0.0, 1)):  # fmt: skip
        if opt is model._opt_dec:
            net.prior.load_state_dict(copy.deepcopy(net.encoder.state_dict()))
        for _ in range(passes):
            total = 0.0
            for batch in model._batches(x.shape[0], rng):
                xb = torch.from_numpy(x[batch].toarray())
                loss = loss_of(xb, dropout)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(batch)
    return total / x.shape[0]


PLAIN = {"mult-vae": _plain_multvae_epoch, "recvae": _plain_recvae_epoch}


def _epoch_seconds(name: str, train: Any, plain: bool, seed: int) -> tuple[float, float]:
    """Median seconds per epoch over EPOCHS epochs and the last epoch's loss."""
    import torch

    from movierec.models.registry import create

    model: Any = create(name, epochs=EPOCHS, random_state=seed)
    if not plain:
        model.fit(train)
        return statistics.median(h["seconds"] for h in model.history_), model.history_[-1]["loss"]
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    from movierec.models.weighting import weighted_csr

    x = weighted_csr(train).astype(np.float32)
    net = model._build(torch, x.shape[1])
    model._steps, model._steps_per_epoch = 0, -(-x.shape[0] // int(model.batch_size))
    secs, loss = [], 0.0
    for _ in range(EPOCHS):
        tic = time.perf_counter()
        loss = PLAIN[name](model, torch, net, x, rng)
        secs.append(time.perf_counter() - tic)
    return statistics.median(secs), loss


def main() -> None:
    import argparse

    pick = argparse.ArgumentParser(add_help=False)
    pick.add_argument("--models", nargs="*", default=list(PLAIN), choices=list(PLAIN))
    chosen, rest = pick.parse_known_args()
    args = parse_mode(__doc__.splitlines()[0], rest)
    from movierec.datasets import load
    from movierec.evaluation import make_split

    ds = load("ml-latest-small")
    train, _test, _ = make_split(ds.interactions, "interactions-holdout", seed=42, threshold=4.0)
    train = train.to_implicit(4.0)
    rows = []
    for name in chosen.models:
        load_before = os.getloadavg()
        ours, ref = [], []
        for r in range(args.repeat):  # alternate so both see the same load
            ours.append(_epoch_seconds(name, train, False, r)[0])
            ref.append(_epoch_seconds(name, train, True, r)[0])
            print(name, "ours", round(ours[-1], 3), "plain", round(ref[-1], 3), flush=True)
        o, p = statistics.median(ours), statistics.median(ref)
        load_after = os.getloadavg()
        rows.append(make_row(
            "vae", f"{name} epoch", o, f"plain PyTorch loop ({name})", p,
            quality={"epochs_per_second_ours": 1 / o, "epochs_per_second_plain": 1 / p, "speedup": p / o},
            notes=f"seconds per epoch, ml-latest-small compare train split ({train.n_users} users × "
            f"{train.n_items} items), median of {EPOCHS} epochs × {args.repeat} runs, 1 torch thread; "
            f"load average {load_before[0]:.1f} → {load_after[0]:.1f}",
        ))  # fmt: skip
        print(rows[-1], flush=True)
    print(write_some_results("vae", rows, mode=args.mode))  # a run of some models keeps the others' rows


if __name__ == "__main__":
    main()
