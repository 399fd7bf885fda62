"""SASRec: self-attentive sequential recommendation (Kang & McAuley 2018, ICDM) in PyTorch.

A causal Transformer encoder reads each user's time-ordered history (the last ``max_len`` items)
and predicts the next item at every position; trained with binary cross-entropy against one
sampled negative per position. Early stopping holds out each user's latest training item as
validation (full-ranking NDCG@10). CPU by default; ``device="auto"`` uses CUDA when present.
Weights are saved as npz arrays plus JSON params (never torch pickles).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Self

import numpy as np

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, EpochCallback, check_positive, check_random_state
from movierec.models.sequential import _check_history, time_order

__all__ = ["SASRec"]

_PREFIX = "net."


def _torch() -> Any:
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise ConfigError("sasrec needs torch: pip install torch==2.13.0 'movierec[seq]'") from exc
    return torch


def _build_net(
    torch: Any, n_items: int, max_len: int, hidden: int, n_blocks: int, n_heads: int, dropout: float
) -> Any:
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_attn = nn.LayerNorm(hidden, eps=1e-8)
            self.attn = nn.MultiheadAttention(hidden, n_heads, dropout=dropout, batch_first=True)
            self.ln_ffn = nn.LayerNorm(hidden, eps=1e-8)
            self.ffn1 = nn.Linear(hidden, hidden)
            self.ffn2 = nn.Linear(hidden, hidden)
            self.drop = nn.Dropout(dropout)

        def forward(self, x: Any, causal: Any, keep: Any) -> Any:
            q = self.ln_attn(x)
            a, _ = self.attn(q, x, x, attn_mask=causal, need_weights=False)
            x = q + a
            y = self.ln_ffn(x)
            y = self.drop(self.ffn2(self.drop(torch.relu(self.ffn1(y)))))
            return (y + x) * keep

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.item_emb = nn.Embedding(n_items + 1, hidden, padding_idx=0)
            self.pos_emb = nn.Embedding(max_len, hidden)
            self.drop = nn.Dropout(dropout)
            self.blocks = nn.ModuleList([Block() for _ in range(n_blocks)])
            self.ln = nn.LayerNorm(hidden, eps=1e-8)
            for name, w in self.named_parameters():  # Xavier init as the authors' code does
                if w.dim() > 1:
                    nn.init.xavier_uniform_(w)
                    if name == "item_emb.weight":
                        with torch.no_grad():
                            w[0].zero_()

        def forward(self, seq: Any) -> Any:
            """Hidden state at each position of left-padded ``seq`` (item index + 1, 0 = padding)."""
            length = seq.shape[1]
            x = self.item_emb(seq) * math.sqrt(hidden)
            x = x + self.pos_emb(torch.arange(length, device=seq.device))[None]
            keep = (seq > 0).unsqueeze(-1).to(x.dtype)
            x = self.drop(x) * keep
            causal = torch.triu(torch.ones(length, length, dtype=torch.bool, device=seq.device), diagonal=1)
            for block in self.blocks:
                x = block(x, causal, keep)
            return self.ln(x)

    return Net()


class SASRec(BaseRecommender):
    """Self-attentive sequential recommender (Kang & McAuley 2018): causal self-attention over the item history.

    ``max_len`` items of history, ``n_blocks`` attention blocks of ``n_heads`` heads, ``hidden``
    units, ``dropout``; Adam at ``lr`` for up to ``epochs`` epochs, stopping when validation
    NDCG@10 has not improved for ``patience`` epochs (the best epoch's weights are kept).
    """

    name: ClassVar[str] = "sasrec"
    kind: ClassVar[str] = "implicit"

    def __init__(
        self,
        max_len: int = 50,
        n_blocks: int = 2,
        n_heads: int = 1,
        hidden: int = 64,
        dropout: float = 0.2,
        epochs: int = 100,
        lr: float = 1e-3,
        batch_size: int = 128,
        patience: int = 5,
        l2: float = 0.0,
        device: str = "cpu",
        n_threads: int = 2,
        random_state: int | None = 42,
    ) -> None:
        self.max_len = max_len
        self.n_blocks = n_blocks
        self.n_heads = n_heads
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.patience = patience
        self.l2 = l2
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state

    # --- helpers ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name in ("max_len", "n_blocks", "n_heads", "hidden", "epochs", "batch_size", "n_threads"):
            check_positive(name, getattr(self, name), integer=True)
        check_positive("patience", self.patience, integer=True, allow_zero=True)
        check_positive("lr", self.lr)
        check_positive("l2", self.l2, allow_zero=True)
        if not (isinstance(self.dropout, (int, float)) and 0.0 <= self.dropout < 1.0):
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.hidden % self.n_heads:
            raise ConfigError(f"hidden ({self.hidden}) must be divisible by n_heads ({self.n_heads})")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda', got {self.device!r}")

    def _torch_device(self, torch: Any) -> Any:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device='cuda' but torch sees no CUDA GPU; use device='auto' or 'cpu'")
        return torch.device(self.device)

    def _pad(self, histories: list[np.ndarray]) -> np.ndarray:
        """Left-padded ``(n, max_len)`` int64 matrix of item index + 1 (0 = padding), latest items kept."""
        out = np.zeros((len(histories), self.max_len), dtype=np.int64)
        for r, h in enumerate(histories):
            h = h[-self.max_len :]
            if len(h):
                out[r, -len(h) :] = h + 1
        return out

    def _net(self) -> Any:
        if getattr(self, "_net_obj", None) is None:
            torch = _torch()
            torch.set_num_threads(min(int(self.n_threads), 2))
            net = _build_net(
                torch,
                int(self.n_items_),
                self.max_len,
                self.hidden,
                self.n_blocks,
                self.n_heads,
                float(self.dropout),
            )
            state = {
                k[len(_PREFIX) :]: torch.from_numpy(np.asarray(v))
                for k, v in vars(self).items()
                if k.startswith(_PREFIX)
            }
            net.load_state_dict(state)
            self._net_obj = net.to(self._torch_device(torch)).eval()
        return self._net_obj

    def _user_vectors(self, seqs: np.ndarray) -> np.ndarray:
        torch = _torch()
        net = self._net()
        dev = next(net.parameters()).device
        out = []
        with torch.no_grad():
            for start in range(0, len(seqs), 1024):
                x = torch.from_numpy(seqs[start : start + 1024]).to(dev)
                out.append(net(x)[:, -1, :].float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.hidden), dtype=np.float32)

    # --- fit --------------------------------------------------------------------------------
    def fit(
        self,
        train: Interactions,
        *,
        item_features: Any = None,
        user_features: Any = None,
        on_epoch: EpochCallback | None = None,
    ) -> Self:
        """Train on time-ordered histories; early-stop on NDCG@10 of each user's held-out latest training item."""
        self._check_params()
        if train.n_ratings == 0:
            raise DataError("no interactions to train on (the training set is empty)")
        torch = _torch()
        torch.set_num_threads(min(int(self.n_threads), 2))
        seed = 0 if self.random_state is None else int(self.random_state)
        torch.manual_seed(seed)
        rng = check_random_state(self.random_state)
        dev = self._torch_device(torch)
        self._remember_train(train)
        n_items = train.n_items
        order = time_order(train)
        counts = np.bincount(train.users, minlength=train.n_users)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        seq_items = train.items[order].astype(np.int64)
        hist = [seq_items[bounds[u] : bounds[u + 1]] for u in range(train.n_users)]
        self.history_seq_ = self._pad(hist).astype(np.int32)

        # validation: the latest training item of users with ≥ 3 items; they train on the rest
        val_users = np.flatnonzero(counts >= 3)
        train_hist = [h[:-1] if counts[u] >= 3 else h for u, h in enumerate(hist)]
        val_target = np.array([hist[u][-1] for u in val_users], dtype=np.int64)
        val_input = self._pad([train_hist[u] for u in val_users])
        val_seen = [np.asarray(train_hist[u]) for u in val_users]

        # training examples: input = history[:-1] (last max_len), positives = history[1:]
        L = self.max_len
        trainable = [u for u, h in enumerate(train_hist) if len(h) >= 2]
        if not trainable:
            raise DataError("sasrec needs users with at least 2 training interactions")
        inp = np.zeros((len(trainable), L), dtype=np.int64)
        pos = np.zeros((len(trainable), L), dtype=np.int64)
        for r, u in enumerate(trainable):
            h = train_hist[u][-(L + 1) :]
            inp[r, -(len(h) - 1) :] = h[:-1] + 1
            pos[r, -(len(h) - 1) :] = h[1:] + 1
        keys = np.unique(
            np.asarray(trainable, dtype=np.int64).repeat([len(train_hist[u]) for u in trainable]) * n_items
            + np.concatenate([train_hist[u] for u in trainable])
        )
        row_user = np.asarray(trainable, dtype=np.int64)

        net = _build_net(torch, n_items, L, self.hidden, self.n_blocks, self.n_heads, float(self.dropout)).to(
            dev
        )
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, betas=(0.9, 0.98), weight_decay=float(self.l2))
        bce = torch.nn.BCEWithLogitsLoss(reduction="sum")
        self.history_: list[dict[str, float]] = []
        best, best_state, bad = -1.0, None, 0
        for epoch in range(1, int(self.epochs) + 1):
            net.train()
            perm = rng.permutation(len(trainable))
            neg = rng.integers(0, n_items, size=inp.shape)
            for _ in range(5):  # resample negatives the user has interacted with
                clash = np.isin(row_user[:, None] * n_items + neg, keys) & (pos > 0)
                if not clash.any():
                    break
                neg[clash] = rng.integers(0, n_items, size=int(clash.sum()))
            neg = neg + 1
            total, n_pos = 0.0, 0
            for start in range(0, len(perm), int(self.batch_size)):
                b = perm[start : start + int(self.batch_size)]
                x = torch.from_numpy(inp[b]).to(dev)
                p = torch.from_numpy(pos[b]).to(dev)
                q = torch.from_numpy(neg[b]).to(dev)
                h = net(x)
                mask = p > 0
                hp = (h * net.item_emb(p)).sum(-1)[mask]
                hn = (h * net.item_emb(q)).sum(-1)[mask]
                loss = bce(hp, torch.ones_like(hp)) + bce(hn, torch.zeros_like(hn))
                opt.zero_grad()
                (loss / mask.sum()).backward()
                opt.step()
                total += float(loss.item())
                n_pos += int(mask.sum().item())
            info: dict[str, float] = {"epoch": epoch, "loss": total / max(n_pos, 1)}
            if len(val_users):
                info["val_ndcg@10"] = self._validate(torch, net, dev, val_input, val_target, val_seen)
            self.history_.append(info)
            stop = on_epoch is not None and on_epoch(epoch, dict(info)) is False
            score = info.get("val_ndcg@10", -info["loss"])
            if score > best:
                best, bad = score, 0
                best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            else:
                bad += 1
            if stop or (len(val_users) and bad > int(self.patience)):
                break
        assert best_state is not None
        self.best_epoch_ = int(max(self.history_, key=lambda d: d.get("val_ndcg@10", -d["loss"]))["epoch"])
        for k, v in best_state.items():
            setattr(self, _PREFIX + k, v.numpy().copy())
        self._net_obj = None
        return self

    def _validate(
        self, torch: Any, net: Any, dev: Any, seqs: np.ndarray, target: np.ndarray, seen: list[np.ndarray]
    ) -> float:
        """Full-ranking NDCG@10 of the held-out item, the user's other training items excluded."""
        net.eval()
        gains = np.zeros(len(target))
        with torch.no_grad():
            emb = net.item_emb.weight[1:]
            for start in range(0, len(seqs), 512):
                x = torch.from_numpy(seqs[start : start + 512]).to(dev)
                s = (net(x)[:, -1, :] @ emb.T).float().cpu().numpy()
                for r in range(len(s)):
                    i = start + r
                    t = s[r, target[i]]
                    row = s[r]
                    row[seen[i]] = -np.inf
                    row[target[i]] = t
                    rank = int((row > t).sum())
                    if rank < 10:
                        gains[i] = 1.0 / math.log2(rank + 2)
        return float(gains.mean())

    # --- scoring ----------------------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Dot products of each user's final hidden state (full training history as input) with item embeddings."""
        self._check_fitted()
        users = self._check_users(users)
        vecs = self._user_vectors(self.history_seq_[users].astype(np.int64))
        emb = self.item_embeddings()
        if items is not None:
            emb = emb[np.asarray(items)]
        return (vecs @ emb.T).astype(np.float32)

    def score_new_user(self, items: np.ndarray, ratings: np.ndarray | None = None) -> np.ndarray:
        """Scores after an ordered history of item indices (oldest first); no retraining needed."""
        self._check_fitted()
        items = _check_history(items, self.n_items_)
        vec = self._user_vectors(self._pad([items]))
        return (vec @ self.item_embeddings().T)[0].astype(np.float32)

    def item_embeddings(self) -> np.ndarray | None:
        """The learned item embedding table (``n_items × hidden``, padding row dropped)."""
        w = getattr(self, _PREFIX + "item_emb.weight", None)
        return None if w is None else np.asarray(w)[1:]

    # --- persistence: the state dict as npz arrays --------------------------------------------
    def _array_state(self) -> dict[str, np.ndarray]:
        state = super()._array_state()
        state.update({k: np.asarray(v) for k, v in vars(self).items() if k.startswith(_PREFIX)})
        return state

    def _after_load(self) -> None:
        self._net_obj = None
        self.best_epoch_ = int(getattr(self, "best_epoch_", 0))
