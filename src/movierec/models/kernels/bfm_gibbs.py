"""One Gibbs sweep of a Bayesian factorisation machine (Freudenthaler, Schmidt-Thieme & Rendle 2011;
libFM's MCMC, Rendle 2012 §4.3; the sampler ``myfm`` implements).

Model y = w0 + Σ_j w_j x_j + Σ_{j<j'} ⟨v_j, v_j'⟩ x_j x_j' + ε, ε ~ N(0, 1/α). Priors w_j ~ N(μ_g, 1/λ_g),
v_jf ~ N(μ_gf, 1/λ_gf) per feature group g, w0 ~ N(0, 1/reg0); hyperpriors λ ~ Gamma(α_λ/2, β_λ/2),
μ ~ N(μ0, 1/(γ0·λ)), α ~ Gamma(α0/2, β0/2), all conjugate, so every draw is a closed form. Each
coordinate θ enters the prediction linearly, ŷ = g + θ·h, so its conditional is normal with precision
α·Σh² + λ and mean (α·Σ(e + θh)h + λμ)/precision; the residuals e and, per factor, q_r = Σ_j v_jf x_rj
are kept up to date after every draw (the O(nnz·k) per sweep recipe of Rendle 2012). The design
matrix is read by columns (CSC). Random numbers come from numba's generator, seeded by ``seed_kernel``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["gibbs_sweep", "seed_kernel"]


@njit(cache=True)
def seed_kernel(seed):  # type: ignore[no-untyped-def]
    """Seed numba's own generator (separate from numpy's)."""
    np.random.seed(seed)


@njit(cache=True, nogil=True)
def gibbs_sweep(  # type: ignore[no-untyped-def]
    indptr, indices, data, group, n_groups, y, e, q, w0, w, v, mu_w, lam_w, mu_v, lam_v, alpha, hyper,
):  # fmt: skip
    """One sweep over α, the group hyperparameters, w0, w and V (all updated in place).

    ``hyper`` = (α0, β0, α_λ, β_λ, γ0, μ0, reg0, fit_w0). ``e`` = y − ŷ on entry and exit; ``q`` is
    scratch of length n_rows. Returns the new noise precision α.
    """
    a0, b0, alam, blam, gamma0, mu0, reg0, fit_w0 = hyper
    n_rows = y.shape[0]
    n_feat = w.shape[0]
    k = v.shape[1]
    # noise precision
    sse = 0.0
    for r in range(n_rows):
        sse += e[r] * e[r]
    alpha = np.random.gamma((a0 + n_rows) / 2.0, 2.0 / (b0 + sse))
    # group hyperparameters of w and of every factor column of V
    count = np.zeros(n_groups)
    for j in range(n_feat):
        count[group[j]] += 1.0
    for f in range(-1, k):
        s = np.zeros(n_groups)
        for j in range(n_feat):
            s[group[j]] += w[j] if f < 0 else v[j, f]
        for g in range(n_groups):
            lam = lam_w[g] if f < 0 else lam_v[g, f]
            n_g = count[g]
            mu = np.random.normal((s[g] + gamma0 * mu0) / (n_g + gamma0), 1.0 / np.sqrt((n_g + gamma0) * lam))
            if f < 0:
                mu_w[g] = mu
            else:
                mu_v[g, f] = mu
        ss = np.zeros(n_groups)
        for j in range(n_feat):
            g = group[j]
            d = (w[j] - mu_w[g]) if f < 0 else (v[j, f] - mu_v[g, f])
            ss[g] += d * d
        for g in range(n_groups):
            mu = mu_w[g] if f < 0 else mu_v[g, f]
            rate = blam + ss[g] + gamma0 * (mu - mu0) ** 2
            lam = np.random.gamma((alam + count[g] + 1.0) / 2.0, 2.0 / rate)
            if f < 0:
                lam_w[g] = lam
            else:
                lam_v[g, f] = lam
    # global bias
    if fit_w0 > 0:
        s_e = 0.0
        for r in range(n_rows):
            s_e += e[r] + w0
        prec = alpha * n_rows + reg0
        new = np.random.normal(alpha * s_e / prec, 1.0 / np.sqrt(prec))
        for r in range(n_rows):
            e[r] -= new - w0
        w0 = new
    # linear weights
    for j in range(n_feat):
        s_hh = 0.0
        s_eh = 0.0
        for p in range(indptr[j], indptr[j + 1]):
            x = data[p]
            s_hh += x * x
            s_eh += (e[indices[p]] + w[j] * x) * x
        g = group[j]
        prec = alpha * s_hh + lam_w[g]
        new = np.random.normal((alpha * s_eh + lam_w[g] * mu_w[g]) / prec, 1.0 / np.sqrt(prec))
        d = new - w[j]
        for p in range(indptr[j], indptr[j + 1]):
            e[indices[p]] -= d * data[p]
        w[j] = new
    # factors, one column f at a time
    for f in range(k):
        for r in range(n_rows):
            q[r] = 0.0
        for j in range(n_feat):
            vj = v[j, f]
            for p in range(indptr[j], indptr[j + 1]):
                q[indices[p]] += vj * data[p]
        for j in range(n_feat):
            vj = v[j, f]
            s_hh = 0.0
            s_eh = 0.0
            for p in range(indptr[j], indptr[j + 1]):
                x = data[p]
                r = indices[p]
                h = x * (q[r] - vj * x)
                s_hh += h * h
                s_eh += (e[r] + vj * h) * h
            g = group[j]
            prec = alpha * s_hh + lam_v[g, f]
            new = np.random.normal((alpha * s_eh + lam_v[g, f] * mu_v[g, f]) / prec, 1.0 / np.sqrt(prec))
            d = new - vj
            for p in range(indptr[j], indptr[j + 1]):
                x = data[p]
                r = indices[p]
                h = x * (q[r] - vj * x)
                e[r] -= d * h
                q[r] += d * x
            v[j, f] = new
    return alpha, w0
