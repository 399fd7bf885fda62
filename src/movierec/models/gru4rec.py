"""GRU4Rec: session-based recommendation with a recurrent network (Hidasi et al. 2016, ICLR) in PyTorch.

A GRU reads a session one item at a time and scores every item as the next one. Training uses
the paper's *session-parallel mini-batches*: ``batch_size`` sessions advance side by side, one
event per step; when a session ends its slot takes the next session and that slot's hidden
state is reset. The output layer is scored only for the batch's own targets (the other
sessions' next items act as negatives, popularity-sampled for free) plus ``n_negatives`` extra
items drawn in proportion to popularity^``sample_alpha``, shared by the batch (Hidasi &
Karatzoglou 2018, "Recurrent Neural Networks with Top-k Gains for Session-based
Recommendations", CIKM). Losses from that paper: ``"ce"`` (softmax cross-entropy over the
sampled items) or ``"bpr-max"`` (−log Σ_j s_j σ(r_i − r_j) + λ Σ_j s_j r_j², s = softmax over
the negatives' scores, λ = ``bpreg``). Input and output share one embedding table
(``constrained_embedding``, the official implementation's best setting) unless turned off.

Sessions: a user's time-ordered history is cut where two consecutive ratings are more than
``session_gap`` apart (seconds, or ``"30min"``, ``"1h"``, ``"2d"``); ``None`` keeps each user's
whole history as one sequence (the per-user setting of leave-last-out). A known user is scored
after reading their last session (the whole history when ``session_gap`` is None).

Early stopping: each user's latest training item is held out as validation (full-ranking
NDCG@10 given the rest); the best epoch's weights are kept. Weights are saved as npz arrays plus
JSON params (never torch pickles).
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, ClassVar, Self

import numpy as np

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, check_random_state, require_interactions
from movierec.models.groups import TorchTrainerParams
from movierec.models.params import NON_NEGATIVE, POSITIVE_INT, Constraint, Interval, Options
from movierec.models.sequential import fitted_history, time_order
from movierec.models.torch_nets import NET_PREFIX, TorchNetState, import_torch

__all__ = ["GRU4Rec", "parse_gap", "sessions"]

_PREFIX = NET_PREFIX
_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}
_GAP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d)?\s*$")


def parse_gap(gap: float | str | None, option: str = "session_gap") -> float | None:
    """Seconds from ``3600``, ``"3600"``, ``"30min"``, ``"1h"`` or ``"2d"``; None stays None. ``option``
    names the setting in a refusal: the model's parameter, or the CLI's ``--session-gap`` where that is
    what was typed."""
    if gap is None or (isinstance(gap, str) and gap.strip().lower() in ("", "none")):
        return None
    if isinstance(gap, bool):
        raise ConfigError(f"{option} must be seconds or a duration like '1h', got {gap!r}")
    if isinstance(gap, (int, float)):
        value = float(gap)
    else:
        m = _GAP.match(str(gap).lower())
        if not m:
            raise ConfigError(f"{option} must be seconds or a duration like '30min', '1h', '2d'; got {gap!r}")
        value = float(m.group(1)) * _UNITS[m.group(2) or "s"]
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{option} must be positive, got {gap!r}")
    return value


def sessions(items: np.ndarray, times: np.ndarray | None, gap: float | None) -> list[np.ndarray]:
    """Cut one user's time-ordered ``items`` where consecutive ``times`` differ by more than ``gap``."""
    if gap is None or times is None or len(items) < 2:
        return [items]
    cuts = np.flatnonzero(np.diff(times.astype(np.float64)) > gap) + 1
    return [s for s in np.split(items, cuts) if len(s)]


def _torch() -> Any:
    return import_torch("gru4rec")


def _build_net(
    torch: Any, n_items: int, hidden: int, n_layers: int, dropout: float, constrained: bool
) -> Any:
    nn: Any = torch.nn  # torch is imported lazily (an extra): its classes are Any to the checker

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.out_emb = nn.Embedding(n_items, hidden, sparse=True)
            self.out_bias = nn.Embedding(n_items, 1, sparse=True)
            self.in_emb = None if constrained else nn.Embedding(n_items, hidden, sparse=True)
            self.gru = nn.GRU(hidden, hidden, num_layers=n_layers, batch_first=True)
            self.drop = nn.Dropout(dropout)
            nn.init.uniform_(self.out_emb.weight, -1 / math.sqrt(hidden), 1 / math.sqrt(hidden))
            nn.init.zeros_(self.out_bias.weight)

        def embed(self, items: Any) -> Any:
            return (self.out_emb if self.in_emb is None else self.in_emb)(items)

        def step(self, items: Any, h: Any) -> tuple[Any, Any]:
            """One event per row: (output state, new hidden state)."""
            out, h = self.gru(self.drop(self.embed(items))[:, None, :], h)
            return self.drop(out[:, 0, :]), h

        def run(self, seqs: Any, lengths: Any) -> Any:
            """Final state after right-padded ``seqs`` of the given lengths (packed, so padding is never read)."""
            packed = nn.utils.rnn.pack_padded_sequence(
                self.embed(seqs), lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            _, h = self.gru(packed)
            return h[-1]

    return Net()


class _LazyAdam:
    """Adam for the GRU's dense weights and *lazy* Adam for the embedding tables: only the rows a
    step touched (the batch's inputs, targets and sampled negatives) are read and written, with
    plain index operations (torch's SparseAdam spends most of its time building masks; measured
    here: 39 of 125 s of an epoch)."""

    def __init__(self, torch: Any, sparse: list[Any], dense: list[Any], lr: float) -> None:
        self.torch = torch
        self.sparse = sparse
        self.m = [torch.zeros_like(w) for w in sparse]
        self.v = [torch.zeros_like(w) for w in sparse]
        self.t = 0
        self.lr = lr
        self.dense = torch.optim.Adam(dense, lr=lr)

    def zero_grad(self) -> None:
        for w in self.sparse:
            w.grad = None
        self.dense.zero_grad()

    def step(self) -> None:
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        with self.torch.no_grad():
            for w, m, v in zip(self.sparse, self.m, self.v, strict=True):
                if w.grad is None:
                    continue
                g = w.grad.coalesce()
                idx, val = g.indices()[0], g.values()
                mi = m[idx].mul_(b1).add_(val, alpha=1 - b1)
                vi = v[idx].mul_(b2).addcmul_(val, val, value=1 - b2)
                m[idx], v[idx] = mi, vi
                w[idx] -= self.lr * (mi / c1) / ((vi / c2).sqrt_() + eps)
        self.dense.step()


class GRU4Rec(TorchTrainerParams, TorchNetState):
    """Session-based GRU recommender (Hidasi et al. 2016; losses of Hidasi & Karatzoglou 2018).

    ``hidden`` GRU units in ``n_layers`` layers, ``dropout`` on its input and output;
    Adagrad-free Adam at ``learning_rate`` (Hidasi's ``lr``) on session-parallel mini-batches of ``batch_size`` sessions for up
    to ``epochs`` epochs, stopping when validation NDCG@10 has not improved for ``patience``
    epochs or before an epoch that would end past ``time_budget`` seconds (the best epoch is kept; ``stop_reason_``
    says which: "patience", "time budget", "epochs" or "listener"). ``loss`` ``"ce"`` or ``"bpr-max"`` (``bpreg``) over the batch's targets plus
    ``n_negatives`` popularity^``sample_alpha`` samples. ``session_gap``: see the module docstring.
    Defaults: chosen on validation data inside the leave-last-out training split of ml-latest-small
    (bench/gru4rec_study.py, docs/new-users.md): BPR-max beat cross-entropy clearly (validation
    NDCG@10 0.066 vs 0.049, best at epoch 4 of 6); hidden 256 (0.057) and dropout 0 (0.054) helped less
    and cost more time, 512 negatives, batch 128, popularity sampling (α 0.5), 1 h sessions instead of
    the whole history (0.050) and dropout 0 with bpr-max (0.063) did not help; 5 epochs, the best kept.
    """

    item_vectors: ClassVar[bool | None] = True

    name: ClassVar[str] = "gru4rec"
    can_stop_early: ClassVar[bool] = False  # net exported at the end; stops on its own held-out items
    _none_means: ClassVar[dict[str, str]] = {
        "session_gap": "each user's whole history is one session",
        "time_budget": "no time limit",
    }
    kind: ClassVar[str] = "implicit"
    #: reads each user's history in time order: trained on every interaction, not only positives
    sequential: ClassVar[bool] = True

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "n_layers": [POSITIVE_INT],
        "loss": [Options("ce", "bpr-max")],
        "sample_alpha": [Interval(float, 0, 1)],
        "bpreg": [NON_NEGATIVE],
        "bptt": [POSITIVE_INT],
    }

    # dup-ok: GRU4Rec's own hyperparameters, alike in shape to spark-als's list (name: type = value), not
    # in meaning; the trainer group (epochs, batch_size, learning_rate, n_threads) is TorchTrainerParams
    hidden: int = 128
    n_layers: int = 1
    dropout: float = 0.2
    loss: str = "bpr-max"
    n_negatives: int = 2048
    sample_alpha: float = 0.0
    bpreg: float = 1.0
    constrained_embedding: bool = True
    bptt: int = 8
    patience: int = 1
    session_gap: float | str | None = None
    max_len: int = 200
    time_budget: float | None = None
    # the trainer group's defaults (TorchTrainerParams declares them; Hidasi's ``lr`` is an alias)
    epochs = 5
    learning_rate = 5e-3
    batch_size = 64

    def _validate_params(self) -> None:
        super()._validate_params()
        parse_gap(self.session_gap)

    # --- data -------------------------------------------------------------------------------
    def _user_sessions(self, train: Interactions) -> list[list[np.ndarray]]:
        order = time_order(train)
        counts = np.bincount(train.users, minlength=train.n_users)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        items = train.items[order].astype(np.int64)
        times = None if train.timestamps is None else train.timestamps[order]
        gap = parse_gap(self.session_gap)
        return [
            sessions(
                items[bounds[u] : bounds[u + 1]],
                None if times is None else times[bounds[u] : bounds[u + 1]],
                gap,
            )
            for u in range(train.n_users)
        ]

    def _pad(self, seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Right-padded int64 matrix of the last ``max_len`` items of each sequence, and the lengths."""
        lengths = np.array([min(len(s), self.max_len) for s in seqs], dtype=np.int64)
        out = np.zeros((len(seqs), max(1, int(lengths.max(initial=1)))), dtype=np.int64)
        for r, s in enumerate(seqs):
            if lengths[r]:
                out[r, : lengths[r]] = s[-lengths[r] :]
        return out, lengths

    # --- fit --------------------------------------------------------------------------------
    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Train with session-parallel mini-batches; early-stop on each user's held-out latest training item."""
        require_interactions(train)
        torch = _torch()
        torch.set_num_threads(min(int(self.n_threads), 2))
        torch.manual_seed(0 if self.random_state is None else int(self.random_state))
        rng = check_random_state(self.random_state)
        self._remember_train(train)
        n_items = train.n_items
        per_user = self._user_sessions(train)
        self.last_session_ = self._pad([s[-1] for s in per_user])[0].astype(np.int32)
        self.last_length_ = np.array([min(len(s[-1]), self.max_len) for s in per_user], dtype=np.int32)

        # validation: the latest training item of users with ≥ 3 items, who train without it
        counts = np.array([sum(len(s) for s in ss) for ss in per_user])
        val_users = np.flatnonzero(counts >= 3)
        train_sessions: list[np.ndarray] = []
        val_input: list[np.ndarray] = []
        for u, ss in enumerate(per_user):
            ss = [s.copy() for s in ss]
            if counts[u] >= 3:
                ss[-1] = ss[-1][:-1]
                val_input.append(ss[-1] if len(ss[-1]) else (ss[-2] if len(ss) > 1 else ss[-1]))
            for s in ss:  # long sessions in windows of max_len + 1 (consecutive windows share an item)
                for end in range(len(s), 1, -int(self.max_len)):
                    train_sessions.append(s[max(0, end - int(self.max_len) - 1) : end])
        if not train_sessions:
            raise DataError("gru4rec needs sessions with at least 2 interactions")
        val_target = np.array([per_user[u][-1][-1] for u in val_users], dtype=np.int64)
        val_seen = [np.concatenate(per_user[u])[:-1] for u in val_users]

        pop = np.bincount(np.concatenate(train_sessions), minlength=n_items).astype(np.float64)
        p = pop ** float(self.sample_alpha)
        p /= p.sum()
        dev = torch.device("cpu")
        net = _build_net(
            torch, n_items, self.hidden, self.n_layers, float(self.dropout), bool(self.constrained_embedding)
        )
        sparse = [
            q for n, q in net.named_parameters() if "emb" in n or ("bias" in n and not n.startswith("gru"))
        ]
        dense = [q for n, q in net.named_parameters() if not any(q is x for x in sparse)]
        opt = _LazyAdam(torch, sparse, dense, float(self.learning_rate))
        self.history_: list[dict[str, float]] = []
        self.stop_reason_ = "epochs"  # why training ended, as sasrec's: "patience", "time budget", "listener"
        best, best_state, bad = -np.inf, None, 0  # a score is -loss without validation users: often < -1
        started = time.perf_counter()
        for epoch in range(1, int(self.epochs) + 1):
            net.train()
            total, n_ev = self._epoch(torch, net, opt, train_sessions, rng, p, dev)
            info: dict[str, float] = {"epoch": epoch, "loss": total / max(n_ev, 1)}
            if len(val_users):
                info["val_ndcg@10"] = self._validate(torch, net, val_input, val_target, val_seen)
            self.history_.append(info)
            stop = on_epoch is not None and on_epoch(epoch, dict(info)) is False
            score = info.get("val_ndcg@10", -info["loss"])
            if score > best:
                best, bad = score, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                bad += 1
            # stop when another epoch like this one would end past the budget
            spent = time.perf_counter() - started
            over = self.time_budget is not None and spent * (epoch + 1) / epoch > float(self.time_budget)
            if stop or (len(val_users) and bad > int(self.patience)):
                self.stop_reason_ = "listener" if stop else "patience"
                break
            if over and epoch < int(self.epochs):  # compare notes it beside the figures
                self.stop_reason_ = "time budget"
                break
        assert best_state is not None
        self._keep_net_state(best_state)
        return self

    def _epoch(
        self,
        torch: Any,
        net: Any,
        opt: Any,
        seqs: list[np.ndarray],
        rng: np.random.Generator,
        p: np.ndarray,
        dev: Any,
    ) -> tuple[float, int]:
        """One pass of session-parallel mini-batches over ``seqs`` in random order (Hidasi et al. 2016, fig. 2).

        Sessions are dealt, in a random order, to ``batch_size`` parallel slots, each slot taking
        the next session as soon as its current one ends (its hidden state reset there). Slots
        advance one event per step; the network is updated every ``bptt`` steps (truncated
        backpropagation through time; ``bptt=1`` is the paper's per-event update), with one
        sampled-softmax over every event of those steps against the events' own targets plus
        ``n_negatives`` shared samples.
        """
        B = min(int(self.batch_size), len(seqs))
        order = rng.permutation(len(seqs))
        # deal sessions to the slot that frees up first (what the paper's loop does, precomputed)
        lengths = np.zeros(B, dtype=np.int64)
        slots: list[list[np.ndarray]] = [[] for _ in range(B)]
        for i in order:
            b = int(np.argmin(lengths))
            slots[b].append(seqs[i])
            lengths[b] += len(seqs[i]) - 1
        width = int(lengths.max())
        X = np.zeros((B, width), dtype=np.int64)
        Y = np.full((B, width), -1, dtype=np.int64)
        R = np.zeros((B, width), dtype=bool)
        for b, ss in enumerate(slots):
            pos = 0
            for sq in ss:
                n = len(sq) - 1
                X[b, pos : pos + n], Y[b, pos : pos + n] = sq[:-1], sq[1:]
                R[b, pos] = True
                pos += n
        h = torch.zeros(int(self.n_layers), B, int(self.hidden))
        n_neg, T = int(self.n_negatives), int(self.bptt)
        total, n_ev = 0.0, 0
        for c in range(0, width, T):
            xs = torch.from_numpy(X[:, c : c + T])
            rs = torch.from_numpy(R[:, c : c + T]).float()
            ys = Y[:, c : c + T]
            outs = []
            for t in range(xs.shape[1]):
                h = h * (1.0 - rs[:, t])[None, :, None]  # a new session starts here: fresh state
                out, h = net.step(xs[:, t], h)
                outs.append(out)
            valid = ys >= 0
            hid = torch.stack(outs, dim=1)[torch.from_numpy(valid)]
            y = torch.from_numpy(ys[valid])
            cand = y if not n_neg else torch.cat([y, torch.from_numpy(rng.choice(len(p), size=n_neg, p=p))])
            logits = hid @ net.out_emb(cand).T + net.out_bias(cand).T
            # a candidate equal to a row's own target must not count as its negative
            own = cand[None, :] == y[:, None]
            own[:, : len(y)].fill_diagonal_(False)
            logits = logits.masked_fill(own, -1e9)
            target = torch.arange(len(y))
            if self.loss == "ce":
                loss = torch.nn.functional.cross_entropy(logits, target, reduction="sum")
            else:  # BPR-max (Hidasi & Karatzoglou 2018, eq. 8 + score regularisation)
                pos_s = logits.gather(1, target[:, None])
                neg_mask = ~own
                neg_mask[target, target] = False
                sm = torch.softmax(logits.masked_fill(~neg_mask, -1e9), dim=1)
                loss = -torch.log((sm * torch.sigmoid(pos_s - logits)).sum(1) + 1e-24).sum()
                loss = loss + float(self.bpreg) * (sm * logits.masked_fill(~neg_mask, 0.0) ** 2).sum()
            opt.zero_grad()
            (loss / len(y)).backward()
            opt.step()
            total += float(loss.item())
            n_ev += len(y)
            h = h.detach()
        return total, n_ev

    def _states(self, torch: Any, net: Any, seqs: list[np.ndarray]) -> np.ndarray:
        net.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(seqs), 1024):
                part = seqs[start : start + 1024]
                mat, lengths = self._pad(part)
                lengths = np.maximum(lengths, 1)  # an empty sequence reads one padding item (index 0)
                out.append(net.run(torch.from_numpy(mat), torch.from_numpy(lengths)).numpy())
        return np.concatenate(out) if out else np.zeros((0, int(self.hidden)), dtype=np.float32)

    def _validate(
        self, torch: Any, net: Any, seqs: list[np.ndarray], target: np.ndarray, seen: list[np.ndarray]
    ) -> float:
        """Full-ranking NDCG@10 of the held-out item, the user's other training items excluded."""
        states = self._states(torch, net, seqs)
        with torch.no_grad():
            w = net.out_emb.weight.numpy()
            b = net.out_bias.weight.numpy()[:, 0]
        gains = np.zeros(len(target))
        for i in range(len(target)):
            row = states[i] @ w.T + b
            t = row[target[i]]
            row[seen[i]] = -np.inf
            rank = int((row > t).sum())
            if rank < 10:
                gains[i] = 1.0 / math.log2(rank + 2)
        return float(gains.mean())

    # --- scoring ----------------------------------------------------------------------------
    def _net(self) -> Any:
        if getattr(self, "_net_obj", None) is None:
            torch = _torch()
            net = _build_net(
                torch,
                int(self.n_items_),
                int(self.hidden),
                int(self.n_layers),
                float(self.dropout),
                bool(self.constrained_embedding),
            )
            self._net_obj = self._load_net_state(torch, net).eval()
        return self._net_obj

    def _scores_after(self, seqs: list[np.ndarray]) -> np.ndarray:
        torch = _torch()
        net = self._net()
        states = self._states(torch, net, seqs)
        w = np.asarray(getattr(self, _PREFIX + "out_emb.weight"))
        b = np.asarray(getattr(self, _PREFIX + "out_bias.weight"))[:, 0]
        return (states @ w.T + b).astype(np.float32)

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Scores after each user's last training session (their whole history when ``session_gap`` is None)."""
        self._check_fitted()
        users = self._check_users(users)
        seqs = [self.last_session_[u, : self.last_length_[u]].astype(np.int64) for u in users]
        out = self._scores_after(seqs)
        return out if items is None else out[:, np.asarray(items)]

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray:
        """Scores after an ordered session of item indices (oldest first); no retraining needed."""
        items = fitted_history(self, items)
        if items.size == 0:
            raise ConfigError("gru4rec needs at least one item of the session to score what comes next")
        return self._scores_after([items])[0]

    def export_vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(every known user's state after their last session, output embeddings, output biases):
        what the serving artifact stores so known users are scored without torch."""
        self._check_fitted()
        seqs = [self.last_session_[u, : self.last_length_[u]].astype(np.int64) for u in range(self.n_users_)]
        states = self._states(_torch(), self._net(), seqs)
        b = np.asarray(getattr(self, _PREFIX + "out_bias.weight"))[:, 0]
        return states.astype(np.float32), np.asarray(self.item_embeddings(), np.float32), b.astype(np.float32)

    def item_embeddings(self) -> np.ndarray | None:
        """The output item embeddings (``n_items × hidden``)."""
        w = getattr(self, _PREFIX + "out_emb.weight", None)
        return None if w is None else np.asarray(w)

    # --- persistence: the state dict as npz arrays --------------------------------------------
