"""Structural validation of a loaded artifact, independent of its checksums, and optional HMAC signing.

Checksums live in the manifest, so whoever can edit the folder can recompute them: they catch
accidents, not edits. Before an :class:`~movierec.serving.artifact.Artifact` is built (and before
``movierec serve`` binds its port) :func:`validate_artifact` checks what scoring relies on:
required manifest keys present and typed; the id tables and the item table agree with the
manifest's counts; every array a family scores with is present with the shape the id tables
imply (``item_factors`` is items × d, ``user_bias`` has one value per user, …); CSR index
arrays are monotone and their indices in range; every floating value is finite. A failure is
one :class:`~movierec.errors.ArtifactError` line naming the file, the array and what was expected.

For tamper evidence set ``MOVIEREC_ARTIFACT_KEY``: ``export`` then writes ``manifest.sig``
(HMAC-SHA256 of ``manifest.json``'s bytes, which hold every file's sha256), and loading with the
key set refuses an artifact whose signature is missing or does not match (RFC 2104).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from movierec.errors import ArtifactError, Doors

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["KEY_ENV", "SIGNATURE", "ArtifactParts", "sign_manifest", "validate_artifact", "verify_signature"]

KEY_ENV = "MOVIEREC_ARTIFACT_KEY"
SIGNATURE = "manifest.sig"

# Arrays each family scores with: name → shape in symbols (U users, I items, d and nnz bound on first use).
_FACTORS = {"user_factors": ("U", "d"), "item_factors": ("I", "d"), "user_bias": ("U",), "item_bias": ("I",)}
_NEIGHBOURS = {
    "neighbours_indptr": ("I+1",),
    "neighbours_indices": ("nnz",),
    "neighbours_weights": ("nnz",),
    "user_bias": ("U",),
    "item_bias": ("I",),
}
FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    "factors": {**_FACTORS, "global_mean": ()},
    "sasrec": {**_FACTORS, "global_mean": ()},
    "scores": {"item_scores": ("I",)},
    "table": {"table_scores": ("U", "I")},
    "vae": {"weights_indptr": ("U+1",)},  # and the network's net:* layers, checked when the scorer is built
    "neighbours": {**_NEIGHBOURS, "global_mean": ()},
    "knn": {
        **_NEIGHBOURS,
        "global_mean": (),
        "knn_x_offset": ("I",),
        "knn_y_offset": ("U",),
        "knn_k": (),
        "knn_min_k": (),
        "knn_rule": (),
    },
    "linear": {"active_items": ("a",)},  # and B: dense linear_weights (a, a) or CSR linear_* (_linear)
    "user-linear": {"active_users": ("au",), "user_weights": ("au", "au"), "inverse_diag": ("au",)},
    "markov": {
        "transitions_indptr": ("I+1",),
        "transitions_indices": ("tnnz",),
        "transitions_counts": ("tnnz",),
        "out_counts": ("I",),
        "item_prior": ("I",),
        "alpha": (),
        "last_item": ("U",),
    },
}
"""Families this module knows; another family (a newer exporter's) gets the generic checks only."""

# (prefix, rows, columns): CSR triples stored as <prefix>_indptr/_indices/<data>
_CSR = (
    ("neighbours", "I", "I"),
    ("weights", "U", "I"),
    ("transitions", "I", "I"),
    ("linear", "a", "a"),
    ("visitor_ratings", "U", "I"),
)


def _fail(root: Path, what: str) -> ArtifactError:
    """A broken artifact, and how each door writes it again: ``rec.export('art', force=True)`` in Python
    (:meth:`movierec.Recommender.export`), ``movierec export`` in the CLI; a notebook was told the command."""
    said = f"{root}: broken artifact: {what} (re-export it with"
    return ArtifactError(
        Doors(
            f"{said} rec.export({str(root)!r}, force=True) on a fitted movierec.Recommender)",
            f"{said} 'movierec export')",
        )
    )


def _manifest(root: Path, m: Mapping[str, Any]) -> tuple[int, int, str]:
    model = m.get("model")
    if not isinstance(model, Mapping):
        raise _fail(root, "manifest.json has no 'model' object")
    for key in ("name", "kind", "family"):
        if not isinstance(model.get(key), str) or not model[key]:
            raise _fail(root, f"manifest.json model.{key} is missing or not text")
    ds = m.get("dataset")
    if not isinstance(ds, Mapping):
        raise _fail(root, "manifest.json has no 'dataset' object")
    counts = []
    for key in ("n_users", "n_items"):
        v = ds.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise _fail(root, f"manifest.json dataset.{key} must be a whole number ≥ 1, got {v!r}")
        counts.append(v)
    for key in ("rating_scale", "train_scale", "score_clip"):
        v = m.get(key)
        if v is None and key != "rating_scale":
            continue
        ok = isinstance(v, list) and len(v) == 2 and all(_finite_number(x) for x in v)
        if not ok or not v[0] <= v[1]:  # type: ignore[index]  # ok says v is a two-number list
            raise _fail(root, f"manifest.json {key} must be [min, max] finite numbers, got {v!r}")
    step = m.get("rating_step")  # absent in artifacts exported before it was recorded
    if step is not None and not (_finite_number(step) and step > 0):
        raise _fail(root, f"manifest.json rating_step must be a number > 0 or null, got {step!r}")
    for key in ("model_version", "created_at"):
        if not isinstance(m.get(key), str):
            raise _fail(root, f"manifest.json {key} is missing or not text")
    return counts[0], counts[1], str(model["family"])


def _finite_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and bool(np.isfinite(x))


#: a table as its columns (nulls as None in object columns): what ids.parquet and items.parquet are read as,
#: without pandas (a server needs none)
Columns = dict[str, np.ndarray]


def read_columns(path: Path) -> Columns:
    """A parquet file's columns as numpy arrays (pyarrow's ParquetFile, which, unlike ``read_table`` and
    ``pd.read_parquet``, imports no pandas): a column with nulls, or of lists, is an object array."""
    import pyarrow.parquet as pq

    return _arrow_columns(pq.ParquetFile(path).read())


def frame_columns(frame: pd.DataFrame) -> Columns:
    """A frame as :func:`read_columns` reads it back from the parquet file it is written to."""
    import pyarrow as pa

    return _arrow_columns(pa.Table.from_pandas(frame, preserve_index=False))


def _arrow_columns(table: Any) -> Columns:
    """Integer and float columns without nulls as numpy views of their buffers, any other as an object array of
    its Python values (``None`` for null). pyarrow's own ``to_numpy`` imports pandas, which a server needs not."""
    import pyarrow as pa

    out: Columns = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if not len(col):
            arr = np.empty(0, dtype=object)
        elif not col.null_count and (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
            dtype = np.dtype(col.type.to_pandas_dtype())  # the numpy dtype of a primitive type
            arr = np.frombuffer(
                col.buffers()[1], dtype=dtype, count=len(col), offset=col.offset * dtype.itemsize
            )
        else:
            values = col.to_pylist()
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
        out[str(name)] = arr
    return out


def _tables(root: Path, ids: Columns, items: Columns, n_users: int, n_items: int) -> None:
    missing = {"kind", "index", "id_int", "id_str"} - set(ids)
    if missing:
        raise _fail(root, f"ids.parquet lacks columns {sorted(missing)}")
    for kind, n in (("user", n_users), ("item", n_items)):
        mask = ids["kind"] == kind
        count = int(np.count_nonzero(mask))
        if count != n:
            raise _fail(root, f"ids.parquet has {count} {kind} ids, the manifest says {n}")
        if not _permutation(ids["index"][mask], n):
            raise _fail(root, f"ids.parquet {kind} indices are not 0..{n - 1} each once")
        raw = raw_ids(ids, mask)
        values = raw.tolist()
        if any(v is None for v in values) or len(set(values)) != len(values):
            raise _fail(root, f"ids.parquet {kind} ids are missing or repeated")
    missing = {"index", "title", "year", "genres"} - set(items)
    if missing:
        raise _fail(root, f"items.parquet lacks columns {sorted(missing)}")
    rows = len(items["index"])
    if rows != n_items or not _permutation(items["index"], n_items):
        raise _fail(root, f"items.parquet must list each of the {n_items} items once, it has {rows} rows")


def _permutation(index: np.ndarray, n: int) -> bool:
    """Whether ``index`` holds 0..n-1 each once (an index column with a null is an object array: not)."""
    if not len(index):
        return n == 0
    return index.dtype.kind in "iu" and bool(np.array_equal(np.sort(index), np.arange(n)))


def raw_ids(ids: Columns, mask: np.ndarray) -> np.ndarray:
    """The raw ids of ids.parquet's rows under ``mask``: its ``id_int`` as int64 where none is missing, else
    its ``id_str`` (an object array)."""
    ints = ids["id_int"][mask]
    if ints.dtype.kind in "iu":
        return ints.astype(np.int64, copy=False)
    if all(v is not None for v in ints.tolist()):
        return np.asarray(ints.tolist(), dtype=np.int64)
    return ids["id_str"][mask].astype(object)


def _csr(
    root: Path, where: str, indptr: np.ndarray, indices: np.ndarray, n_rows: int, n_cols: int, data: Any
) -> None:
    if indptr.ndim != 1 or len(indptr) != n_rows + 1 or indptr.dtype.kind not in "iu":
        raise _fail(root, f"{where} indptr must be {n_rows + 1} integers, got {indptr.dtype} {indptr.shape}")
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] != len(indices):
        raise _fail(root, f"{where} indptr is not a monotone 0..{len(indices)} offset table")
    if indices.ndim != 1 or indices.dtype.kind not in "iu":
        raise _fail(root, f"{where} indices must be integers, got {indices.dtype}")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n_cols):
        bad = int(indices.min()) if int(indices.min()) < 0 else int(indices.max())
        raise _fail(root, f"{where} index {bad} is out of range 0..{n_cols - 1}")
    if data is not None and np.shape(data) != indices.shape:
        raise _fail(root, f"{where} has {len(indices)} indices but {np.shape(data)} values")


def _arrays(
    root: Path, arrays: Mapping[str, np.ndarray], family: str, n_users: int, n_items: int, part: str = ""
) -> None:
    """Check the arrays a ``family`` scores with; ``part`` is the prefix of a composite's base (``"b0."``)."""
    dims: dict[str, int] = {"U": n_users, "U+1": n_users + 1, "I": n_items, "I+1": n_items + 1}
    for name, spec in FAMILIES.get(family, {}).items():
        if name not in arrays:
            raise _fail(root, f"factors.npz has no '{part}{name}', which a {family} model scores with")
        a = arrays[name]
        if a.ndim != len(spec):
            raise _fail(root, f"factors.npz '{part}{name}' has {a.ndim} dimensions, expected {len(spec)}")
        for axis, sym in enumerate(spec):
            want = dims.setdefault(sym, a.shape[axis])
            if a.shape[axis] != want:
                expected = tuple(dims.get(s, "?") for s in spec)
                raise _fail(
                    root,
                    f"factors.npz '{part}{name}' has shape {a.shape}, expected {expected} "
                    f"({n_users} users, {n_items} items in ids.parquet)",
                )
    for prefix, rows, cols in _CSR:
        ptr = arrays.get(f"{prefix}_indptr")
        if ptr is None:
            continue
        idx = arrays.get(f"{prefix}_indices")
        if idx is None:
            raise _fail(root, f"factors.npz has {part}{prefix}_indptr but no {part}{prefix}_indices")
        data = next(
            (
                arrays[k]
                for k in arrays
                if k.startswith(prefix + "_") and k[len(prefix) + 1 :] in ("weights", "data", "counts")
            ),
            None,
        )
        _csr(root, f"factors.npz {part}{prefix}", ptr, idx, dims[rows], dims[cols], data)
    if family == "linear":
        _linear(root, arrays, dims["a"])
    scale = arrays.get("knn_x_scale")
    if scale is not None and (scale.shape != (n_items,) or not np.all(scale > 0)):
        raise _fail(
            root, f"factors.npz '{part}knn_x_scale' must hold {n_items} spreads > 0, got shape {scale.shape}"
        )
    if family == "user-linear" and len(arrays["active_users"]):
        users = arrays["active_users"]
        if int(users.min()) < 0 or int(users.max()) >= n_users:
            raise _fail(root, f"factors.npz '{part}active_users' holds user indices outside 0..{n_users - 1}")
    if "last_item" in arrays and len(arrays["last_item"]):
        last = arrays["last_item"]
        if int(last.min()) < -1 or int(last.max()) >= n_items:
            raise _fail(root, f"factors.npz 'last_item' holds item indices outside -1..{n_items - 1}")
    for name, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise _fail(root, f"factors.npz '{part}{name}' is not numeric ({a.dtype})")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
            raise _fail(root, f"factors.npz '{part}{name}' holds {bad} NaN or infinite values")


def _bases(
    root: Path,
    m: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    family: str,
    n_users: int,
    n_items: int,
) -> None:
    """A composite (blend, ensemble): every base listed in ``fold_in.bases`` is checked as its own family,
    over its arrays ``b<n>.*``; an ensemble's weights and normalisation are checked too."""
    spec = m.get("fold_in")
    if not isinstance(spec, Mapping):
        raise _fail(root, f"manifest.json has no 'fold_in' object describing the {family}'s bases")
    bases = spec.get("bases")
    if not isinstance(bases, list) or not bases or not all(isinstance(b, Mapping) for b in bases):
        raise _fail(root, f"manifest.json fold_in.bases must list the {family}'s bases")
    if family == "ensemble" and spec.get("normalize") not in ("std", "max"):
        raise _fail(
            root, f"manifest.json fold_in.normalize must be 'std' or 'max', got {spec.get('normalize')!r}"
        )
    for n, b in enumerate(bases):
        if not isinstance(b.get("family"), str) or not isinstance(b.get("spec"), Mapping):
            raise _fail(root, f"manifest.json fold_in.bases[{n}] needs a family and a spec")
        if family == "ensemble" and not (_finite_number(b.get("weight")) and b["weight"] > 0):
            raise _fail(root, f"manifest.json fold_in.bases[{n}].weight must be a finite number > 0")
        part = f"b{b.get('index', n)}."
        sub = {k[len(part) :]: v for k, v in arrays.items() if k.startswith(part)}
        _arrays(root, sub, str(b["family"]), n_users, n_items, part)


def _linear(root: Path, arrays: Mapping[str, np.ndarray], a: int) -> None:
    """A linear model's B over its ``a`` active items: dense ``linear_weights`` (EASE) or CSR (RP3beta, SLIM)."""
    dense = arrays.get("linear_weights")
    if dense is None and "linear_indptr" not in arrays:
        raise _fail(
            root, "factors.npz has no 'linear_weights' (or linear_indptr), which a linear model scores with"
        )
    if dense is not None and dense.shape != (a, a):
        raise _fail(
            root, f"factors.npz 'linear_weights' has shape {dense.shape}, expected ({a}, {a}) (active items)"
        )


class ArtifactParts(NamedTuple):
    """What an artifact is made of, as read from its files (or built in memory): what
    :func:`validate_artifact` checks and :class:`movierec.serving.artifact.Artifact` serves from."""

    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]  # factors.npz
    seen: dict[str, np.ndarray]  # seen.npz: the training interactions as CSR parts (+ every rated movie)
    ids: Columns  # ids.parquet (read_columns)
    items: Columns  # items.parquet


def validate_artifact(root: Path, parts: ArtifactParts) -> None:
    """Refuse (``ArtifactError``, one line) an artifact whose structure scoring could not rely on; see the module doc."""
    manifest, arrays, seen, ids, items = parts
    verify_signature(root)
    n_users, n_items, family = _manifest(root, manifest)
    _tables(root, ids, items, n_users, n_items)
    for key in ("indptr", "indices", "ratings"):
        if key not in seen:
            raise _fail(root, f"seen.npz has no '{key}'")
    _csr(root, "seen.npz", seen["indptr"], seen["indices"], n_users, n_items, seen["ratings"])
    if seen["ratings"].dtype.kind != "f" or not np.all(np.isfinite(seen["ratings"])):
        raise _fail(root, "seen.npz ratings must be finite numbers")
    reasons = seen.get("reason_indices")  # optional (older artifacts lack it): the explain order of each row
    if reasons is not None and (
        reasons.shape != seen["indices"].shape
        or reasons.dtype.kind not in "iu"
        or (len(reasons) and (reasons.min() < 0 or reasons.max() >= n_items))
    ):
        raise _fail(root, "seen.npz 'reason_indices' must hold one item index per training interaction")
    if ("rated_indptr" in seen) != ("rated_indices" in seen):
        raise _fail(root, "seen.npz has one of 'rated_indptr' and 'rated_indices' without the other")
    if "rated_indptr" in seen:  # every rated movie per user (left out of lists), where training saw fewer
        _csr(root, "seen.npz rated", seen["rated_indptr"], seen["rated_indices"], n_users, n_items, None)
    lift = [key for key in ("similar_indptr", "similar_indices", "similar_values") if key in seen]
    if lift and len(lift) < 3:  # optional (older artifacts lack it): each movie's lift neighbours
        raise _fail(root, f"seen.npz has {', '.join(lift)} without the rest of similar_indptr/indices/values")
    if lift:
        values = seen["similar_values"]
        _csr(
            root,
            "seen.npz similar",
            seen["similar_indptr"],
            seen["similar_indices"],
            n_items,
            n_items,
            values,
        )
        if values.dtype.kind != "f" or not np.all(np.isfinite(values)):
            raise _fail(root, "seen.npz similar_values must be finite numbers")
    _arrays(root, arrays, family, n_users, n_items)
    if family in ("blend", "ensemble"):
        _bases(root, manifest, arrays, family, n_users, n_items)


def _key() -> bytes | None:
    key = os.environ.get(KEY_ENV, "")
    return key.encode() if key else None


def _mac(key: bytes, root: Path) -> str:
    return hmac.new(key, (root / "manifest.json").read_bytes(), hashlib.sha256).hexdigest()


def sign_manifest(root: Path) -> Path | None:
    """With ``MOVIEREC_ARTIFACT_KEY`` set, write ``manifest.sig`` (HMAC-SHA256 of manifest.json) and return it."""
    key = _key()
    if key is None:
        return None
    path = root / SIGNATURE
    path.write_text(_mac(key, root) + "\n", encoding="ascii")
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
    return path


def verify_signature(root: Path) -> None:
    """With ``MOVIEREC_ARTIFACT_KEY`` set, refuse an artifact without a matching ``manifest.sig``; without it, do nothing."""
    key = _key()
    if key is None:
        return
    path = root / SIGNATURE
    if not path.is_file():
        raise ArtifactError(f"{root}: unsigned artifact ({KEY_ENV} is set and there is no {SIGNATURE})")
    given = path.read_text(encoding="ascii", errors="replace").strip()
    if not hmac.compare_digest(given, _mac(key, root)):
        raise ArtifactError(
            f"{root}: {SIGNATURE} does not match (signed with another key, or manifest.json was modified)"
        )
