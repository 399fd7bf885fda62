"""Exported artifacts (DESIGN.md, 'Artifact format'): a folder a server can load without the model code.

``export_artifact`` turns a fitted model into plain arrays (float32 factors and biases, or
neighbour lists, or item scores) plus id maps, the item table and the training-seen matrix;
``load_artifact`` verifies every checksum and the format version and returns an
:class:`Artifact` that recommends with numpy alone (top-N by ``argpartition``). No pickle.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movierec.errors import ArtifactError, ConfigError
from movierec.interactions import IdMap, Interactions
from movierec.jsonsafe import to_jsonable
from movierec.output_folders import check_artifact_target
from movierec.serving.validate import sign_manifest, validate_artifact
from movierec.serving.visitor import visitor_export

__all__ = ["FORMAT_VERSION", "Artifact", "export_artifact", "load_artifact", "package_versions"]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATA_FILES = ("ids.parquet", "items.parquet", "factors.npz", "seen.npz")
IMPLICIT_THRESHOLD = 4.0
_PARITY_USERS = 16
_PARITY_TOL = 1e-3


# --- provenance --------------------------------------------------------------------------


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages an artifact's numbers depend on (movierec.provenance if present)."""
    try:  # another module may own richer provenance; use it when it exists
        from movierec import provenance  # type: ignore[attr-defined]

        fn = getattr(provenance, "package_versions", None)
        if callable(fn):
            return dict(fn())
    except ImportError:
        pass
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("movierec", "numpy", "scipy", "pandas", "pyarrow", "numba"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _manifest_digest(manifest: dict[str, Any]) -> str:
    """Digest of the manifest's own content (everything but this field), so its bytes are covered too."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


_jsonable = to_jsonable  # the one sanitiser (movierec.jsonsafe)


# --- export ------------------------------------------------------------------------------


def _arr(model: Any, name: str) -> np.ndarray | None:
    value = getattr(model, name, None)
    return None if value is None else np.asarray(value)


def _model_arrays(model: Any, train: Interactions) -> tuple[str, dict[str, np.ndarray]]:
    """The serving representation of a fitted model: ``(family, arrays)``.

    ``factors``: score = global_mean + user_bias + item_bias + item_factors · user_factors (a
    bias-only baseline has zero factors); ``neighbours``: an items × items CSR whose row ``j``
    lists ``j``'s neighbours; ``scores``: one user-independent score per item (popularity).
    """
    n_users, n_items = train.n_users, train.n_items
    if getattr(model, "name", None) == "markov":
        return "markov", _markov_arrays(model)
    if getattr(model, "name", None) in ("sasrec", "gru4rec"):  # network sequence models, one family
        return "sasrec", _sasrec_arrays(model)
    neigh = getattr(model, "neighbours_", None)
    ifac, ibias = _arr(model, "item_factors_"), _arr(model, "item_bias_")
    gm = float(np.asarray(getattr(model, "global_mean_", 0.0) or 0.0))
    if getattr(model, "biased", True) is False:  # an unbiased factor model scores without the mean
        gm = 0.0
    if neigh is not None and hasattr(model, "x_offset_"):
        return "knn", _knn_arrays(model, n_users, n_items, gm)
    if neigh is not None:
        s = sp.csr_matrix(neigh, dtype=np.float32)
        s.sort_indices()
        out = {
            "neighbours_indptr": s.indptr.astype(np.int64),
            "neighbours_indices": s.indices.astype(np.int32),
            "neighbours_weights": s.data.astype(np.float32),
            "global_mean": np.float32(gm),
        }
        weights = getattr(model, "user_items_", None)  # the user-side weights the model scores with
        if weights is not None:
            w = sp.csr_matrix(weights, dtype=np.float32)
            w.sort_indices()
            out.update(
                weights_indptr=w.indptr.astype(np.int64),
                weights_indices=w.indices.astype(np.int32),
                weights_data=w.data.astype(np.float32),
            )
        ub, ib = _arr(model, "user_bias_"), ibias
        out["user_bias"] = np.zeros(n_users, np.float32) if ub is None else ub.astype(np.float32).ravel()
        out["item_bias"] = np.zeros(n_items, np.float32) if ib is None else ib.astype(np.float32).ravel()
        return "neighbours", out
    if ifac is not None or ibias is not None:
        ufac = _arr(model, "user_factors_")
        if ifac is None:
            ifac, ufac = np.zeros((n_items, 0), np.float32), np.zeros((n_users, 0), np.float32)
        if ufac is None or ufac.shape[0] != n_users or ifac.shape[0] != n_items:
            raise ConfigError(
                f"cannot export {model.name!r}: user/item factor shapes do not match the training data"
            )
        ub = _arr(model, "user_bias_")
        return "factors", {
            "user_factors": np.ascontiguousarray(ufac, dtype=np.float32),
            "item_factors": np.ascontiguousarray(ifac, dtype=np.float32),
            "user_bias": np.zeros(n_users, np.float32) if ub is None else ub.astype(np.float32).ravel(),
            "item_bias": np.zeros(n_items, np.float32) if ibias is None else ibias.astype(np.float32).ravel(),
            "global_mean": np.float32(gm),
        }
    probe = np.asarray(model.score(np.arange(min(n_users, 2), dtype=np.int32)), dtype=np.float32)
    if len(probe) > 1 and not np.allclose(probe[0], probe[1], equal_nan=True):
        raise ConfigError(
            f"cannot export {model.name!r}: it has no item factors, neighbour lists or user-independent scores"
        )
    return "scores", {"item_scores": probe[0].astype(np.float32)}


def _markov_arrays(model: Any) -> dict[str, np.ndarray]:
    """First-order transitions (CSR counts), the popularity back-off and each user's latest item."""
    t = sp.csr_matrix(model.transitions_, dtype=np.float32)
    t.sort_indices()
    return {
        "transitions_indptr": t.indptr.astype(np.int64),
        "transitions_indices": t.indices.astype(np.int32),
        "transitions_counts": t.data.astype(np.float32),
        "out_counts": np.asarray(model.out_counts_, dtype=np.float32),
        "item_prior": np.asarray(model.item_prior_, dtype=np.float32),
        "alpha": np.float32(model.alpha),
        "last_item": np.asarray(model.last_item_, dtype=np.int32),
    }


_SASREC_NET = "net:"  # prefix of the network's weight arrays in factors.npz


def _sasrec_arrays(model: Any) -> dict[str, np.ndarray]:
    """Known users as factors (their final hidden state after the training history), plus the network's weights.

    Known users are scored without torch; a visitor's ordered history runs the network (torch, lazily).
    """
    users = np.arange(model.n_users_, dtype=np.int64)
    if hasattr(model, "export_vectors"):  # gru4rec: its final states, output embeddings and biases
        user_f, item_f, item_b = model.export_vectors()
    else:
        user_f = model._user_vectors(model.history_seq_[users].astype(np.int64))
        item_f, item_b = model.item_embeddings(), np.zeros(model.n_items_, np.float32)
    out = {
        "user_factors": np.ascontiguousarray(user_f, np.float32),
        "item_factors": np.ascontiguousarray(item_f, np.float32),
        "user_bias": np.zeros(model.n_users_, np.float32),
        "item_bias": np.ascontiguousarray(item_b, np.float32),
        "global_mean": np.float32(0.0),
    }
    for key, value in vars(model).items():
        if key.startswith("net."):
            out[_SASREC_NET + key[len("net.") :]] = np.asarray(value, dtype=np.float32)
    return out


def _markov_next(arrays: dict[str, np.ndarray], last: int) -> np.ndarray:
    """``P(· | last)`` as :class:`movierec.models.sequential.Markov` computes it (popularity when ``last < 0``)."""
    prior = arrays["item_prior"]
    if last < 0:
        return prior.copy()
    alpha = float(arrays["alpha"])
    ptr, idx = arrays["transitions_indptr"], arrays["transitions_indices"]
    row = np.zeros(len(prior), dtype=np.float32)
    row[idx[ptr[last] : ptr[last + 1]]] = arrays["transitions_counts"][ptr[last] : ptr[last + 1]]
    return ((row + alpha * prior) / (arrays["out_counts"][last] + alpha)).astype(np.float32)


def _knn_arrays(model: Any, n_users: int, n_items: int, gm: float) -> dict[str, np.ndarray]:
    """Surprise-style item-based kNN (knn-basic/-means/-baseline): neighbour lists in best-first order,
    the per-item and per-user offsets, k, min_k and which combination rule the model uses."""
    if getattr(model, "user_based", False):
        raise ConfigError(f"cannot export {model.name!r} with user_based=true: serving needs item neighbours")
    nb = sp.csr_matrix(model.neighbours_)  # row order is best first: keep it (no sort_indices)
    has_biases = bool(getattr(model, "has_biases", True))
    ub, ib = _arr(model, "user_bias_"), _arr(model, "item_bias_")
    return {
        "neighbours_indptr": nb.indptr.astype(np.int64),
        "neighbours_indices": nb.indices.astype(np.int32),
        "neighbours_weights": nb.data.astype(np.float32),
        "knn_x_offset": np.asarray(model.x_offset_, dtype=np.float64),
        "knn_y_offset": np.asarray(model.y_offset_, dtype=np.float64),
        "knn_k": np.int64(model.k),
        "knn_min_k": np.int64(model.min_k),
        "knn_rule": np.int64(
            0 if model.name == "knn-basic" else 1
        ),  # 0: Σs·r/Σs or fallback; 1: base + deviation
        "global_mean": np.float32(gm),
        "user_bias": np.zeros(n_users, np.float32) if ub is None or not has_biases else ub.astype(np.float32),
        "item_bias": np.zeros(n_items, np.float32) if ib is None or not has_biases else ib.astype(np.float32),
    }


class _KnnIndex:
    """Column access to best-first neighbour lists: for the items a user rated, the lists they appear in."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        indptr = arrays["neighbours_indptr"]
        n = len(indptr) - 1
        nnz = len(arrays["neighbours_indices"])
        self.n = n
        self.rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
        self.sims = arrays["neighbours_weights"].astype(np.float64)
        # positions + 1 (so none is a stored zero), as CSC: column j = every list that contains j
        pos = sp.csr_matrix(
            (np.arange(1, nnz + 1, dtype=np.float64), arrays["neighbours_indices"], indptr), shape=(n, n)
        )
        self.by_col = pos.tocsc()
        self.x_off = arrays["knn_x_offset"]
        self.k = int(arrays["knn_k"])
        self.min_k = int(arrays["knn_min_k"])
        self.rule = int(arrays["knn_rule"])
        self.gm = float(arrays["global_mean"])

    def scores(
        self, items: np.ndarray, ratings: np.ndarray, y_off: float, fallback: np.ndarray
    ) -> np.ndarray:
        """Predicted ratings for every item: the k first neighbours of each item among ``items`` (Surprise's rule)."""
        items = np.asarray(items, dtype=np.int64)
        sub = self.by_col[:, items]
        pos = sub.data.astype(np.int64) - 1
        col = np.repeat(np.arange(len(items)), np.diff(sub.indptr))
        order = np.argsort(pos, kind="stable")  # row-major, best first within a row
        pos, col = pos[order], col[order]
        rows = self.rows[pos]
        if len(rows):
            starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
            rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
            keep = rank < self.k
            rows, pos, col = rows[keep], pos[keep], col[keep]
        s = self.sims[pos]
        dev = np.asarray(ratings, dtype=np.float64)[col] - self.x_off[items[col]] - y_off
        sum_sim = np.bincount(rows, weights=s, minlength=self.n)
        sum_dev = np.bincount(rows, weights=s * dev, minlength=self.n)
        actual = np.bincount(rows, minlength=self.n)
        mean_dev = np.divide(sum_dev, sum_sim, out=np.zeros(self.n), where=sum_sim > 0)
        if self.rule == 0:
            est = np.where((actual < self.min_k) | (actual == 0), fallback, mean_dev)
        else:
            est = self.x_off + y_off + np.where(actual < self.min_k, 0.0, mean_dev)
        return est.astype(np.float32)


def _ids_frame(user_map: IdMap, item_map: IdMap) -> pd.DataFrame:
    """Long table ``kind, index, id_int, id_str``: integer raw ids stay integers, strings stay strings."""
    parts = []
    for kind, m in (("user", user_map), ("item", item_map)):
        ids = m.ids
        is_int = pd.Index(ids).dtype.kind in "iu"
        parts.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "index": np.arange(len(ids), dtype=np.int32),
                    "id_int": pd.array(ids if is_int else [None] * len(ids), dtype="Int64"),
                    "id_str": pd.array(
                        [None] * len(ids) if is_int else [str(x) for x in ids], dtype="string"
                    ),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _items_frame(dataset: Any, train: Interactions) -> pd.DataFrame:
    if hasattr(dataset, "item_table") and dataset.interactions.item_map == train.item_map:
        table = dataset.item_table()
    else:
        ids = train.item_map.ids
        table = pd.DataFrame(
            {
                "movieId": ids,
                "title": [f"item {i}" for i in ids],
                "year": pd.array([None] * len(ids), dtype="Int64"),
                "genres": [[] for _ in ids],
            }
        )
    out = pd.DataFrame(
        {
            "index": np.arange(len(table), dtype=np.int32),
            "movieId": [str(x) for x in table["movieId"]],
            "title": table["title"].astype(str).to_numpy(),
            "year": pd.array(table["year"], dtype="Int64"),
            "genres": [[str(g) for g in gs] if gs is not None else [] for gs in table["genres"]],
        }
    )
    return out


def _score_factors(arrs: dict[str, np.ndarray], users: np.ndarray) -> np.ndarray:
    s = arrs["user_factors"][users] @ arrs["item_factors"].T
    return s + arrs["item_bias"][None, :] + arrs["user_bias"][users, None] + arrs["global_mean"]


def export_artifact(
    model: Any,
    dataset: Any,
    train: Interactions,
    out_dir: str | Path,
    *,
    metrics: dict[str, Any] | None = None,
    force: bool = False,
    implicit_threshold: float = IMPLICIT_THRESHOLD,
    notes: Sequence[str] = (),
) -> Path:
    """Write ``model`` (fitted on ``train``) as an artifact folder; returns its path.

    The folder is written to a temporary sibling and renamed into place, so a reader never sees
    half an artifact. Export checks that the stored arrays reproduce ``model.score`` on a sample
    of users and refuses otherwise. ``force`` replaces an existing folder.
    """
    out = Path(out_dir).expanduser()
    check_artifact_target(out, force)  # --force replaces only a folder export wrote; nothing else is deleted
    if not hasattr(model, "n_items_"):
        raise ConfigError(f"{getattr(model, 'name', model)!r} is not fitted; nothing to export")
    if model.n_items_ != train.n_items or model.n_users_ != train.n_users:
        raise ConfigError("the model was not fitted on the given training interactions (shapes differ)")
    family, arrays = _model_arrays(model, train)
    visitor = visitor_export(model) if family == "factors" else None  # issue 20: serve visitors by features
    if visitor is not None:
        arrays.update(visitor[0])
    kind = str(getattr(model, "kind", "implicit"))
    clip: list[float] | None = None
    parity = _parity(model, family, arrays, train)
    if family == "factors" and kind == "explicit" and parity["clipped"]:
        clip = list(train.rating_scale)
    seen = train.csr().astype(np.float32)
    seen.sort_indices()
    dataset_scale = list(getattr(getattr(dataset, "interactions", train), "rating_scale", train.rating_scale))
    params = model.get_params() if hasattr(model, "get_params") else {}
    manifest: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "model": {"name": model.name, "params": _jsonable(params), "kind": kind, "family": family},
        "dataset": {
            "name": str(getattr(dataset, "name", "data")),
            "sha256": str(getattr(dataset, "sha256", "")),
            "n_users": train.n_users,
            "n_items": train.n_items,
            "n_train_interactions": train.n_ratings,
        },
        "rating_scale": dataset_scale,
        "train_scale": list(train.rating_scale),
        "implicit_threshold": float(implicit_threshold),
        "score_clip": clip,
        "fold_in": _fold_in_params(params, kind),
        "parity_max_abs_diff": parity["diff"],
        "metrics": _jsonable(metrics or {}),
        "packages": package_versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "notes": list(notes),
    }
    if visitor is not None:
        manifest["user_features"] = visitor[1]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; an artifact is meant to be shared
    try:
        _ids_frame(train.user_map, train.item_map).to_parquet(tmp / "ids.parquet", index=False)
        _items_frame(dataset, train).to_parquet(tmp / "items.parquet", index=False)
        np.savez(tmp / "factors.npz", **arrays)
        np.savez(
            tmp / "seen.npz",
            indptr=seen.indptr.astype(np.int64),
            indices=seen.indices.astype(np.int32),
            ratings=seen.data.astype(np.float32),
        )
        files = {name: _sha256(tmp / name) for name in DATA_FILES}
        manifest["files"] = files
        manifest["model_version"] = hashlib.sha256(
            "".join(files[n] for n in DATA_FILES).encode()
        ).hexdigest()[:12]
        manifest["manifest_sha256"] = _manifest_digest(manifest)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        sign_manifest(tmp)  # manifest.sig when MOVIEREC_ARTIFACT_KEY is set
        for name in (*DATA_FILES, MANIFEST):  # durable before the rename makes it visible
            with open(tmp / name, "rb") as fh:
                os.fsync(fh.fileno())
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _fold_in_params(params: dict[str, Any], kind: str) -> dict[str, float]:
    """Regularisation for folding a new person in (ridge solve); from the model's own reg when it has one."""
    reg = None
    for key in ("regularization", "reg", "reg_all", "user_alpha"):
        if isinstance(params.get(key), (int, float)) and not isinstance(params.get(key), bool):
            reg = float(params[key])
            break
    alpha = params.get("alpha")
    if kind == "explicit":  # ridge over (b_u, p_u) with reg 1, as the factor models' own score_new_user
        reg = 1.0
    return {
        "reg": max(reg if reg is not None else 0.1, 1e-3),
        "alpha": float(alpha) if isinstance(alpha, (int, float)) and not isinstance(alpha, bool) else 1.0,
    }


def _parity(model: Any, family: str, arrays: dict[str, np.ndarray], train: Interactions) -> dict[str, Any]:
    """Check the exported arrays reproduce ``model.score`` on a few users (clipped or not)."""
    users = np.linspace(0, train.n_users - 1, min(train.n_users, _PARITY_USERS)).astype(np.int32)
    users = np.unique(users)
    want = np.asarray(model.score(users), dtype=np.float64)
    seen = train.csr().astype(np.float32)
    explicit = getattr(model, "kind", "implicit") == "explicit"
    got = np.vstack([_score_known(family, arrays, seen, int(u), train.rating_scale, explicit) for u in users])
    got = got.astype(np.float64)
    finite = np.isfinite(want)
    diff = float(np.max(np.abs(got[finite] - want[finite]), initial=0.0))
    clipped = False
    if diff > _PARITY_TOL and family == "factors":
        lo, hi = train.rating_scale
        cdiff = float(np.max(np.abs(np.clip(got, lo, hi)[finite] - want[finite]), initial=0.0))
        if cdiff <= _PARITY_TOL:
            diff, clipped = cdiff, True
    if diff > _PARITY_TOL:
        raise ArtifactError(
            f"cannot export {model.name!r}: the exported {family} do not reproduce the model's scores "
            f"(max difference {diff:.3g}); this model needs its own export path"
        )
    return {"diff": diff, "clipped": clipped}


def _score_known(
    family: str,
    arrays: dict[str, np.ndarray],
    seen: sp.csr_matrix,
    u: int,
    scale: Sequence[float],
    explicit: bool,
) -> np.ndarray:
    """Scores over all items for a training user (the same formulas :class:`Artifact` uses)."""
    if family in ("factors", "sasrec"):
        return _score_factors(arrays, np.array([u]))[0]
    if family == "markov":
        return _markov_next(arrays, int(arrays["last_item"][u]))
    if family == "scores":
        return arrays["item_scores"]
    if family == "knn":
        lo, hi = seen.indptr[u], seen.indptr[u + 1]
        fallback = arrays["global_mean"] + arrays["user_bias"][u] + arrays["item_bias"]
        return _KnnIndex(arrays).scores(
            seen.indices[lo:hi], seen.data[lo:hi], float(arrays["knn_y_offset"][u]), fallback
        )
    s = sp.csr_matrix(
        (arrays["neighbours_weights"], arrays["neighbours_indices"], arrays["neighbours_indptr"]),
        shape=(len(arrays["item_bias"]), len(arrays["item_bias"])),
    )
    seen = _user_weights(arrays, seen)
    lo, hi = seen.indptr[u], seen.indptr[u + 1]
    return _neighbour_scores(
        s, seen.indices[lo:hi], seen.data[lo:hi], arrays, float(arrays["user_bias"][u]), scale, explicit
    )


def _user_weights(arrays: dict[str, np.ndarray], seen: sp.csr_matrix) -> sp.csr_matrix:
    """The user × item weights a neighbour model scores with (its own, when exported; else the seen ratings)."""
    if "weights_indptr" not in arrays:
        return seen
    return sp.csr_matrix(
        (arrays["weights_data"], arrays["weights_indices"], arrays["weights_indptr"]), shape=seen.shape
    )


def _neighbour_scores(
    s: sp.csr_matrix,
    items: np.ndarray,
    ratings: np.ndarray,
    arrays: dict[str, np.ndarray],
    user_bias: float,
    scale: Sequence[float],
    explicit: bool,
) -> np.ndarray:
    """Implicit: sum of the neighbour rows of the user's items. Explicit (ratings vary): baseline plus
    similarity-weighted deviations from the baseline (Koren 2010, 'Factor in the neighbors')."""
    rows = s[items]
    if not explicit:
        return np.asarray(rows.T @ ratings.astype(np.float32)).ravel().astype(np.float32)
    base = arrays["global_mean"] + user_bias + arrays["item_bias"]
    dev = ratings - base[items]
    num = np.asarray(rows.T @ dev).ravel()
    den = np.asarray(abs(rows).sum(axis=0)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        adj = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return np.clip(base + adj, scale[0], scale[1]).astype(np.float32)


# --- loading -----------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case- and accent-insensitive form of a string (NFKD, combining marks dropped, casefolded)."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_ARTICLE = re.compile(r"^(.*), (the|a|an|les|la|le|l'|il|el|das|der|die|los|las)(\s*\(.*)?$")


def _search_key(title: str) -> str:
    """Folded title with a trailing article moved back to the front ('American President, The (1995)')."""
    folded = _fold(title)
    m = _ARTICLE.match(folded)
    if m:
        return f"{m.group(2)} {m.group(1)}{m.group(3) or ''} | {folded}"
    return folded


def load_artifact(path: str | Path) -> Artifact:
    """Open an artifact folder after verifying its format version and the sha256 of every file."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ArtifactError(f"{root}: no such artifact folder (create one with 'movierec export')")
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise ArtifactError(f"{root}: not an artifact (missing {MANIFEST})")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{mpath}: corrupt manifest (not valid JSON: {exc})") from exc
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{mpath}: corrupt manifest (not a JSON object)")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise ArtifactError(f"{mpath}: missing or invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"{root}: artifact format version {version} is newer than this movierec reads ({FORMAT_VERSION}); upgrade movierec"
        )
    if version < 1:
        raise ArtifactError(f"{root}: unknown artifact format version {version}")
    if manifest.get("manifest_sha256") != _manifest_digest(manifest):
        raise ArtifactError(f"{mpath}: manifest checksum mismatch (the manifest was modified after export)")
    files = manifest.get("files") or {}
    for name in DATA_FILES:
        fpath = root / name
        if not fpath.is_file():
            raise ArtifactError(f"{root}: missing file {name}")
        if name not in files:
            raise ArtifactError(f"{mpath}: no checksum recorded for {name}")
        if _sha256(fpath) != files[name]:
            raise ArtifactError(f"{fpath}: sha256 mismatch (file corrupted or tampered with since export)")
    try:
        with np.load(root / "factors.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        with np.load(root / "seen.npz", allow_pickle=False) as npz:
            seen_parts = {k: npz[k] for k in npz.files}
        ids = pd.read_parquet(root / "ids.parquet")
        items = pd.read_parquet(root / "items.parquet")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"{root}: unreadable artifact data ({exc})") from exc
    validate_artifact(root, manifest, arrays, seen_parts, ids, items)  # structure, not just checksums
    return Artifact(root, manifest, arrays, seen_parts, ids, items)


def _id_map(ids: pd.DataFrame, kind: str) -> IdMap:
    part = ids[ids["kind"] == kind].sort_values("index")
    if part["id_int"].notna().all():
        raw: Any = part["id_int"].to_numpy(dtype=np.int64)
    else:
        raw = part["id_str"].astype(object).to_numpy()
    return IdMap(raw, kind="user" if kind == "user" else "movie")


def _as_key(string_ids: bool, raw: object) -> object:
    """An integer asked of a map of string ids becomes its string (pandas 3 indexes strings as ``str``, not object)."""
    if string_ids and isinstance(raw, (int, np.integer)) and not isinstance(raw, bool):
        return str(raw)
    return raw


@dataclass
class _Query:
    k: int
    exclude: np.ndarray | None
    genres: Sequence[str] | None


class Artifact:
    """A loaded, verified artifact: recommend, fold in a visitor, find similar movies, search titles."""

    def __init__(
        self,
        path: Path,
        manifest: dict[str, Any],
        arrays: dict[str, np.ndarray],
        seen: dict[str, np.ndarray],
        ids: pd.DataFrame,
        items: pd.DataFrame,
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.user_map = _id_map(ids, "user")
        self.item_map = _id_map(ids, "item")
        self._user_str = self.user_map.ids.dtype.kind not in "iu"
        self._item_str = self.item_map.ids.dtype.kind not in "iu"
        self.family: str = manifest["model"]["family"]
        self.kind: str = manifest["model"]["kind"]
        n_users, n_items = len(self.user_map), len(self.item_map)
        self._a = arrays
        self._seen = sp.csr_matrix(
            (seen["ratings"], seen["indices"], seen["indptr"]), shape=(n_users, n_items)
        )
        self._train_scale = tuple(manifest.get("train_scale", manifest["rating_scale"]))
        clip = manifest.get("score_clip")
        self._clip = None if clip is None else (float(clip[0]), float(clip[1]))
        self._popularity = np.bincount(self._seen.indices, minlength=n_items).astype(np.float32)
        if self.family == "knn":
            self._knn = _KnnIndex(arrays)
            self._has_user_offset = bool(np.any(arrays["knn_y_offset"] != 0))
        if self.family in ("neighbours", "knn"):
            self._weights = _user_weights(arrays, self._seen)
            self._neigh = sp.csr_matrix(
                (arrays["neighbours_weights"], arrays["neighbours_indices"], arrays["neighbours_indptr"]),
                shape=(n_items, n_items),
            )
        self._net: Any = None  # sasrec's network, built on the first visitor history
        if self.family in ("factors", "sasrec"):
            f = arrays["item_factors"]
            self._gram = (f.T @ f).astype(np.float64)
            norms = np.linalg.norm(f, axis=1)
            self._unit = (f / np.where(norms > 0, norms, 1.0)[:, None]).astype(np.float32)
        # item table, in index order, as ready-to-serialise rows
        items = items.sort_values("index")
        years = items["year"].astype("Int64").to_numpy(dtype=object, na_value=None)
        self._rows: list[dict[str, Any]] = []
        raw_items = self.item_map.ids
        for i, (title, year, genres) in enumerate(zip(items["title"], years, items["genres"], strict=True)):
            mid = raw_items[i]
            self._rows.append(
                {
                    "movieId": int(mid) if isinstance(mid, (int, np.integer)) else str(mid),
                    "title": str(title),
                    "year": None if year is None else int(year),
                    "genres": [str(g) for g in (genres if genres is not None else [])],
                }
            )
        self._keys = [_search_key(r["title"]) for r in self._rows]
        self._genre_index: dict[str, np.ndarray] = {}
        names: dict[str, str] = {}
        for r in self._rows:
            for g in r["genres"]:
                names.setdefault(g.casefold(), g)
        for key, name in names.items():
            mask = np.fromiter((name in r["genres"] for r in self._rows), dtype=bool, count=n_items)
            self._genre_index[key] = mask
        self._genre_names = sorted(names.values())

    def __repr__(self) -> str:
        from movierec.display import artifact_repr

        return artifact_repr(self)

    def _repr_html_(self) -> str:
        from movierec.display import artifact_html

        return artifact_html(self)

    def to_frame(self) -> pd.DataFrame:
        """The artifact's catalogue, row ``i`` = item index ``i``: ``movieId, title, year, genres, ratings``."""
        return pd.DataFrame([self.movie_row(i) for i in range(self.n_items)])

    # --- facts ------------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return str(self.manifest["model"]["name"])

    @property
    def model_version(self) -> str:
        return str(self.manifest["model_version"])

    @property
    def dataset_name(self) -> str:
        return str(self.manifest["dataset"]["name"])

    @property
    def created_at(self) -> str:
        return str(self.manifest["created_at"])

    @property
    def rating_scale(self) -> tuple[float, float]:
        lo, hi = self.manifest["rating_scale"]
        return float(lo), float(hi)

    @property
    def n_users(self) -> int:
        return len(self.user_map)

    @property
    def n_items(self) -> int:
        return len(self.item_map)

    @property
    def genres(self) -> list[str]:
        return list(self._genre_names)

    # --- scoring ----------------------------------------------------------------------
    def _finish(self, scores: np.ndarray) -> np.ndarray:
        return scores if self._clip is None else np.clip(scores, *self._clip)

    def user_scores(self, u: int) -> np.ndarray:
        """Scores over every item for training user index ``u`` (equal to the model's ``score``)."""
        a = self._a
        if self.family == "markov":
            return _markov_next(a, int(a["last_item"][u]))
        if self.family in ("factors", "sasrec"):
            s = a["item_factors"] @ a["user_factors"][u]
            s += a["item_bias"]
            s += a["user_bias"][u] + a["global_mean"]
            return self._finish(s)
        if self.family == "scores":
            return a["item_scores"].copy()
        if self.family == "knn":
            lo, hi = self._seen.indptr[u], self._seen.indptr[u + 1]
            fallback = a["global_mean"] + a["user_bias"][u] + a["item_bias"]
            return self._knn.scores(
                self._seen.indices[lo:hi], self._seen.data[lo:hi], float(a["knn_y_offset"][u]), fallback
            )
        w = self._weights
        lo, hi = w.indptr[u], w.indptr[u + 1]
        return _neighbour_scores(
            self._neigh,
            w.indices[lo:hi],
            w.data[lo:hi],
            a,
            float(a["user_bias"][u]),
            self._train_scale,
            self.kind == "explicit",
        )

    def _genre_mask(self, genres: Iterable[str] | None) -> np.ndarray | None:
        if not genres:
            return None
        mask = np.zeros(self.n_items, dtype=bool)
        for g in genres:
            key = str(g).strip().casefold()
            if not key:
                continue
            if key not in self._genre_index:
                raise ConfigError(f"genres: unknown genre {g!r}; known: {', '.join(self._genre_names)}")
            mask |= self._genre_index[key]
        return mask

    def _top(self, scores: np.ndarray, q: _Query) -> list[dict[str, Any]]:
        if not isinstance(q.k, (int, np.integer)) or isinstance(q.k, bool) or q.k < 1:
            raise ConfigError(f"k must be a whole number ≥ 1, got {q.k!r}")
        scores = np.asarray(scores, dtype=np.float32)
        if q.exclude is not None and len(q.exclude):
            scores[q.exclude] = -np.inf
        mask = self._genre_mask(q.genres)
        if mask is not None:
            scores[~mask] = -np.inf
        n = len(scores)
        k = min(int(q.k), n)
        part = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        order = part[np.argsort(-scores[part], kind="stable")]
        out = []
        for i in order:
            s = float(scores[i])
            if not np.isfinite(s) and s < 0:
                break
            out.append({**self._rows[i], "score": s})
        return out

    def user_index(self, user_raw_id: object) -> int:
        """Dense index of a raw user id (``UnknownIdError`` when the artifact does not know it)."""
        return int(self.user_map.index(_as_key(self._user_str, user_raw_id)))

    def raw_user(self, u: int) -> int | str:
        """The raw id of user index ``u`` as JSON wants it (int or str)."""
        raw = self.user_map.to_raw(u)
        return int(raw) if isinstance(raw, (int, np.integer)) else str(raw)

    def item_index(self, movie_raw_id: object) -> int:
        """Dense index of a raw movie id (``UnknownIdError`` when the artifact does not know it)."""
        return int(self.item_map.index(_as_key(self._item_str, movie_raw_id)))

    def recommend(
        self, user_raw_id: object, k: int = 10, exclude_seen: bool = True, genres: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Top-``k`` movies for a known user: rows ``movieId, title, year, genres, score``, best first."""
        return self.recommend_index(self.user_index(user_raw_id), k, exclude_seen, genres)

    def recommend_index(
        self,
        u: int,
        k: int = 10,
        exclude_seen: bool = True,
        genres: Sequence[str] | None = None,
        rerank: str | None = None,
    ) -> list[dict[str, Any]]:
        """:meth:`recommend` for a user index (from :meth:`user_index`); ``rerank`` = ``"mmr:0.3"``… (movierec.rerank)."""
        history = self._seen.indices[self._seen.indptr[u] : self._seen.indptr[u + 1]]
        exclude = history if exclude_seen else None
        if rerank:
            return self._reranked(self.user_scores(u), _Query(k, exclude, genres), history, rerank)
        return self._top(self.user_scores(u), _Query(k, exclude, genres))

    def _reranked(
        self, scores: np.ndarray, q: _Query, history: np.ndarray, spec: str
    ) -> list[dict[str, Any]]:
        """Top-``k`` re-ranked by ``spec`` over the same candidates :meth:`_top` ranks (scores stay the model's)."""
        from movierec.rerank import parse_rerank

        reranker = parse_rerank(spec)
        if not isinstance(q.k, (int, np.integer)) or isinstance(q.k, bool) or q.k < 1:
            raise ConfigError(f"k must be a whole number ≥ 1, got {q.k!r}")
        scores = np.array(scores, dtype=np.float32)
        if q.exclude is not None and len(q.exclude):
            scores[q.exclude] = -np.inf
        mask = self._genre_mask(q.genres)
        if mask is not None:
            scores[~mask] = -np.inf
        hist = sp.csr_matrix(
            (np.ones(len(history), dtype=np.float32), history, [0, len(history)]), shape=(1, self.n_items)
        )
        picks = reranker.rerank(scores[None, :], min(int(q.k), self.n_items), hist, self._item_info())[0]
        return [{**self._rows[i], "score": float(scores[i])} for i in picks if i >= 0]

    def _item_info(self) -> Any:
        """Genres, item vectors and popularity for re-rankers (built on first use)."""
        if getattr(self, "_info", None) is None:
            from movierec.beyond import ItemInfo, genre_matrix

            g, names = genre_matrix([r["genres"] for r in self._rows])
            vectors = self._a["item_factors"] if self.family in ("factors", "sasrec") else None
            self._info = ItemInfo(
                popularity=self._popularity.astype(np.float64),
                n_users=int((np.diff(self._seen.indptr) > 0).sum()),
                genres=g if names else None,
                vectors=vectors,
            )
        return self._info

    def recommend_for_ratings(
        self, ratings: Sequence[tuple[object, float]], k: int = 10, genres: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Top-``k`` for a person not in training, from ``(movieId, rating)`` pairs (fold-in; rated movies excluded).

        Factor models solve a ridge regression for the person's vector with item factors fixed
        (explicit: with a user bias; implicit: Hu, Koren & Volinsky 2008's confidence-weighted
        solve); neighbour models sum similarities; with no usable signal, popularity.
        """
        if not ratings:
            raise ConfigError("ratings: at least one (movieId, rating) pair is needed")
        lo, hi = self.rating_scale
        idx, vals = [], []
        for movie, rating in ratings:
            r = float(rating)
            if not (lo <= r <= hi):
                raise ConfigError(f"rating {r:g} for movie {movie!r} is outside the scale {lo:g}..{hi:g}")
            idx.append(self.item_index(movie))
            vals.append(r)
        items = np.asarray(idx, dtype=np.int64)
        values = np.asarray(vals, dtype=np.float32)
        if self.sequential:  # the order of the ratings is the order they were given
            return self.recommend_for_history([m for m, _ in ratings], k, genres=genres)
        items, last = np.unique(items[::-1], return_index=True)  # a movie rated twice: keep the last rating
        values = values[::-1][last]
        scores = self._fold_in(items, values)
        return self._top(scores, _Query(k, items, genres))

    def recommend_for_visitor(
        self,
        features: Mapping[str, Any],
        ratings: Sequence[tuple[object, float]] = (),
        k: int = 10,
        genres: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Top-``k`` for a visitor from their features (``{"age": 31, "gender": "F", …}``) and optional
        ratings (liked ones join the mean; rated movies are excluded); see :mod:`movierec.serving.visitor`."""
        from movierec.serving.visitor import visitor_scores

        thr = float(self.manifest.get("implicit_threshold", IMPLICIT_THRESHOLD))
        rated = np.asarray([self.item_index(m) for m, _ in ratings], dtype=np.int64)
        liked = [int(i) for i, (_, r) in zip(rated, ratings, strict=True) if float(r) >= thr]
        scores = visitor_scores(self.manifest, self._a, features, np.unique(liked))
        return self._top(scores, _Query(k, np.unique(rated), genres))

    @property
    def sequential(self) -> bool:
        """Whether the model reads an ordered history (markov, sasrec) rather than a set of ratings."""
        return self.family in ("markov", "sasrec")

    def recommend_for_history(
        self,
        history: Sequence[object],
        k: int = 10,
        genres: Sequence[str] | None = None,
        ratings: Sequence[tuple[object, float]] = (),
    ) -> list[dict[str, Any]]:
        """Top-``k`` for a visitor from the movies they saw in order (oldest first); seen and rated movies excluded.

        Sequence models (markov, sasrec) score what comes next after this order; other models
        fold in ``ratings`` when given, else take every history movie as a positive.
        """
        if not history:
            raise ConfigError("history: at least one movieId is needed")
        seq = np.asarray([self.item_index(m) for m in history], dtype=np.int64)
        rated = [(m, r) for m, r in ratings]
        exclude = np.unique(np.concatenate([seq, [self.item_index(m) for m, _ in rated]]).astype(np.int64))
        if self.family == "markov":
            scores = _markov_next(self._a, int(seq[-1]))
        elif self.family == "sasrec":
            scores = self._sasrec_net().score_new_user(seq)
        elif rated:
            return self.recommend_for_ratings(
                [*rated, *((m, self.rating_scale[1]) for m in history if m not in dict(rated))],
                k,
                genres=genres,
            )
        else:
            return self.recommend_for_ratings([(m, self.rating_scale[1]) for m in history], k, genres=genres)
        return self._top(scores, _Query(k, exclude, genres))

    def _sasrec_net(self) -> Any:
        """A :class:`~movierec.models.sasrec.SASRec` rebuilt from the stored weights (needs torch; built once)."""
        if self._net is None:
            from movierec.models.registry import get_class

            cls = get_class(self.manifest["model"]["name"])  # sasrec or gru4rec
            params = dict(self.manifest["model"]["params"])
            params["device"] = "cpu"
            model = cls(**{k: v for k, v in params.items() if k in cls().get_params()})
            model.n_items_ = self.n_items
            model.n_users_ = self.n_users
            for key, value in self._a.items():
                if key.startswith(_SASREC_NET):
                    setattr(model, "net." + key[len(_SASREC_NET) :], value)
            model._net()  # fails here, once, with the install hint when torch is missing
            self._net = model
        return self._net

    def _fold_in(self, items: np.ndarray, values: np.ndarray) -> np.ndarray:
        a = self._a
        thr = float(self.manifest.get("implicit_threshold", IMPLICIT_THRESHOLD))
        positives = values >= thr
        fold = self.manifest.get("fold_in", {})
        reg = float(fold.get("reg", 0.1))
        if self.family == "factors":
            q = a["item_factors"][items].astype(np.float64)
            f = q.shape[1]
            if self.kind == "explicit":
                design = np.hstack([q, np.ones((len(items), 1))])
                target = values - a["global_mean"] - a["item_bias"][items]
                lhs = design.T @ design + reg * np.eye(f + 1)
                sol = np.linalg.solve(lhs, design.T @ target)
                s = (
                    a["item_factors"] @ sol[:f].astype(np.float32)
                    + a["item_bias"]
                    + a["global_mean"]
                    + np.float32(sol[f])
                )
                return self._finish(s.astype(np.float32))
            if not positives.any() or f == 0:
                return self._popularity.copy()
            alpha = float(fold.get("alpha", 1.0))
            lhs = self._gram + alpha * (q.T @ q) + reg * np.eye(f)
            x = np.linalg.solve(lhs, (1.0 + alpha) * q[positives].sum(axis=0))
            return (a["item_factors"] @ x.astype(np.float32) + a["item_bias"]).astype(np.float32)
        if self.family == "knn":  # the model's own rule, with a shrunk user offset estimated from the ratings
            ub = 0.0
            if self._has_user_offset:
                ub = float(np.sum(values - a["global_mean"] - a["item_bias"][items]) / (len(items) + 5.0))
            fallback = a["global_mean"] + np.float32(ub) + a["item_bias"]
            return self._knn.scores(items, values, ub, fallback)
        if self.family == "neighbours":
            if self.kind != "explicit":  # implicit neighbours: positives only
                if not positives.any():
                    return self._popularity.copy()
                s = _neighbour_scores(
                    self._neigh,
                    items[positives],
                    np.ones(int(positives.sum()), np.float32),
                    a,
                    0.0,
                    self._train_scale,
                    False,
                )
                return s if s.max(initial=0.0) > 0 else self._popularity.copy()
            ub = float(np.sum(values - a["global_mean"] - a["item_bias"][items]) / (len(items) + 5.0))
            return _neighbour_scores(self._neigh, items, values, a, ub, self._train_scale, True)
        return a["item_scores"].copy()

    def similar(self, movie_raw_id: object, k: int = 10) -> list[dict[str, Any]]:
        """Movies most like ``movie_raw_id``: cosine of item factors, or its neighbour list."""
        i = self.item_index(movie_raw_id)
        if self.family in ("factors", "sasrec") and self._unit.shape[1] > 0:
            scores = self._unit @ self._unit[i]
        elif self.family in ("neighbours", "knn"):
            scores = np.full(self.n_items, -np.inf, dtype=np.float32)
            lo, hi = self._neigh.indptr[i], self._neigh.indptr[i + 1]
            scores[self._neigh.indices[lo:hi]] = self._neigh.data[lo:hi]
        else:
            raise ConfigError(
                f"model {self.model_name!r} has no item vectors or neighbour lists, so no 'similar'"
            )
        return self._top(scores, _Query(k, np.array([i]), None))

    def search(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Movies whose title contains ``text`` (case- and accent-insensitive); prefix matches first, then popular ones.

        An empty query lists the most-rated movies.
        """
        if limit < 1:
            raise ConfigError(f"limit must be ≥ 1, got {limit}")
        q = _fold(text).strip()
        if not q:
            order = np.argsort(-self._popularity, kind="stable")[:limit]
            return [self.movie_row(int(i)) for i in order]
        hits = [i for i, key in enumerate(self._keys) if q in key]
        hits.sort(
            key=lambda i: (
                not (self._keys[i].startswith(q) or f"| {q}" in self._keys[i]),
                -self._popularity[i],
            )
        )
        return [self.movie_row(i) for i in hits[:limit]]

    def movie_row(self, i: int) -> dict[str, Any]:
        return {**self._rows[i], "ratings": int(self._popularity[i])}

    def movie(self, movie_id: object) -> dict[str, Any]:
        """One movie's row (``UnknownIdError`` for an id the artifact does not know)."""
        return self.movie_row(self.item_index(movie_id))

    def info(self) -> dict[str, Any]:
        """What ``GET /health`` reports."""
        return {
            "model": self.model_name,
            "modelVersion": self.model_version,
            "kind": self.kind,
            "dataset": self.dataset_name,
            "createdAt": self.created_at,
            "nItems": self.n_items,
            "nUsers": self.n_users,
            "ratingScale": list(self.rating_scale),
            "userFeatures": self._visitor_fields(),
        }

    def _visitor_fields(self) -> dict[str, list[str]] | None:
        """The visitor features this artifact accepts (see :meth:`recommend_for_visitor`), or None."""
        from movierec.demographics import FIELDS, DemographicSchema

        meta = self.manifest.get("user_features")
        schema = DemographicSchema.from_names(meta["names"]) if meta else None
        if schema is None:
            return None
        return {
            "fields": list(FIELDS),
            "gender": list(schema.genders),
            "occupation": list(schema.occupations),
        }
