"""SASRec: self-attentive sequential recommendation (Kang & McAuley 2018, ICDM) in PyTorch.

A causal Transformer encoder reads each user's time-ordered history (the last ``max_len`` items)
and predicts the next item at every position (a history longer than ``max_len`` is cut into
windows, so every transition is a target). The default loss is softmax cross-entropy
(Klenitskiy & Vasilev 2023, "Turning Dross Into Gold Loss: is BERT4Rec really better than
SASRec?"; Petrov & Macdonald 2023, gSASRec, show it fixes SASRec's overconfidence from one
sampled negative): against ``n_negatives`` uniformly sampled items shared by the batch, or over
every item when ``n_negatives=0`` or the catalogue is no larger (full softmax; ~5× slower per
epoch on 9.7k items on two CPU cores); ``loss="bce"`` is the paper's binary cross-entropy
against one sampled negative per position. Batches group windows of similar length and trim
their padding. Early stopping holds out each user's latest training item as
validation (full-ranking NDCG@10). CPU by default; ``device="auto"`` uses CUDA when present.
Weights are saved as npz arrays plus JSON params (never torch pickles).
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar, Self

import numpy as np

from movierec.errors import ConfigError, DataError, NotFittedError
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, Tags, check_random_state, require_interactions
from movierec.models.groups import TorchTrainerParams
from movierec.models.kernels.threads import free_threads
from movierec.models.params import NON_NEGATIVE, POSITIVE_INT, Constraint, Options
from movierec.models.sequential import fitted_history, time_order
from movierec.models.torch_nets import NET_PREFIX, TorchNetState, import_torch

__all__ = ["SASRec"]

_PREFIX = NET_PREFIX


def _torch() -> Any:
    return import_torch("sasrec")


def _trim(seqs: np.ndarray) -> np.ndarray:
    """Drop the leading columns that are padding in every row (at least one column kept)."""
    filled = np.flatnonzero((seqs > 0).any(axis=0))
    return seqs[:, filled[0] :] if len(filled) else seqs[:, -1:]


def _build_net(
    torch: Any, n_items: int, max_len: int, hidden: int, n_blocks: int, n_heads: int, dropout: float
) -> Any:
    nn: Any = torch.nn  # torch is imported lazily (an extra): its classes are Any to the checker

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_attn = nn.LayerNorm(hidden, eps=1e-8)
            self.q_proj = nn.Linear(hidden, hidden)
            self.kv_proj = nn.Linear(hidden, 2 * hidden)
            self.out_proj = nn.Linear(hidden, hidden)
            self.ln_ffn = nn.LayerNorm(hidden, eps=1e-8)
            self.ffn1 = nn.Linear(hidden, hidden)
            self.ffn2 = nn.Linear(hidden, hidden)
            self.drop = nn.Dropout(dropout)

        def forward(self, x: Any, mask: Any, keep: Any) -> Any:
            # as the authors' code: queries are layer-normalised, keys/values are not, and each
            # residual adds the normalised input; padded positions are zeroed after every block
            q = self.ln_attn(x)
            n, length, _ = x.shape
            heads = self.q_proj(q).view(n, length, n_heads, -1).transpose(1, 2)
            k, v = self.kv_proj(x).view(n, length, 2, n_heads, -1).permute(2, 0, 3, 1, 4)
            a = torch.nn.functional.scaled_dot_product_attention(
                heads, k, v, attn_mask=mask, dropout_p=dropout if self.training else 0.0
            )
            a = self.out_proj(a.transpose(1, 2).reshape(n, length, hidden))
            x = self.ln_ffn(q + a)
            y = self.drop(self.ffn2(self.drop(torch.relu(self.ffn1(x)))))
            return (x + y) * keep

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
            """Hidden state at each position of left-padded ``seq`` (item index + 1, 0 = padding).

            ``seq`` may be shorter than ``max_len`` (padding columns trimmed): positions count back
            from the newest item, so a trimmed batch sees the same position embeddings.
            """
            length = seq.shape[1]
            x = self.item_emb(seq) * math.sqrt(hidden)
            x = x + self.pos_emb(torch.arange(max_len - length, max_len, device=seq.device))[None]
            keep = (seq > 0).unsqueeze(-1).to(x.dtype)
            x = self.drop(x) * keep
            # True = may attend: earlier positions (causal) that are not padding, and always itself,
            # so padded rows (zeroed afterwards) never see an all-masked row
            eye = torch.eye(length, dtype=torch.bool, device=seq.device)
            causal = torch.tril(torch.ones(length, length, dtype=torch.bool, device=seq.device))
            mask = ((causal[None] & (seq > 0)[:, None, :]) | eye[None])[:, None]
            for block in self.blocks:
                x = block(x, mask, keep)
            return self.ln(x)

    return Net()


class SASRec(TorchTrainerParams, TorchNetState):
    """Self-attentive sequential recommender (Kang & McAuley 2018): causal self-attention over the item history.

    ``max_len`` items of history, ``n_blocks`` attention blocks of ``n_heads`` heads, ``hidden``
    units, ``dropout``; Adam at ``learning_rate`` (``l2`` weight decay) on batches of ``batch_size``
    windows for up to ``epochs`` epochs, stopping when validation NDCG@10 has not improved for
    ``patience`` epochs (the best epoch's weights are kept). ``loss``: ``"ce"`` (softmax;
    ``n_negatives`` sampled items, 0 = all) or ``"bce"``. Defaults: the configuration that beat
    markov and EASE on ml-latest-small under leave-last-out in bench/bench_sequential.py.

    ``time_budget`` (seconds, default 180; None = no limit) ends training before the epoch that
    would overrun it (an epoch is predicted to last as long as the previous one), so a default
    run finishes in bounded time on a busy machine: the bench's best epoch came at 23 of 32
    within 280 s on a calm one. ``stop_reason_`` says why training ended ("patience",
    "time budget", "epochs" or "listener"). ``n_threads`` is capped by the cores others leave free.
    """

    item_vectors: ClassVar[bool | None] = True

    name: ClassVar[str] = "sasrec"
    can_stop_early: ClassVar[bool] = False  # net exported at the end; stops on its own held-out items
    #: reads each user's history in time order: trained on every interaction, not only positives
    tags: ClassVar[Tags] = Tags(trains_on="sequences", fold_in="sequence", serving="sasrec")

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "n_blocks": [POSITIVE_INT],
        "n_heads": [POSITIVE_INT],
        "l2": [NON_NEGATIVE],
        "loss": [Options("ce", "bce")],  # ce: full or sampled softmax; bce: one sampled negative
        "device": [Options("auto", "cpu", "cuda")],
    }

    max_len: int = 200
    n_blocks: int = 2
    n_heads: int = 1
    hidden: int = 64
    dropout: float = 0.4
    patience: int = 12
    l2: float = 0.0
    loss: str = "ce"
    n_negatives: int = 4096
    device: str = "cpu"
    time_budget: float | None = 180.0
    # the trainer group's defaults (TorchTrainerParams declares them)
    epochs = 200
    learning_rate = 3e-3
    batch_size = 16
    n_threads = 2

    # --- helpers ----------------------------------------------------------------------------
    def _validate_params(self) -> None:
        super()._validate_params()
        if self.hidden % self.n_heads:
            raise ConfigError(f"hidden ({self.hidden}) must be divisible by n_heads ({self.n_heads})")

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
            self._net_obj = self._load_net_state(torch, net).to(self._torch_device(torch)).eval()
        return self._net_obj

    def _user_vectors(self, seqs: np.ndarray) -> np.ndarray:
        torch = _torch()
        net = self._net()
        dev = next(net.parameters()).device
        out = []
        with torch.no_grad():
            for start in range(0, len(seqs), 1024):
                x = torch.from_numpy(_trim(seqs[start : start + 1024])).to(dev)
                out.append(net(x)[:, -1, :].float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.hidden), dtype=np.float32)

    # --- fit --------------------------------------------------------------------------------
    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Train on time-ordered histories; early-stop on NDCG@10 of each user's held-out latest training item."""
        require_interactions(train)
        torch = _torch()
        torch.set_num_threads(free_threads(limit=min(int(self.n_threads), 2)))
        started = time.perf_counter()
        seed = 0 if self.random_state is None else int(self.random_state)
        torch.manual_seed(seed)
        rng = check_random_state(self.random_state)
        dev = self._torch_device(torch)
        self._remember_train(train)
        n_items = train.n_items
        counts, hist = self._histories(train)
        # validation: the latest training item of users with ≥ 3 items; they train on the rest
        val_users = np.flatnonzero(counts >= 3)
        train_hist = [h[:-1] if counts[u] >= 3 else h for u, h in enumerate(hist)]
        val_target = np.array([hist[u][-1] for u in val_users], dtype=np.int64)
        val_input = self._pad([train_hist[u] for u in val_users])
        val_seen = [np.asarray(train_hist[u]) for u in val_users]
        L = self.max_len
        inp, pos, row_user = self._windows(train_hist)
        lengths = (pos > 0).sum(axis=1)
        use_ce = self.loss == "ce"
        n_neg = int(self.n_negatives) if n_items > int(self.n_negatives) else 0
        if not use_ce:
            keys = np.unique(
                np.arange(train.n_users, dtype=np.int64).repeat([len(h) for h in train_hist]) * n_items
                + np.concatenate(train_hist)
            )

        net = _build_net(torch, n_items, L, self.hidden, self.n_blocks, self.n_heads, float(self.dropout)).to(
            dev
        )
        opt = torch.optim.Adam(
            net.parameters(), lr=self.learning_rate, betas=(0.9, 0.98), weight_decay=float(self.l2)
        )
        bce = torch.nn.BCEWithLogitsLoss(reduction="sum")
        ce = torch.nn.CrossEntropyLoss(reduction="sum")
        self.history_: list[dict[str, float]] = []
        best, best_state, bad = -np.inf, None, 0  # a score is -loss without validation users: often < -1
        self.stop_reason_ = "epochs"
        for epoch in range(1, int(self.epochs) + 1):
            epoch_start = time.perf_counter()
            net.train()
            # batches of similar length (padding trimmed per batch), in random order
            by_len = np.lexsort((rng.random(len(inp)), lengths))
            batches = [
                by_len[i : i + int(self.batch_size)] for i in range(0, len(by_len), int(self.batch_size))
            ]
            if not use_ce:
                neg = rng.integers(0, n_items, size=inp.shape)
                for _ in range(5):  # resample negatives the user has interacted with
                    clash = np.isin(row_user[:, None] * n_items + neg, keys) & (pos > 0)
                    if not clash.any():
                        break
                    neg[clash] = rng.integers(0, n_items, size=int(clash.sum()))
                neg = neg + 1
            total, n_pos = 0.0, 0
            for j in rng.permutation(len(batches)):
                b = batches[j]
                # widths rounded up to 16: few distinct shapes, so the CPU kernels are reused
                width = min(L, -(-int(lengths[b].max()) // 16) * 16)
                x = torch.from_numpy(inp[b, -width:]).to(dev)
                p = torch.from_numpy(pos[b, -width:]).to(dev)
                q = None if use_ce else torch.from_numpy(neg[b, -width:]).to(dev)
                loss, mask = self._batch_loss(torch, net, dev, x, p, q, n_neg, n_items, rng, ce, bce)
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
            now = time.perf_counter()
            if stop or (len(val_users) and bad > int(self.patience)):
                self.stop_reason_ = "listener" if stop else "patience"
                break
            if self.time_budget is not None and epoch < int(self.epochs):
                if (now - started) + (now - epoch_start) > float(
                    self.time_budget
                ):  # the next epoch would overrun
                    self.stop_reason_ = "time budget"
                    break
        assert best_state is not None
        self._keep_net_state(best_state)
        return self

    def _histories(self, train: Interactions) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each user's items in time order (``history_seq_`` keeps them padded for scoring)."""
        order = time_order(train)
        counts = np.bincount(train.users, minlength=train.n_users)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        seq_items = train.items[order].astype(np.int64)
        hist = [seq_items[bounds[u] : bounds[u + 1]] for u in range(train.n_users)]
        self.history_seq_ = self._pad(hist).astype(np.int32)
        return counts, hist

    def _windows(self, train_hist: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training examples: inputs, next-item targets (1-based, 0 = padding) and each row's user.

        Every transition of every history is a target; a history longer than max_len + 1 is cut into
        windows of max_len + 1 items (consecutive windows share one item).
        """
        L = self.max_len
        rows_u: list[int] = []
        windows: list[np.ndarray] = []
        for u, h in enumerate(train_hist):
            end = len(h)
            while end >= 2:
                windows.append(h[max(0, end - L - 1) : end])
                rows_u.append(u)
                end -= L
        if not windows:
            raise DataError("sasrec needs users with at least 2 training interactions")
        inp = np.zeros((len(windows), L), dtype=np.int64)
        pos = np.zeros((len(windows), L), dtype=np.int64)
        for r, h in enumerate(windows):
            inp[r, -(len(h) - 1) :] = h[:-1] + 1
            pos[r, -(len(h) - 1) :] = h[1:] + 1
        return inp, pos, np.asarray(rows_u, dtype=np.int64)

    def _batch_loss(
        self,
        torch: Any,
        net: Any,
        dev: Any,
        x: Any,
        p: Any,
        q: Any,
        n_neg: int,
        n_items: int,
        rng: np.random.Generator,
        ce: Any,
        bce: Any,
    ) -> tuple[Any, Any]:
        """One batch's summed loss and its mask of real positions.

        ``q`` (the per-position negatives) is None for cross-entropy: a full softmax over every item
        when ``n_neg`` is 0, else a sampled softmax against ``n_neg`` negatives shared by the batch.
        """
        h = net(x)
        mask = p > 0
        if q is None and not n_neg:  # softmax over every item at every real position
            logits = h[mask] @ net.item_emb.weight[1:].T
            return ce(logits, p[mask] - 1), mask
        if q is None:  # sampled softmax: the positive against n_neg negatives shared by the batch
            hm, pm = h[mask], p[mask]
            negs = torch.from_numpy(rng.integers(1, n_items + 1, size=n_neg)).to(dev)
            lp = (hm * net.item_emb(pm)).sum(-1, keepdim=True)
            ln = (hm @ net.item_emb(negs).T).masked_fill(pm[:, None] == negs[None], -torch.inf)
            logits = torch.cat([lp, ln], dim=1)
            return ce(logits, torch.zeros(len(pm), dtype=torch.long, device=dev)), mask
        hp = (h * net.item_emb(p)).sum(-1)[mask]
        hn = (h * net.item_emb(q)).sum(-1)[mask]
        return bce(hp, torch.ones_like(hp)) + bce(hn, torch.zeros_like(hn)), mask

    def _validate(
        self, torch: Any, net: Any, dev: Any, seqs: np.ndarray, target: np.ndarray, seen: list[np.ndarray]
    ) -> float:
        """Full-ranking NDCG@10 of the held-out item, the user's other training items excluded."""
        net.eval()
        gains = np.zeros(len(target))
        with torch.no_grad():
            emb = net.item_emb.weight[1:]
            for start in range(0, len(seqs), 512):
                x = torch.from_numpy(_trim(seqs[start : start + 512])).to(dev)
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
        emb = self._item_table()
        if items is not None:
            emb = emb[np.asarray(items)]
        return (vecs @ emb.T).astype(np.float32)

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray:
        """Scores after an ordered history of item indices (oldest first); no retraining needed."""
        items = fitted_history(self, items)
        vec = self._user_vectors(self._pad([items]))
        return (vec @ self._item_table().T)[0].astype(np.float32)

    def item_embeddings(self) -> np.ndarray | None:
        """The learned item embedding table (``n_items × hidden``, padding row dropped)."""
        w = getattr(self, _PREFIX + "item_emb.weight", None)
        return None if w is None else np.asarray(w)[1:]

    def _item_table(self) -> np.ndarray:
        """The item embeddings of a fitted model (``item_embeddings`` without its None)."""
        emb = self.item_embeddings()
        if emb is None:
            raise NotFittedError(f"{self.name} is not fitted: call fit() first")
        return emb

    # --- persistence: the state dict as npz arrays --------------------------------------------
