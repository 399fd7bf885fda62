"""Re-ranking: post-processing any model's scores into lists that trade a little accuracy for a beyond-accuracy goal.

Every re-ranker takes a block of scores (users × items, excluded items at −inf), keeps each user's
top ``pool`` candidates and builds the list greedily, one slot at a time, maximising
``(1 − λ)·relevance + λ·goal``. Relevance is the model's score min–max scaled over the user's
candidates (so λ means the same for every model); λ = 0 returns the model's own top-K.

- ``mmr:λ`` — maximal marginal relevance (Carbonell & Goldstein 1998): goal = −(highest similarity
  to an item already chosen); genre Jaccard similarity, or the model's item vectors (cosine) when
  there are no genres.
- ``calibrated:λ`` — calibrated recommendations (Steck 2018): goal = −KL(p(g|u) ‖ q̃(g|list)).
- ``xquad:λ`` — popularity-aware xQuAD (Abdollahpouri et al. 2019): goal = Σ_{c∈{head, tail}}
  P(c|u)·[i ∈ c]·(1 − share of c already in the list), P(c|u) = the user's history share in c.
- ``pop:λ`` — popularity penalty: goal = −pop(i)/max pop (a plain re-sort).

Used by ``compare --rerank``, ``recommend --rerank``, the API's ``?rerank=`` and ``bench_beyond``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from movierec import beyond as B
from movierec.errors import ConfigError
from movierec.models.base import topk

__all__ = [
    "MMR",
    "RERANKERS",
    "Calibrated",
    "PopularityPenalty",
    "Reranker",
    "XQuAD",
    "parse_rerank",
]

DEFAULT_POOL = 100
"""Candidates per user that mmr and calibrated choose from (at least K); their state is pairwise or per genre."""


@dataclass(frozen=True)
class Reranker:
    """A greedy re-ranker with trade-off ``lam`` ∈ [0, 1] over each user's top ``pool`` candidates."""

    lam: float = 0.3
    pool: int = 0
    name: ClassVar[str] = "reranker"
    default_pool: ClassVar[int] = DEFAULT_POOL

    def __post_init__(self) -> None:
        if self.pool == 0:
            object.__setattr__(self, "pool", self.default_pool)
        if isinstance(self.lam, bool) or not isinstance(self.lam, (int, float)) or not 0.0 <= self.lam <= 1.0:
            raise ConfigError(f"re-ranker {self.name}: λ must be a number in [0, 1], got {self.lam!r}")
        if isinstance(self.pool, bool) or not isinstance(self.pool, int) or self.pool < 1:
            raise ConfigError(f"re-ranker {self.name}: pool must be a whole number ≥ 1, got {self.pool!r}")

    @property
    def spec(self) -> str:
        """The ``name:λ`` text that parses back to this re-ranker."""
        return f"{self.name}:{self.lam:g}"

    def check(self, info: B.ItemInfo) -> None:
        """Raise a ConfigError when ``info`` lacks what this re-ranker needs."""

    def rerank(self, scores: np.ndarray, k: int, history: sp.csr_matrix, info: B.ItemInfo) -> np.ndarray:
        """Top-``k`` item indices per row of ``scores`` (users × items, −inf = excluded), ``-1`` when short.

        ``history`` holds the same users' training items (rows aligned with ``scores``).
        """
        self.check(info)
        scores = np.asarray(scores, dtype=np.float32)
        m = min(max(self.pool, k), scores.shape[1])
        cand, vals = topk(scores, m)
        valid = cand >= 0
        if self.lam == 0.0:
            return cand[:, :k] if m >= k else np.hstack([cand, np.full((len(cand), k - m), -1, np.int32)])
        v = vals.astype(np.float64)
        lo = np.where(valid, v, np.inf).min(axis=1)
        hi = np.where(valid, v, -np.inf).max(axis=1)
        span = np.where(hi > lo, hi - lo, 1.0)
        rel = np.where(valid, (v - np.where(np.isfinite(lo), lo, 0.0)[:, None]) / span[:, None], 0.0)
        state = self._start(np.where(valid, cand, 0), valid, sp.csr_matrix(history), info)
        out = np.full((len(cand), k), -1, dtype=np.int32)
        free = valid.copy()
        rows = np.arange(len(cand))
        for step in range(min(k, m)):
            gain = (1.0 - self.lam) * rel + self.lam * self._goal(state, step)
            gain = np.where(free, gain, -np.inf)
            pick = np.argmax(gain, axis=1)
            ok = free[rows, pick]
            out[ok, step] = cand[rows[ok], pick[ok]]
            free[rows[ok], pick[ok]] = False
            self._update(state, pick, ok)
        return out

    # greedy hooks ----------------------------------------------------------------------------
    def _start(self, cand: np.ndarray, valid: np.ndarray, history: sp.csr_matrix, info: B.ItemInfo) -> dict:
        return {}

    def _goal(self, state: dict, step: int) -> np.ndarray:
        raise NotImplementedError

    def _update(self, state: dict, pick: np.ndarray, ok: np.ndarray) -> None:
        return None


class MMR(Reranker):
    """Maximal marginal relevance (Carbonell & Goldstein 1998): (1 − λ)·rel(i) − λ·max_{j∈S} sim(i, j)."""

    name = "mmr"

    def check(self, info: B.ItemInfo) -> None:
        if (info.genres is None or info.genres.shape[1] == 0) and info.vectors is None:
            raise ConfigError("re-ranker mmr needs item genres or a model with item vectors")

    def _start(self, cand: np.ndarray, valid: np.ndarray, history: sp.csr_matrix, info: B.ItemInfo) -> dict:
        if info.genres is not None and info.genres.shape[1] > 0:
            sim = B.jaccard_block(info.genre_dense()[cand])
        else:
            assert info.vectors is not None
            sim = B.cosine_block(np.asarray(info.vectors, dtype=np.float32)[cand])
        return {"sim": sim.astype(np.float32), "max": np.zeros(cand.shape, dtype=np.float32)}

    def _goal(self, state: dict, step: int) -> np.ndarray:
        return -state["max"] if step else np.zeros_like(state["max"])

    def _update(self, state: dict, pick: np.ndarray, ok: np.ndarray) -> None:
        chosen = state["sim"][np.arange(len(pick)), pick]  # similarity of every candidate to the pick
        state["max"] = np.where(ok[:, None], np.maximum(state["max"], chosen), state["max"])


class Calibrated(Reranker):
    """Calibrated recommendations (Steck 2018): (1 − λ)·rel(i) − λ·KL(p(g|u) ‖ q̃(g|S ∪ {i}))."""

    name = "calibrated"

    def check(self, info: B.ItemInfo) -> None:
        if info.genres is None or info.genres.shape[1] == 0:
            raise ConfigError("re-ranker calibrated needs item genres (the dataset has none)")

    def _start(self, cand: np.ndarray, valid: np.ndarray, history: sp.csr_matrix, info: B.ItemInfo) -> dict:
        shares = info.genre_shares()
        assert shares is not None
        hist = history.astype(bool).astype(np.float64)
        p = B._normalise_rows(np.asarray(hist @ shares))
        return {"p": p, "g": shares[cand], "sum": np.zeros_like(p)}

    def _goal(self, state: dict, step: int) -> np.ndarray:
        q = B._normalise_rows(state["sum"][:, None, :] + state["g"])
        return -B._kl(state["p"][:, None, :], q, B.CALIBRATION_ALPHA)

    def _update(self, state: dict, pick: np.ndarray, ok: np.ndarray) -> None:
        state["sum"] += np.where(ok[:, None], state["g"][np.arange(len(pick)), pick], 0.0)


class XQuAD(Reranker):
    """Popularity-aware xQuAD (Abdollahpouri et al. 2019, smooth variant) over short-head and long-tail items."""

    name = "xquad"
    default_pool = (
        1000  # tail items sit deep in most models' rankings; no pairwise state, so a wide pool is cheap
    )

    def _start(self, cand: np.ndarray, valid: np.ndarray, history: sp.csr_matrix, info: B.ItemInfo) -> dict:
        tail = info.tail
        hist = history.astype(bool)
        n_hist = np.asarray(hist.sum(axis=1)).ravel().astype(np.float64)
        n_tail = np.asarray(hist @ tail.astype(np.float64)).ravel()
        p_tail = np.divide(n_tail, n_hist, out=np.full(len(n_hist), 0.5), where=n_hist > 0)
        return {"is_tail": tail[cand], "p_tail": p_tail, "n_tail": np.zeros(len(cand)), "n": 0}

    def _goal(self, state: dict, step: int) -> np.ndarray:
        n = state["n"]
        cov_tail = 1.0 - (state["n_tail"] / n if n else 0.0)
        cov_head = 1.0 - ((n - state["n_tail"]) / n if n else 0.0)
        p_t = state["p_tail"]
        return np.where(
            state["is_tail"], (p_t * cov_tail)[:, None], ((1.0 - p_t) * cov_head)[:, None]
        ).astype(np.float64)

    def _update(self, state: dict, pick: np.ndarray, ok: np.ndarray) -> None:
        state["n_tail"] += ok & state["is_tail"][np.arange(len(pick)), pick]
        state["n"] += 1


class PopularityPenalty(Reranker):
    """Popularity penalty: (1 − λ)·rel(i) − λ·pop(i)/max pop (a re-sort, no interaction between slots)."""

    name = "pop"
    default_pool = 1000

    def _start(self, cand: np.ndarray, valid: np.ndarray, history: sp.csr_matrix, info: B.ItemInfo) -> dict:
        pop = np.asarray(info.popularity, dtype=np.float64)
        top = pop.max(initial=0.0)
        return {"pen": pop[cand] / top if top > 0 else np.zeros(cand.shape)}

    def _goal(self, state: dict, step: int) -> np.ndarray:
        return -state["pen"]


RERANKERS: dict[str, type[Reranker]] = {c.name: c for c in (MMR, Calibrated, XQuAD, PopularityPenalty)}


def parse_rerank(text: str | Reranker | None, *, pool: int = 0) -> Reranker | None:
    """``"mmr:0.3"`` → :class:`MMR` with λ = 0.3 (``"mmr"`` alone: λ = 0.3); ``None``/``""``/``"none"`` → ``None``.

    ``pool``: candidates per user (0 = the re-ranker's default: 100 for mmr and calibrated, 1000 for
    xquad and pop, whose long-tail candidates sit deep in the ranking).
    """
    if text is None or isinstance(text, Reranker):
        return text
    raw = str(text).strip().lower()
    if raw in ("", "none"):
        return None
    m = re.fullmatch(r"([a-z-]+)(?::\s*([0-9]*\.?[0-9]+(?:e-?[0-9]+)?))?", raw)
    valid = ", ".join(f"{n}:λ" for n in RERANKERS)
    if not m or m.group(1) not in RERANKERS:
        raise ConfigError(f"unknown re-ranker {text!r}; use one of {valid} with λ in [0, 1], e.g. mmr:0.3")
    lam = float(m.group(2)) if m.group(2) is not None else 0.3
    if not 0.0 <= lam <= 1.0:
        raise ConfigError(f"re-ranker {text!r}: λ must be in [0, 1]")
    return RERANKERS[m.group(1)](lam=lam, pool=pool)
