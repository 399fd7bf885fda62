"""Exported artifacts (docs/serving.md, artifact format): a folder a server can load without the model code.

``export_artifact`` turns a fitted model into the plain arrays of its serving family
(:mod:`movierec.scoring`: factors, neighbour lists, EASE's B, transitions, item scores, a blend
of those) plus id maps, the item table and the training-seen matrix; ``load_artifact`` verifies
every checksum and the format version and returns an :class:`Artifact` that scores with the
family's own code, the code the model itself uses for a new user. This module keeps the
manifest, the writing and the verification; the lists' guardrails (support floor, ranking
score, co-support shrinkage) live in :mod:`movierec.scoring.support`. No pickle.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from movierec.display import (
    ABOUT,
    ROWS,
    CountKind,
    count_kind,
    counted,
    fallback_score,
    score_meaning,
    similarity_meaning,
)
from movierec.errors import ArtifactError, ConfigError, Doors, MovierecError, UnknownIdError, spelled
from movierec.interactions import (
    IdMap,
    IdMapped,
    Interactions,
    looks_numeric,
    parse_int_id,
    rating_levels,
    rating_step,
    refused_rating,
)
from movierec.jsonsafe import to_jsonable
from movierec.output_folders import check_artifact_target, move_aside, temporary_folder
from movierec.serving.origin import code_identity, exported_by, version_note
from movierec.serving.validate import (
    ArtifactParts,
    Columns,
    frame_columns,
    raw_ids,
    read_columns,
    sign_manifest,
    validate_artifact,
)
from movierec.serving.visitor import visitor_export
from movierec.titles import (
    check_genres,
    first_repeat,
    fold_title,
    genre_spellings,
    id_title,
    id_titled,
    is_id_title,
    known_users,
    match_title,
    movie_from_text,
    movie_named,
    no_titles,
    outside_movierec,
    respelled,
    search_key,
    search_rank,
    suggest_titles,
    title_keys,
    typed_title,
    unknown_movie_id,
    unknown_user,
    unrated_movie,
)

if TYPE_CHECKING:  # pandas only where a frame is built (export, Python's lists): a server imports none
    import pandas as pd

__all__ = [
    "FORMAT_VERSION",
    "Artifact",
    "UnknownMovieError",
    "export_artifact",
    "exportable",
    "load_artifact",
    "package_versions",
    "serving_view",
]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATA_FILES = ("ids.parquet", "items.parquet", "factors.npz", "seen.npz")
IMPLICIT_THRESHOLD = 4.0
_PARITY_USERS = 16
#: a number written as no whole one: 1.5, 3.0, .5, 1e3 (not movieIds where movieIds are integers)
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)")
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


def exportable(model: Any, *, lists: bool = False) -> None:
    """Raise a ConfigError before any training when a model (unfitted is fine) has no serving family.

    Every registered movierec model exports but normal-predictor (random draws: no list to serve);
    reference backends do not (user-based k-NN exports in the table family). ``lists``: the caller is the
    CLI's recommend or similar, which list from the export, so the refusal says what lists instead
    rather than 'cannot export' (:func:`unservable_words`).
    """
    name = str(getattr(model, "name", model))
    unservable = getattr(model, "unservable", None)
    if unservable:
        raise ConfigError(unservable_words(name, str(unservable), lists=lists))
    from movierec.models.registry import own_model

    if ":" in name:
        raise ConfigError(
            f"cannot export {name!r}: reference backends are for parity checks; export the movierec "
            f"model instead ({own_model(name)})"
        )
    for base in getattr(model, "_base_specs", lambda: [])():  # a blend, an ensemble: every base must export
        if ":" in str(base[1]):
            raise ConfigError(
                f"cannot export {name} base {base[0]!r}: reference backends are for parity checks; use the "
                f"movierec model instead ({own_model(str(base[1]))})"
            )


def unservable_words(name: str, why: str, *, lists: bool = False) -> str:
    """The refusal of a rating predictor with no list (normal-predictor: ``why`` = 'draws random ratings'),
    one line of <= 160 columns in the CLI: what lists instead (svd) and what the model is for, its RMSE
    under the rating protocol. It said 'cannot export' to ``movierec recommend`` too, in 266 columns."""
    score = f"score it with compare -m {name} --protocols rating"
    python = f"score it with compare(ds, [{name!r}], protocols='rating')"
    if lists:  # recommend and similar: Recommender.recommend, recommend_for and the CLI's
        return Doors(
            f"{name} {why}, so it has no list: use Recommender(ds, 'svd'), or {python}",
            f"{name} {why}, so it has no list: use -m svd, or {score}",
        )
    return Doors(
        f"{name} {why}, so it has nothing to export: export Recommender(ds, 'svd'), or score it with "
        f"compare(ds, [{name!r}], protocols='rating')",
        f"{name} {why}, so it has nothing to export: use -m svd, or {score}",
    )


def ranking_spec(model: Any, train: Interactions) -> dict[str, Any] | None:
    """How a rating predictor's predictions become its ranking score (None for models that rank directly)."""
    from movierec.models.base import ExplicitRecommender

    if not isinstance(model, ExplicitRecommender):
        return None
    from movierec.scoring.support import USER_PRIOR_SHRINKAGE

    spec: dict[str, Any] = {
        "score": "support-shrunk predicted rating: (n_i·clip(r̂) + β·μ) / (n_i + β)",
        "shrinkage": float(model.rank_shrinkage),
        "global_mean": float(model.train_mean()),
        "scale": [float(x) for x in model.rating_scale_],
    }
    if model.user_priors(np.zeros(1, dtype=np.int64)) is not None:  # saved before m_u: μ, as it was fitted
        spec["score"] = (
            "support-shrunk predicted rating: (n_i·clip(r̂) + β·m_u) / (n_i + β), m_u = min(μ, ū_u)"
        )
        spec["user_prior_shrinkage"] = USER_PRIOR_SHRINKAGE
    return spec


def rating_priors(seen: sp.csr_matrix, ranking: dict[str, Any] | None) -> np.ndarray | None:
    """Each training user's m_u from their training ratings (``seen``), as the model computed it at fit;
    ``None`` where the ranking shrinks towards μ (artifacts written before m_u, or no ranking)."""
    if ranking is None or "user_prior_shrinkage" not in ranking:
        return None
    from movierec.scoring.support import user_priors

    sums = np.asarray(seen.sum(axis=1), dtype=np.float64).ravel()
    return user_priors(sums, np.diff(seen.indptr), ranking["global_mean"], ranking["user_prior_shrinkage"])


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
    min_support: int | None = None,
) -> Path:
    """Write ``model`` (fitted on ``train``) as an artifact folder; returns its path.

    The folder is written to a temporary sibling and renamed into place, so a reader never sees
    half an artifact. Export checks that the stored arrays reproduce ``model.score`` on a sample
    of users and refuses otherwise. ``force`` replaces an existing folder. ``min_support`` is the
    fewest training interactions an item needs to appear in the lists served (None: from the data,
    :func:`movierec.scoring.support.default_min_support`); it is recorded in the manifest.
    """
    out = Path(out_dir).expanduser()
    # force replaces only a folder export wrote; nothing else is deleted. Reached from Python (export_artifact's
    # out_dir, Recommender.export's path): the message names the folder alone (the CLI's export checks first)
    check_artifact_target(out, force, "")
    manifest, arrays = build_manifest(
        model, dataset, train, metrics=metrics, implicit_threshold=implicit_threshold, notes=notes,
        min_support=min_support,
    )  # fmt: skip
    seen_arrays = _seen_arrays(dataset, train, manifest)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_folder(
        out.parent, f".{out.name}."
    )  # .NAME.PID@HOST.tmp: a killed run's is removed next time
    os.chmod(tmp, 0o755)  # whatever the umask: an artifact is meant to be shared
    try:
        _ids_frame(train.user_map, train.item_map).to_parquet(tmp / "ids.parquet", index=False)
        _items_frame(dataset, train).to_parquet(tmp / "items.parquet", index=False)
        np.savez(tmp / "factors.npz", **dict[str, Any](arrays))
        np.savez(tmp / "seen.npz", allow_pickle=False, **seen_arrays)
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
        old = move_aside(out) if out.exists() else None
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def serving_view(
    model: Any,
    dataset: Any,
    train: Interactions,
    *,
    implicit_threshold: float = IMPLICIT_THRESHOLD,
    min_support: int | None = None,
) -> Artifact:
    """An :class:`Artifact` over a fitted model, in memory: the CLI's lists run the API's code (same
    guardrails, same scores), without writing a folder."""
    manifest, arrays = build_manifest(
        model, dataset, train, implicit_threshold=implicit_threshold, min_support=min_support
    )
    manifest.update(model_version="unsaved", files={})
    csr = _seen_arrays(dataset, train, manifest, lift=False)
    ids, items = _ids_frame(train.user_map, train.item_map), _items_frame(dataset, train)
    art = Artifact(Path("."), ArtifactParts(manifest, arrays, csr, frame_columns(ids), frame_columns(items)))
    art.defer_lift(lambda: _lift_table(train, manifest))  # computed if a list by lift is asked for
    return art


def _lift_table(train: Interactions, manifest: dict[str, Any]) -> sp.csr_matrix | None:
    """Each movie's lift neighbours from ``train``'s positives at the manifest's threshold (``None``
    without positives): what 'similar' lists by default."""
    from movierec.models.itemknn import lift_neighbours

    return lift_neighbours(train, float(manifest.get("implicit_threshold", IMPLICIT_THRESHOLD)))


def _seen_arrays(
    dataset: Any, train: Interactions, manifest: dict[str, Any], *, lift: bool = True
) -> dict[str, np.ndarray]:
    """``seen.npz``'s arrays: the training matrix the scorers read (``indptr``, ``indices``, ``ratings``)
    and, for the models that explain a known user's list (:func:`explains_known_users`),
    ``reason_indices`` (each user's row of ``indices`` reordered, best rated and then most recent
    first: the order ``explain`` tries a known user's movies as reasons, :func:`~movierec.models.base.reason_order`;
    4 bytes an interaction, so other models leave it out), and, where the dataset holds ratings the model did not train on (an implicit model learns from
    ratings ≥ the threshold), every rated movie per user (``rated_indptr``, ``rated_indices``): lists
    leave those out too. ``recommend --user 1 --model ease`` listed Pulp Fiction, which user 1 had
    rated 3. ``similar_indptr``, ``similar_indices``, ``similar_values``: each movie's lift neighbours
    from the training positives (:func:`movierec.models.itemknn.lift_neighbours`), what 'similar' lists
    by default, whatever the model (about 8 bytes × 50 per movie); ``lift=False`` leaves them out (the
    CLI's in-memory view computes them only if a list by lift is asked for: 0.5 s on ml-latest-small)."""
    from movierec.models.base import rated_beyond_training, reason_order

    seen = train.csr().astype(np.float32)
    seen.sort_indices()
    full = getattr(dataset, "interactions", None)
    out = {
        "indptr": seen.indptr.astype(np.int64),
        "indices": seen.indices.astype(np.int32),
        "ratings": seen.data.astype(np.float32),
    }
    if explains_known_users(manifest["model"]["kind"], manifest["model"]["family"]):
        out["reason_indices"] = reason_order(train, full)[1]  # the order explain tries a user's movies
    rated = None if full is None else rated_beyond_training(full, train)
    if rated is not None:  # Interactions.csr() keeps its indices sorted
        out["rated_indptr"] = rated.indptr.astype(np.int64)
        out["rated_indices"] = rated.indices.astype(np.int32)
    table = _lift_table(train, manifest) if lift else None
    if table is not None:  # 'similar' by lift, whatever the model (similar_rows' default)
        out["similar_indptr"] = table.indptr.astype(np.int64)
        out["similar_indices"] = table.indices.astype(np.int32)
        out["similar_values"] = table.data.astype(np.float32)
    return out


def build_manifest(
    model: Any,
    dataset: Any,
    train: Interactions,
    *,
    metrics: dict[str, Any] | None = None,
    implicit_threshold: float = IMPLICIT_THRESHOLD,
    notes: Sequence[str] = (),
    min_support: int | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The manifest (without file checksums) and the arrays of ``model``, after the parity check."""
    from movierec.scoring import export_family
    from movierec.scoring.support import default_min_support

    if not hasattr(model, "n_items_"):
        raise ConfigError(f"{getattr(model, 'name', model)!r} is not fitted; nothing to export")
    if model.n_items_ != train.n_items or model.n_users_ != train.n_users:
        raise ConfigError("the model was not fitted on the given training interactions (shapes differ)")
    exportable(model)
    family, arrays, spec = export_family(model, train.n_users, train.n_items, float(implicit_threshold))
    # issue 20: serve visitors by features
    visitor = visitor_export(model) if family in ("factors", "segments") else None
    if visitor is not None:
        arrays.update(visitor[0])
    kind = str(getattr(model, "kind", "implicit"))
    ranking = ranking_spec(model, train)
    support = train.item_counts()
    if min_support is None:
        min_support = default_min_support(support)
    elif isinstance(min_support, bool) or not isinstance(min_support, (int, np.integer)) or min_support < 0:
        raise ConfigError(f"min_support must be a whole number ≥ 0, got {min_support!r}")
    diff = _parity(model, family, arrays, spec, ranking, train)
    rated = getattr(dataset, "interactions", train)
    dataset_scale = list(getattr(rated, "rating_scale", train.rating_scale))
    params = model.get_params() if hasattr(model, "get_params") else {}
    from movierec.models.base import tags_of

    # trains_on: what a movie's counts count (sequences: every rating, Artifact.counts_every_rating)
    about = {"name": model.name, "params": _jsonable(params), "kind": kind, "family": family}
    manifest: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "model": {**about, "trains_on": tags_of(model).trains_on},
        "dataset": {
            "name": str(getattr(dataset, "name", "data")),
            "sha256": str(getattr(dataset, "sha256", "")),
            "n_users": train.n_users,
            "n_items": train.n_items,
            "n_train_interactions": train.n_ratings,
        },
        "rating_scale": dataset_scale,
        "train_scale": list(train.rating_scale),
        # data without ratings (a log of who watched what, every row a 1): the page counts histories, not likes
        "interactions_only": bool(getattr(rated, "interactions_only", False)),
        # the grid the data's ratings lie on (0.5 for half stars; null: none): POST /feedback refuses off-step ratings
        "rating_step": rating_step(
            getattr(rated, "ratings", train.ratings), (dataset_scale[0], dataset_scale[1])
        ),
        "implicit_threshold": float(implicit_threshold),
        "score_clip": None,
        "ranking": ranking,
        "min_support": int(min_support),
        "fold_in": _jsonable(spec),
        "parity_max_abs_diff": diff,
        "metrics": _jsonable(metrics or {}),
        "packages": package_versions(),
        "exported_by": code_identity(),  # version, commit, source digest: serve notes other code (serving.origin)
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "notes": list(notes),
    }
    unrated = _unrated_movies(dataset)
    if unrated:
        manifest["dataset"]["unrated_movies"] = unrated
    if visitor is not None:
        manifest["user_features"] = visitor[1]
    held = {"linear": "ease weights", "user-linear": "user-ease weights", "ensemble": "the bases' weights",
            "table": "every training user's scores", "vae": "the network's weights"}  # fmt: skip
    if family in held and spec.get("memory_bytes"):
        manifest["notes"].append(
            f"{held[family]} held dense: {spec['memory_bytes'] / 2**20:.0f} MiB in memory"
        )
    return manifest, arrays


def _parity(
    model: Any,
    family: str,
    arrays: dict[str, np.ndarray],
    spec: dict[str, Any],
    ranking: dict[str, Any] | None,
    train: Interactions,
) -> float:
    """Check the exported arrays reproduce ``model.score`` on a few users (the same code the Artifact runs)."""
    from movierec.scoring import make_scorer

    users = np.unique(np.linspace(0, train.n_users - 1, min(train.n_users, _PARITY_USERS)).astype(np.int32))
    want = np.asarray(model.score(users), dtype=np.float64)
    seen = train.csr().astype(np.float32)
    scorer = make_scorer(family, arrays, seen, spec)
    support = train.item_counts()
    priors = rating_priors(train.csr(), ranking)
    got = np.vstack(
        [_rank(scorer.known(int(u)), ranking, support, None if priors is None else priors[u]) for u in users]
    ).astype(np.float64)
    finite = np.isfinite(want)
    diff = float(np.max(np.abs(got[finite] - want[finite]), initial=0.0))
    if diff > _PARITY_TOL:
        raise ArtifactError(
            f"cannot export {model.name!r}: the exported {family} do not reproduce the model's scores "
            f"(max difference {diff:.3g}); this model needs its own export path"
        )
    return diff


def _rank(
    raw: np.ndarray, ranking: dict[str, Any] | None, support: np.ndarray, prior: float | None = None
) -> np.ndarray:
    """Raw family scores → the model's ranking score (rating predictors: the support-shrunk rating, shrunk
    towards ``prior``, the person's m_u; ``None``: μ)."""
    if ranking is None:
        return raw
    from movierec.scoring.support import explicit_rank_score

    lo, hi = ranking["scale"]
    return explicit_rank_score(raw, support, ranking["global_mean"], (lo, hi), ranking["shrinkage"], prior)


def _ids_frame(user_map: IdMap, item_map: IdMap) -> pd.DataFrame:
    """Long table ``kind, index, id_int, id_str``: integer raw ids stay integers, strings stay strings."""
    import pandas as pd

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


def _unrated_movies(dataset: Any) -> dict[str, str]:
    """``{movieId: title}`` of the catalogue movies (``dataset.catalog``) nobody rated in ``dataset``.

    An artifact's items are the rated movies only, so without this a title such as 'Niagara' (in
    ml-latest-small's movies.csv, with no ratings) got "no movie title matches … did you mean" with
    unrelated titles from an artifact, where the trained model names it as unrated
    (:meth:`Artifact.unrated_movie`). Empty when the data has no catalogue.
    """
    catalog = getattr(dataset, "catalog", None)
    inter = getattr(dataset, "interactions", None)
    if catalog is None or inter is None or not len(catalog) or not {"movieId", "title"} <= set(catalog):
        return {}
    rated = {str(raw) for raw in inter.item_map.ids}
    return {
        str(raw): str(title)
        for raw, title in zip(catalog["movieId"], catalog["title"], strict=True)
        if str(raw) not in rated
    }


def _items_frame(dataset: Any, train: Interactions) -> pd.DataFrame:
    import pandas as pd

    if hasattr(dataset, "item_table") and dataset.interactions.item_map == train.item_map:
        table = dataset.item_table()
    else:
        ids = train.item_map.ids
        table = pd.DataFrame(
            {
                "movieId": ids,
                "title": [id_title(i) for i in ids],
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
    links = links_table(dataset)
    if links is not None:
        joined = out[["movieId"]].merge(links, on="movieId", how="left")
        out["imdbId"] = pd.array(joined["imdbId"], dtype="string")
        out["tmdbId"] = pd.array(joined["tmdbId"], dtype="string")
    return out


def links_table(dataset: Any) -> pd.DataFrame | None:
    """MovieLens' links.csv beside the ratings (movieId → IMDb and TMDb ids), when there is one."""
    import pandas as pd

    source = str(getattr(dataset, "source", "") or "")
    path = Path(source) / "links.csv" if source else None
    if path is None or not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, dtype=str)
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    if not {"movieId", "imdbId", "tmdbId"} <= set(frame.columns):
        return None
    return frame[["movieId", "imdbId", "tmdbId"]].drop_duplicates("movieId")


# --- loading -----------------------------------------------------------------------------


def load_artifact(path: str | Path) -> Artifact:
    """Open an artifact folder after verifying its format version and the sha256 of every file."""
    root = Path(path).expanduser()
    _refuse_non_artifact(root)
    mpath = root / MANIFEST
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
        if not fpath.is_file():  # the folder is incomplete: only a new export makes it whole
            said, model = (
                f"{root}: missing file {name}; re-export it",
                (manifest.get("model") or {}).get("name"),
            )
            raise ArtifactError(
                Doors(
                    f"{said} (rec.export({str(root)!r}, force=True))",
                    f"{said} (movierec export --model {model or 'NAME'} --out {root} --force)",
                )
            )
        if name not in files:
            raise ArtifactError(f"{mpath}: no checksum recorded for {name}")
        if _sha256(fpath) != files[name]:
            raise ArtifactError(f"{fpath}: sha256 mismatch (file corrupted or tampered with since export)")
    try:
        from movierec.models.base import read_npz

        arrays, seen_parts = read_npz(root / "factors.npz"), read_npz(root / "seen.npz")
        ids = read_columns(root / "ids.parquet")
        items = read_columns(root / "items.parquet")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"{root}: unreadable artifact data ({exc})") from exc
    parts = ArtifactParts(manifest, arrays, seen_parts, ids, items)
    validate_artifact(root, parts)  # structure, not just checksums
    return Artifact(root, parts)


def _refuse_non_artifact(root: Path) -> None:
    """Refuse, naming what to give instead, a path that is not an artifact folder.

    The near misses a person makes: a file of an artifact (``artifacts/svd/manifest.json``, which
    said "no such artifact folder" although it exists) and the folder holding the artifacts
    (``artifacts``, which said only "missing manifest.json")."""
    if root.is_file():
        parent = root.parent
        if (parent / MANIFEST).is_file():
            raise ArtifactError(f"{root}: a file of the artifact; give its folder, {parent}")
        raise ArtifactError(_create_one(f"{root}: a file, not an artifact folder", "folder"))
    if not root.is_dir():
        raise ArtifactError(_create_one(f"{root}: no such artifact folder", repr(str(root))))
    if (root / MANIFEST).is_file():
        return
    inside = (
        sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file()) if os.access(root, os.R_OK) else []
    )
    if inside:
        shown = ", ".join(inside[:5]) + (f" and {len(inside) - 5} more" if len(inside) > 5 else "")
        raise ArtifactError(
            f"{root}: not an artifact but a folder of them ({shown}); give one, e.g. {root / inside[0]}"
        )
    raise ArtifactError(f"{root}: not an artifact (missing {MANIFEST})")


def _create_one(said: str, where: str) -> Doors:
    """``said`` and how each door makes an artifact: ``rec.export(WHERE)`` on a fitted Recommender in Python
    (:meth:`movierec.Recommender.export`), ``movierec export`` in the CLI. ``load_artifact`` in a notebook
    was told the command, which a notebook does not run."""
    return Doors(
        f"{said} (create one with rec.export({where}) on a fitted movierec.Recommender)",
        f"{said} (create one with 'movierec export')",
    )


def _id_map(ids: Columns, kind: str) -> IdMap:
    mask = ids["kind"] == kind
    raw = raw_ids(ids, mask)[np.argsort(ids["index"][mask], kind="stable")]
    return IdMap(raw, kind="user" if kind == "user" else "movie")


def _as_key(string_ids: bool, raw: object) -> object:
    """An integer asked of a map of string ids becomes its string (pandas 3 indexes strings as ``str``, not object)."""
    if string_ids and isinstance(raw, (int, np.integer)) and not isinstance(raw, bool):
        return str(raw)
    return raw


def explains_known_users(kind: str, family: str) -> bool:
    """Whether a model of ``kind`` served by ``family`` can explain a known user's list: an item-based
    model (ease, itemknn, rp3beta, slim) scores a user as a sum over the movies they trained with, so
    leaving one out explains that very list, and a k-NN rating model (knn-basic, knn-means, knn-zscore,
    knn-baseline: family ``knn``) predicts their baseline plus a sum of their rated neighbours' shares
    (:func:`movierec.scoring.explain.known_because`)."""
    if kind == "explicit":
        return family == "knn"
    return family in ("linear", "neighbours")


#: what explains a list where a known user's cannot be: a model that can, or the visitor route with the
#: person's ratings (:func:`visitor_explain`: only where that route names reasons)
VISITOR_EXPLAIN = (
    "use an artifact of ease or knn-baseline, or POST /recommendations with the ratings and explain"
)


def visitor_explain(model: str, family: str | None) -> str:
    """:data:`VISITOR_EXPLAIN`, less the visitor route where a list for given ratings names no reason
    either (popularity, baseline: :func:`movierec.scoring.explain.visitor_reasons`)."""
    from movierec.scoring.explain import visitor_reasons

    return VISITOR_EXPLAIN if visitor_reasons(model, family) else "use an artifact of ease or knn-baseline"


@dataclass
class _Query:
    k: int
    exclude: np.ndarray | None
    genres: Sequence[str] | None
    min_support: int | None = None


def _manifest_fact(*keys: str, doc: str) -> Any:
    """A read-only :class:`Artifact` property: the manifest's value under ``keys``, as a string; ``doc`` says
    what it is (what ``help(art)`` shows under it), the manifest key ending it."""

    def fact(self: Artifact) -> str:
        value: Any = self.manifest
        for key in keys:
            value = value[key]
        return str(value)

    fact.__doc__ = f"{doc} (the manifest's {'.'.join(keys)})."
    return property(fact)


class UnknownMovieError(UnknownIdError):
    """A movieId the artifact has no ratings of, said in IdMap's words to Python ("unknown movie id 999999",
    unchanged) and, through ``in_api()``, in the API's (:meth:`Artifact.served_unknown_movie`), which the
    served app's 404 answers (:mod:`movierec.serving.errors`)."""

    def __init__(self, message: str, in_api: Callable[[], str]) -> None:
        super().__init__(message)
        self.in_api = in_api


class Artifact(IdMapped):
    """A loaded, verified artifact: recommend, fold in a visitor, find similar movies, search titles.

    Every list passes the same guardrails: items with fewer than ``min_support`` training
    interactions are not candidates (the manifest's value unless a call overrides it), rating
    predictors rank by their support-shrunk score (the model's ``score``) and show the clipped
    predicted rating as ``predictedRating``.
    """

    def __init__(self, path: Path, parts: ArtifactParts) -> None:
        from movierec.scoring import make_scorer
        from movierec.scoring.support import default_min_support

        manifest, arrays, seen, ids, items = parts
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
        # every movie a user rated, where the model trained on fewer (older artifacts: the training ones)
        self._rated = (
            (np.asarray(seen["rated_indptr"]), np.asarray(seen["rated_indices"]))
            if "rated_indptr" in seen
            else (self._seen.indptr, self._seen.indices)
        )
        # the order explain tries a known user's movies (older artifacts: by item index)
        self._reasons = np.asarray(seen.get("reason_indices", self._seen.indices))
        # 'similar' by lift (artifacts exported before 2026-12-04 have none: they list by the model)
        self._lift_table: sp.csr_matrix | None = (
            sp.csr_matrix(
                (seen["similar_values"], seen["similar_indices"], seen["similar_indptr"]),
                shape=(n_items, n_items),
            )
            if "similar_indptr" in seen
            else None
        )
        self._lift_later: Callable[[], sp.csr_matrix | None] | None = None  # serving_view's, on first use
        self._lift_pos: tuple[sp.csr_matrix, np.ndarray] | None = None  # its positives, read on first use
        self._train_scale = tuple(manifest.get("train_scale", manifest["rating_scale"]))
        self._ranking: dict[str, Any] | None = manifest.get("ranking")
        self._priors = rating_priors(self._seen, self._ranking)
        self._popularity = np.bincount(self._seen.indices, minlength=n_items).astype(np.float32)
        # training users with no row the model learned from (known_fallback): popularity's list for them
        self._untrained = np.diff(self._seen.indptr) == 0
        floor = manifest.get("min_support")
        self.min_support = int(default_min_support(self._popularity) if floor is None else floor)
        self.scorer = make_scorer(self.family, arrays, self._seen, _legacy_spec(manifest))
        self._unit: np.ndarray | None = None
        self._rows = _item_rows(items, self.item_map.ids)
        self._keys = [search_key(r["title"]) for r in self._rows]
        self._genre_index: dict[str, np.ndarray] = {}
        self._genre_spellings = genre_spellings(r["genres"] for r in self._rows)
        for key, name in self._genre_spellings.items():
            mask = np.fromiter((name in r["genres"] for r in self._rows), dtype=bool, count=n_items)
            self._genre_index[key] = mask
        self._genre_names = sorted(self._genre_spellings.values())

    def __repr__(self) -> str:
        from movierec.display import artifact_repr

        return artifact_repr(self)

    def _repr_html_(self) -> str:
        from movierec.display import artifact_html

        return artifact_html(self)

    if not TYPE_CHECKING:  # a type checker keeps flagging misspelt attributes

        def __getattr__(self, name: str) -> Any:
            """Only for names that are not attributes: ``recommend_for``, the Recommender's call for someone
            new (the README's), names the artifact's own instead of Python's bare AttributeError."""
            if name == "recommend_for":
                raise AttributeError(
                    "'Artifact' object has no attribute 'recommend_for'; art.recommend_for_ratings({movie: "
                    "rating, …}) is Recommender.recommend_for's list from an artifact (recommend_for_visitor("
                    "features) from user features, recommend_for_history(movies) from a viewing order)",
                    name=name,
                    obj=self,
                )
            return object.__getattribute__(self, name)  # Python's own error, a property's inner one too

    def to_frame(self) -> pd.DataFrame:
        """The artifact's catalogue, row ``i`` = item index ``i``: ``movieId, title, year, genres, ratings``."""
        import pandas as pd

        return pd.DataFrame([self.movie_row(i) for i in range(self.n_items)])

    # --- facts ------------------------------------------------------------------------
    model_name = _manifest_fact(
        "model", "name", doc="The model's registry name, as --model takes it: 'svd', 'ease'"
    )
    model_version = _manifest_fact(
        "model_version",
        doc="12 hex digits hashing the artifact's data files, which every API answer carries as modelVersion "
        "(an artifact made in memory for the CLI's lists, not exported: 'unsaved')",
    )
    dataset_name = _manifest_fact(
        "dataset",
        "name",
        doc="The name of the data it was trained on: 'ml-latest-small'; a ratings file's stem, 'mine' for mine.csv",
    )
    created_at = _manifest_fact(
        "created_at", doc="When it was exported, in UTC, ISO 8601 to the second: '2026-12-07T00:25:56+00:00'"
    )

    @property
    def rating_scale(self) -> tuple[float, float]:
        """The lowest and highest rating of the data it was trained on, as floats: ``(0.5, 5.0)`` on
        MovieLens half stars (:attr:`rating_step` is the step between them)."""
        lo, hi = self.manifest["rating_scale"]
        return float(lo), float(hi)

    @property
    def rating_step(self) -> float | None:
        """The step between the ratings of the data (0.5 on half stars), or ``None``: no grid, or an artifact
        exported before the step was recorded (any rating on the scale is taken then, as before)."""
        step = self.manifest.get("rating_step")
        return None if step is None else float(step)

    def rating_levels(self) -> str:
        """The ratings the scale takes, in words: ``"0.5, 1, 1.5, …, 5 (steps of 0.5)"``; the range alone without a step."""
        return rating_levels(self.rating_scale, self.rating_step)

    def refused_rating(self, rating: float) -> str | None:
        """Why ``rating`` is refused here (off the scale, or between two of the data's levels), or ``None``:
        :func:`movierec.interactions.refused_rating` with this artifact's scale and step, the words the API
        and the CLI's ``--rated`` both use."""
        return refused_rating(rating, self.rating_scale, self.rating_step)

    @property
    def genres(self) -> list[str]:
        """The genres of its movies, sorted, spelled as the data spells them (``['Action', 'Adventure', …]``;
        ``[]`` when the movies have none): the names ``recommend(..., genres=)`` takes."""
        return list(self._genre_names)

    def genre_names(self, asked: str | Iterable[str]) -> list[str]:
        """The ``asked`` genres as the data spells them, checked as ``recommend(..., genres=)`` checks them
        (``'scifi'`` is ``'Sci-Fi'``): what a list's caption names, so ``--genre scifi`` reads "· Sci-Fi"."""
        return [self._genre_spellings[k] for k in check_genres(asked, self._genre_spellings, "art.genres")]

    @property
    def sequential(self) -> bool:
        """Whether the model reads an ordered history (markov, sasrec, gru4rec: the families markov and sasrec)
        rather than a set of ratings: a visitor's list is what comes next after their latest movie, whatever its
        rating, and its ``because`` names that movie (GET /health's ``sequential``, so the page says "After …"
        rather than "Because you liked …")."""
        return self.family in ("markov", "sasrec")

    @property
    def same_for_everyone(self) -> bool:
        """Whether the model gives everyone one list (popularity, sequential-popularity: the family
        ``scores``): a visitor's ratings only leave their movies out, so no rated movie is a reason for a row
        (GET /health's ``sameForEveryone``; an explained list's ``becauseNote`` says so)."""
        return self.family == "scores"

    @property
    def counts_every_rating(self) -> bool:
        """Whether the model learned from every training rating rather than the liked ones (ratings ≥ the
        threshold): rating models and the models that read histories in time order (markov, sasrec, gru4rec,
        and sequential-popularity, whose list counts every rating however low). Its ``ratings`` counts and
        support floor then count every rating. Recorded at export (the manifest's ``model.trains_on``); an
        artifact exported before reads it from the model's registered class."""
        if self.kind != "implicit" or self.sequential:
            return True
        trains_on = self.manifest["model"].get("trains_on")
        if trains_on is None:
            from movierec.models.base import tags_of
            from movierec.models.registry import get_class

            try:
                trains_on = tags_of(get_class(self.model_name)).trains_on
            except Exception:  # a model this code does not register: the implicit default
                trains_on = "interactions"
        return bool(trains_on == "sequences")

    @property
    def support(self) -> np.ndarray:
        """Training interactions per item (what the support floor counts)."""
        return self._popularity

    @property
    def titles(self) -> list[str]:
        """Every movie's title by item index ('movieId 318' for data without titles)."""
        return [r["title"] for r in self._rows]

    @property
    def has_titles(self) -> bool:
        """Whether the training data came with titles, as ``Dataset.has_titles`` says: without them every
        movie is named by its id ('movieId 318'), so a title asked of the artifact can only fail, and its
        messages say where titles come from instead."""
        return not id_titled(self.titles, self.item_map.ids)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The model's arrays as ``factors.npz`` held them, read and validated once at load (Spark scores
        from them instead of reading the file again)."""
        return self._a

    @property
    def rated(self) -> tuple[np.ndarray, np.ndarray]:
        """Every movie each training user rated, as CSR ``(indptr, indices)``: what a list leaves out. More than
        :attr:`seen` where the model trained on fewer (an implicit model learns from ratings ≥ its threshold,
        and a movie rated 2 is still not recommended back)."""
        return self._rated

    @property
    def seen(self) -> sp.csr_matrix:
        """Each training user's training interactions (users × items, their ratings): what lists leave out."""
        return self._seen

    # --- scoring ----------------------------------------------------------------------
    def _rank(self, raw: np.ndarray, prior: float | None = None) -> np.ndarray:
        return _rank(raw, self._ranking, self._popularity, prior)

    def _known_prior(self, u: int) -> float | None:
        """Training user ``u``'s m_u (rating predictors; ``None``: μ)."""
        return None if self._priors is None else float(self._priors[u])

    def _visitor_prior(self, values: np.ndarray) -> float | None:
        """A visitor's m_u from the ratings they gave (rating predictors; ``None``: μ)."""
        if self._priors is None or self._ranking is None:
            return None
        from movierec.scoring.support import user_priors

        r = np.asarray(values, dtype=np.float64)
        mu, k = self._ranking["global_mean"], self._ranking["user_prior_shrinkage"]
        return float(user_priors(np.array([r.sum()]), np.array([len(r)]), mu, k)[0])

    def user_scores(self, u: int) -> np.ndarray:
        """Ranking scores over every item for training user index ``u`` (equal to the model's ``score``)."""
        return self._rank(self.scorer.known(u), self._known_prior(u))

    def _genre_mask(self, genres: Iterable[str] | None) -> np.ndarray | None:
        import shlex

        # where each door lists this artifact's genres: Python's art.genres, the CLI's data info --artifact
        listed_by = Doors("art.genres", f"movierec data info --artifact {shlex.quote(str(self.path))}")
        keys = check_genres(genres, self._genre_spellings, listed_by) if genres else []
        if not keys:  # none asked, or only blank ones: no filter, as in Python, the CLI and the API
            return None
        mask = np.zeros(self.n_items, dtype=bool)
        for key in keys:
            mask |= self._genre_index[key]
        return mask

    def _floor(self, min_support: int | None) -> int:
        floor = self.min_support if min_support is None else min_support
        if isinstance(floor, bool) or not isinstance(floor, (int, np.integer)) or floor < 0:
            raise ConfigError(f"min_support must be a whole number ≥ 0, got {floor!r}")
        return int(floor)

    def _candidates(self, scores: np.ndarray, q: _Query) -> np.ndarray:
        """A float32 copy of ``scores`` with what ``q`` rules out (seen, other genres, too few ratings) at -inf."""
        if not isinstance(q.k, (int, np.integer)) or isinstance(q.k, bool) or q.k < 1:
            raise ConfigError(f"k must be a whole number ≥ 1, got {q.k!r}")
        scores = np.array(scores, dtype=np.float32)
        if q.exclude is not None and len(q.exclude):
            scores[q.exclude] = -np.inf
        mask = self._genre_mask(q.genres)
        if mask is not None:
            scores[~mask] = -np.inf
        floor = self._floor(q.min_support)
        if floor > 0:
            scores[self._popularity < floor] = -np.inf
        return scores

    def _top(self, scores: np.ndarray, q: _Query, raw: np.ndarray | None = None) -> list[dict[str, Any]]:
        scores = self._candidates(scores, q)
        n = len(scores)
        from movierec.models.base import topk  # the one ranking every list uses (models, notebook, API)

        order = topk(scores[None, :], min(int(q.k), n))[0][0]
        picks = []
        for i in order:
            if i < 0:  # fewer candidates than k
                break
            if not np.isfinite(scores[i]) and scores[i] < 0:
                break
            picks.append(int(i))
        return self._list_rows(np.asarray(picks, dtype=np.int64), scores, raw)

    def _list_rows(
        self, picks: np.ndarray, scores: np.ndarray, raw: np.ndarray | None
    ) -> list[dict[str, Any]]:
        """The rows of movies ``picks`` in a list: each one's facts, ``score``, ``ratings`` (support) and, for a
        rating model given the scorer's ``raw`` scores, ``predictedRating`` clipped to the scale; the numbers
        converted for the whole list at once (:func:`_shown`)."""
        shown = _shown(scores[picks])
        rated = None
        if raw is not None and self._ranking is not None:
            lo, hi = self._train_scale
            rated = _shown(np.clip(raw[picks], lo, hi))
        rows = []
        for n, i in enumerate(picks.tolist()):
            row = {**self._rows[i], "score": shown[n], "ratings": int(self._popularity[i])}
            if rated is not None:
                row["predictedRating"] = rated[n]
            rows.append(row)
        return rows

    def user_index(self, user_raw_id: object) -> int:
        """Dense index of a raw user id (``UnknownIdError`` when the artifact does not know it)."""
        return int(self.user_map.index(_as_key(self._user_str, user_raw_id)))

    def served_user_index(self, user_raw_id: object) -> int:
        """:meth:`user_index` for the API's ``GET /users/{userId}/recommendations``, whose 404 says what the
        CLI's and Python's unknown user say in the API's words (:func:`movierec.titles.unknown_user`): the
        ids there are, and ``POST /recommendations`` for someone not in the data (it said only "unknown user
        id '999999'")."""
        try:
            return self.user_index(user_raw_id)
        except UnknownIdError:
            fix = "POST /recommendations with their ratings"
            raise UnknownIdError(
                unknown_user(user_raw_id, str(self.dataset_name), self.user_map.ids, fix)
            ) from None

    def raw_user(self, u: int) -> int | str:
        """The raw id of user index ``u`` as JSON wants it (int or str)."""
        raw = self.user_map.to_raw(u)
        return int(raw) if isinstance(raw, (int, np.integer)) else str(raw)

    def item_index(self, movie_raw_id: object) -> int:
        """Dense index of a raw movie id (``UnknownIdError`` when the artifact does not know it; for a
        catalogue movie nobody rated, the error says so, as :meth:`unrated_movie` does, so ``GET
        /movies/2939`` and a visitor's rating of it answer "Niagara (1953) has no ratings…", not "unknown")."""
        try:
            return int(self.item_map.index(_as_key(self._item_str, movie_raw_id)))
        except UnknownIdError as exc:
            unrated = (self.manifest.get("dataset") or {}).get("unrated_movies") or {}
            key = str(movie_raw_id).strip()
            if key in unrated:
                raise UnknownIdError(
                    f"movieId {key} is {unrated[key]}, which has no ratings in {self.dataset_name}, "
                    "so no model has learned anything about it"
                ) from None
            number = self.not_a_movie_id(movie_raw_id)
            if number is not None:  # '1.5' read as a title gave "give Patrik Age 1.5 (…)'s movieId"
                raise UnknownIdError(number) from None
            named = self._titled(movie_raw_id)
            if named is not None:  # one sentence: the digits rule IdMap adds is noise beside a title
                raise UnknownIdError(named) from None
            raise UnknownMovieError(str(exc), lambda: self.served_unknown_movie(movie_raw_id)) from None

    def served_unknown_movie(self, movie_raw_id: object) -> str:
        """The API's 404 for a movieId the artifact has no ratings of (``GET /movies/{movieId}``, its similar
        movies, a rating or a feedback of it), as the unknown user's says it (:meth:`served_user_index`): the
        ids there are, and the route that finds a movie's id by its title. It said only "unknown movie id
        '999999'"."""
        return (
            f"unknown movie id {movie_raw_id!r} in {self.dataset_name} ({known_users(self.item_map.ids, 'movies')});"
            " GET /movies?q=TITLE finds a movie's movieId"
        )

    def not_a_movie_id(self, text: object) -> str | None:
        """For a number that is no whole one (``'1.5'``, ``'3.0'``, ``'1e3'``) given where a movieId is taken,
        on data whose movieIds are integers: the sentence that says a movieId is a whole number, which the
        API answers as a 422 (``GET /movies/1.5``). Read as a title it was "'1.5' is a title, not a movieId;
        give Patrik Age 1.5 (Patrik 1,5) (2008)'s movieId, 80584". None for anything else (a whole number
        is an id, known or not; text may be a title)."""
        if self._item_str or not isinstance(text, str) or not _DECIMAL.fullmatch(text.strip()):
            return None
        return f"{text.strip()!r} is not a movieId: {self._movie_id_is()}"

    def not_an_id_value(self, field: str, value: object) -> str:
        """For a value in a request body that no ``field`` (``movieId``, ``userId``) can be: a JSON value of
        neither type (``1.5``, ``true``, ``null``, ``[21]``), an integer past 64 bits, text empty or over 128
        characters (:data:`~movierec.serving.schemas.RawId`). :meth:`not_a_movie_id`'s sentence, the value as
        JSON writes it ("1.5 is not a movieId: a movieId is a whole number written in digits (…)"); a text
        too long is counted, not echoed. It was pydantic's two lines, one per spelling an id may have ("Input
        should be a valid integer", "String should have at most 128 characters")."""
        from movierec.serving.schemas import ID_MAX, ID_MAX_CHARS, ID_MIN

        tail = "; GET /movies?q=TITLE finds a movie's movieId" if field == "movieId" else ""
        if isinstance(value, str) and len(value) > ID_MAX_CHARS:
            return f"a {field} has at most {ID_MAX_CHARS} characters (this one has {len(value)}){tail}"
        if isinstance(value, int) and not isinstance(value, bool):
            return (
                f"{value} is not a {field}: a {field} that is a number lies between {ID_MIN} and {ID_MAX} "
                f"(64 bits){tail}"
            )
        try:
            shown = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):  # not from JSON; said as Python would
            shown = repr(value)
        if len(shown) > 40:
            shown = shown[:39] + "…"
        what = self._movie_id_is() if field == "movieId" else self._user_id_is(visitor=True)
        return f"{shown} is not a {field}: {what}"

    def not_a_user_id(self, text: object, visitor: bool) -> str | None:
        """The 422's sentence for text given where a userId is taken that no userId of this data can be, on
        data whose userIds are integers; None for anything else (a whole number is an id, known or not; other
        text is a visitor's own id). Everywhere: a number that is no whole one (``'1.5'``, ``'1e3'``), as
        :meth:`not_a_movie_id` says it of a movieId. Where a visitor's own text id is taken (``visitor``: a
        body, ``POST /feedback`` and ``POST /recommendations`` alike): any other text Python reads as a number
        (``'007'``, ``'+7'``, ``' 7'``, ``'７'``, ``'nan'``), since no door can keep it as a visitor's id:
        ``export --with-feedback`` drops a stored look-alike (:func:`~movierec.serving.store.merge_feedback`),
        and read as 7 it would make the visitor user 7. The path, which looks up the data's users only,
        answers such text with the unknown user's 404, as ``GET /movies/0001`` does a movie's."""
        if self._user_str or not isinstance(text, str):
            return None
        if _DECIMAL.fullmatch(text.strip()):
            return f"{text.strip()!r} is not a userId: {self._user_id_is(visitor)}"
        if not visitor or parse_int_id(text) is not None or not looks_numeric(text):
            return None
        try:
            said = f"{int(text)}, not {text!r}"
        except ValueError:  # 'nan', 'inf': a number, but no whole one
            return f"{text!r} is not a userId: it reads as a number that is no whole one; {self._user_id_is(True)}"
        return (
            f"{text!r} is not a userId: a userId is a whole number written in ASCII digits, without '+', spaces, "
            f"underscores or leading zeros ({said}), or a visitor's own text id, such as 'web-42'"
        )

    def _user_id_is(self, visitor: bool) -> str:
        """What a userId of this artifact is: the data's ids, and where a body takes one, a visitor's own."""
        if self._user_str:
            example = str(self.user_map.ids[0]) if len(self.user_map.ids) else "u1"
            what = f"this data's userIds are text, such as {example!r}"
        else:
            what = "a userId is a whole number written in digits (1, 42, 610)"
        if not visitor:
            return f"{what}; for someone not in the data, POST /recommendations with their ratings"
        return f"{what}, or a visitor's own text id, such as 'web-42'"

    def _movie_id_is(self) -> str:
        """What a movieId of this artifact is, and where a movie's is found: the end of the refusals of
        something that is none (:meth:`not_a_movie_id`, :meth:`not_an_id_value`)."""
        if self._item_str:  # ids such as tt0114709
            example = str(self.item_map.ids[0]) if len(self.item_map.ids) else "tt0114709"
            what = f"this data's movieIds are text, such as {example!r}"
        else:
            what = "a movieId is a whole number written in digits (1, 296, 2571)"
        return f"{what}; GET /movies?q=TITLE finds a movie's movieId"

    def _titled(self, text: object) -> str | None:
        """For a title given where only a movieId is taken (the API's ``movieId``, ``similar --movie-id``):
        the one sentence that says so and names the movieId to give, "'Toy Story' is a title, not a movieId;
        give Toy Story (1995)'s movieId, 1" (a near spelling: "… the nearest title is Toy Story (1995); give
        its movieId, 1"), where it said "unknown movie id 'Toy Story'" with the rule for writing integer ids;
        None when it is no text or names no one movie."""
        if not isinstance(text, str) or not text.strip() or text.strip().isdigit():
            return None
        try:
            row = self.movie_row(self.find_title(text))
        except MovierecError:
            return None
        shown, title, movie_id = text.strip(), row["title"], row["movieId"]
        if respelled(shown, title):
            return (
                f"{shown!r} is not a movieId, and the nearest title is {title}; give its movieId, {movie_id}"
            )
        if fold_title(shown) not in (*title_keys(title), fold_title(title)):  # 'abc' of ABCs of Death
            return (
                f"{shown!r} is not a movieId, and it matches the title {title}; give its movieId, {movie_id}"
            )
        return f"{shown!r} is a title, not a movieId; give {title}'s movieId, {movie_id}"

    def movie_id(self, movie: object) -> int | str:
        """The raw movieId of a movie as the notebook's methods take it (:meth:`similar`, :meth:`predict`,
        :meth:`recommend_for_ratings`, :meth:`recommend_for_history`, ``exclude=``): a movieId, or a title
        read as :meth:`movierec.Recommender.movie_index` reads one, so ``rec.export(path).similar("Toy
        Story")`` answers as ``rec.similar("Toy Story")`` does: any part of it in any case, a near spelling
        with a warning naming the movie read, a number in text that is a movieId is that movie (``"1"``)
        unless it is also another movie's whole title (``"300"``: refused naming both). The HTTP API takes
        movieIds only (:meth:`item_index`): a JSON field has one type, and a client has the ids from search."""
        if isinstance(movie, str) and not (self._item_str and movie in self.item_map):
            return self.raw_item(self._title_index(movie))
        found = self.item_map.get(_as_key(self._item_str, movie))
        if found is None:
            said = self.unrated_movie(str(movie)) if isinstance(movie, (int, np.integer)) else None
            raise UnknownIdError(said or self._unknown_movie(movie))
        return self.raw_item(int(found))

    def _title_index(self, text: str) -> int:
        """:meth:`movie_id`'s reading of text, by :func:`movierec.titles.movie_from_text`: the rules
        :meth:`movierec.Recommender.movie_index` reads it by (a movieId in digits, else the one title)."""
        return movie_from_text(
            text,
            self.titles,
            self.item_map,
            self._popularity,
            titled=self.has_titles,
            no_titles=self._no_titles,
            unrated=self.unrated_movie,
            unknown=self._unknown_movie,
        )

    def _no_titles(self, text: str) -> UnknownIdError:
        """A title asked of an artifact of data without titles (every movie 'movieId 318'): where titles come
        from, and the movieId to give instead (its most-rated movie's, or the text's own where it is one)."""
        return no_titles(
            text,
            self.item_map,
            self.item_map.to_raw(int(np.argmax(self._popularity))),
            movies_hint="a movies file with movieId,title[,genres] to export, "
            + spelled("movies=", "--movies FILE"),
            id_hint="the movieId",
        )

    def _unknown_movie(self, movie: object) -> str:
        """The one line for a movieId the artifact has no ratings of: which ids it has and what to give
        instead, as the unknown user's line does (it said only "unknown movie id 999999")."""
        return unknown_movie_id(movie, "the artifact", self.item_map.ids, titled=self.has_titles)

    def raw_item(self, i: int) -> int | str:
        """The raw movieId of item index ``i`` as JSON wants it (int or str)."""
        raw = self.item_map.to_raw(i)
        return int(raw) if isinstance(raw, (int, np.integer)) else str(raw)

    def denied(self, exclude: Iterable[object] | None) -> np.ndarray:
        """Dense indices of a deny-list of raw movieIds (implicit's ``filter_items``: movies a list must never
        show, such as films not licensed in a region); one id alone is one movie. An id the artifact does not
        know is :meth:`item_index`'s ``UnknownIdError``: a typo would otherwise leave the movie it meant in
        the list, silently."""
        if exclude is None:
            return np.zeros(0, dtype=np.int64)
        if isinstance(exclude, (str, bytes, int, np.integer)):
            exclude = [exclude]
        return np.asarray([self.item_index(m) for m in exclude], dtype=np.int64)

    def predict(self, user_raw_id: object, movie_raw_id: object) -> float:
        """A known user's predicted rating of one movie (a raw user id; a movieId or a title, :meth:`movie_id`),
        clipped to the rating scale: what
        :meth:`movierec.Recommender.predict` gives for the model exported (rating predictors only; a
        ranking model predicts no ratings, so it is refused, naming :meth:`recommend`)."""
        if self._ranking is None:
            raise ConfigError(
                f"{self.model_name} is a ranking model: it predicts no ratings; recommend(user) lists its "
                "movies, best first (export a rating predictor such as svd for predicted ratings)"
            )
        u, i = self._known_user(user_raw_id), self.item_index(self.movie_id(movie_raw_id))
        lo, hi = self._train_scale
        return float(np.clip(self.scorer.known(u)[i], lo, hi))

    # One computation, two renderings: recommend_index ranks (its options are the only list of them),
    # recommend_rows renders the API's JSON rows, recommend the DataFrame a notebook reads.
    def recommend(self, user_raw_id: object, k: int = 10, **options: Any) -> pd.DataFrame:
        """Top-``k`` movies for a known user as a DataFrame, best first (index ``rank`` from 1); for a list of
        users, one frame with each user's list in turn and a ``userId`` column first, as
        :meth:`movierec.Recommender.recommend` gives.

        ``options`` are :meth:`recommend_index`'s (``exclude_seen``, ``genres``, ``min_support``,
        ``rerank``). Columns ``movieId, title, year, genres, score, n_ratings`` (plus
        ``predicted_rating`` for rating predictors, clipped to the scale; ``imdbId, tmdbId`` where the data
        had a links.csv), the columns :meth:`movierec.Recommender.recommend` returns, so a notebook reads a
        served model as it reads a trained one; ``genres`` is ``|``-joined, and the count is named for what
        it counts (:attr:`count_column`: ``n_liked`` where the model learned from ratings ≥ its threshold,
        else ``n_ratings``). The HTTP API's JSON rows are :meth:`recommend_rows`.
        """
        import pandas as pd

        if isinstance(user_raw_id, (list, tuple, np.ndarray, pd.Series, pd.Index)):
            return self._recommend_many(list(user_raw_id), k, **options)
        if options.get("exclude") is not None:  # titles too, as Recommender.recommend's exclude=
            options["exclude"] = [self.movie_id(m) for m in _movies_given(options["exclude"])]
        u = self._known_user(user_raw_id)
        rows = self.recommend_index(u, k, **options)
        frame = recommendations_frame(rows, count=self.count_column)
        frame.attrs[ABOUT] = {"score": self._score_about(self.known_fallback(u) is not None)}
        back_off = self.back_off_note(u, rows)  # markov's rows no one rated next after the user's latest
        if back_off:
            frame.attrs[ROWS] = {"note": back_off, "rows": len(rows)}
        return frame

    def _score_about(self, fallback: bool) -> str:
        """What a list's score is, said under its table: popularity's counts where the list is the fallback's,
        else the model's (:func:`movierec.display.score_meaning`)."""
        if fallback:
            return fallback_score(self.count_column)
        return score_meaning(self.kind == "explicit", self.score_count)

    def _recommend_many(self, users: list[object], k: int, **options: Any) -> pd.DataFrame:
        """:meth:`recommend` for a list of users, as :meth:`movierec.Recommender.recommend` takes one: one
        frame, a ``userId`` column first. ``recommend([1, 442])`` raised "only 0-dimensional arrays can be
        converted to Python scalars". Every id is checked before any list is ranked."""
        from movierec.display import lists_by_user

        if not users:
            raise ConfigError("user_raw_id: an empty list; give a user id or a list of them")
        for user in users:
            self._known_user(user)
        return lists_by_user(users, [self.recommend(user, k, **options) for user in users])

    def _known_user(self, user_raw_id: object) -> int:
        """:meth:`user_index` for the notebook's methods, whose unknown user says what to do as
        :meth:`movierec.Recommender.recommend`'s does: it said only "unknown user id 99999" (the API's
        404 names POST /recommendations instead: :meth:`served_user_index`)."""
        try:
            return self.user_index(user_raw_id)
        except UnknownIdError as exc:
            from movierec.titles import known_users

            raise UnknownIdError(
                f"{exc}: the artifact has no ratings from that user ({known_users(self.user_map.ids)}); for "
                "someone not in the data, give their ratings to recommend_for_ratings({movie: rating, …})"
            ) from None

    def recommend_rows(self, user_raw_id: object, k: int = 10, **options: Any) -> list[dict[str, Any]]:
        """:meth:`recommend` as the API's JSON rows ``movieId, title, year, genres, score, ratings``
        (plus ``predictedRating`` for rating predictors), best first; ``options`` as :meth:`recommend_index`."""
        return self.recommend_index(self.user_index(user_raw_id), k, **options)

    # dup-ok: movierec.Recommender.recommend takes these options too (one vocabulary for Python and the API)
    def recommend_index(
        self,
        u: int,
        k: int = 10,
        exclude_seen: bool = True,
        genres: Sequence[str] | None = None,
        min_support: int | None = None,
        rerank: str | None = None,
        explain: bool = False,
        exclude: Iterable[object] | None = None,
    ) -> list[dict[str, Any]]:
        """Top-``k`` for a user index (from :meth:`user_index`) as JSON rows: movies the user saw are left out
        unless ``exclude_seen=False``, ``genres`` keeps movies having any of them, ``min_support`` overrides
        the support floor, ``rerank`` = ``"mmr:0.3"``… (movierec.rerank) re-orders the list. ``explain`` adds
        ``because`` (item-based and k-NN rating models only, :meth:`explain_known`). ``exclude``: raw movieIds never to list
        (a deny-list, :meth:`denied`)."""
        if explain and not self.explains_known_users:
            from movierec.scoring.explain import known_user_refusal

            raise ConfigError(
                known_user_refusal(self.model_name, visitor_explain(self.model_name, self.family))
            )
        denied = self.denied(exclude)
        history = self._seen.indices[self._seen.indptr[u] : self._seen.indptr[u + 1]]
        ptr, rated = self._rated
        ruled_out = np.union1d(rated[ptr[u] : ptr[u + 1]], denied) if exclude_seen else denied
        q = _Query(k, ruled_out, genres, min_support)
        if self.known_fallback(u) is not None:  # nothing learned of this user: the visitors' fallback
            scores = self._popularity.copy()
            rows = self._reranked(scores, q, history, rerank, None) if rerank else self._top(scores, q, None)
            for row in rows if explain else ():
                row["because"] = []  # asked for, and none of theirs led to the list
            return rows
        raw = self.scorer.known(u)
        scores = self._rank(raw, self._known_prior(u))
        rows = self._reranked(scores, q, history, rerank, raw) if rerank else self._top(scores, q, raw)
        if explain:
            self.explain_known(u, rows, raw)
        return rows

    @property
    def untrained_users(self) -> np.ndarray:
        """Dense indices of the training users the model learned nothing of, whose lists are popularity's
        (:meth:`known_fallback`): Spark's factor path ranks them by this code rather than their vectors."""
        return np.flatnonzero(self._untrained)

    def known_fallback(self, u: int) -> str | None:
        """Why a known user's list is popularity's, or ``None``: a user with no training row the model learned
        from (an implicit model's user without a rating at or above its threshold: ml-latest-small's user 442,
        whose best rating is 3.5) has scores that say nothing, all 0 for ease, so the list came out in movie-id
        order (Toy Story, Jumanji, Grumpier Old Men) with no word; such a user now gets what a visitor without a
        liked movie gets (:meth:`visitor`), and this sentence (the API's ``fallback``, the CLI's note)."""
        if not self._untrained[u]:
            return None
        return (
            f"popularity: user {self.raw_user(u)} has no rating of {self.implicit_threshold:g} or more in the "
            f"training data, the ratings {self.model_name} learns from, so {self._popular_words()} are shown"
        )

    def top_indices(
        self, users: np.ndarray, k: int, *, exclude_seen: bool = True, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`recommend_index`'s lists (no genre, floor or rerank options) for many training users at once,
        as arrays of shape ``(len(users), min(k, n_items))``: item indices (int32, ``-1`` past a user's last
        candidate) and their ranking scores (float32), best first.

        Each user's row is scored and ranked by the very calls :meth:`recommend_index` makes (the scorer's
        ``known``, the rating models' support-shrunk score with their m_u), rated movies and the support floor
        are ruled out as :meth:`_candidates` does, and one :func:`~movierec.models.base.topk` ranks the block
        (per row: score descending, ties by index), so the lists are those one call at a time gives. What it
        leaves out is building each list's JSON rows, over 80% of a batch's time under a profiler (an svd
        artifact, 5,000 movies, k 100), which :func:`movierec.serving.batch.recommend_all_users` turns into
        columns at once. ``exclude``: dense item indices no list may show (a deny-list, :meth:`denied`),
        ruled out for every user as ``recommend_index(…, exclude=…)`` rules them out for one.
        """
        from movierec.models.base import topk

        users = np.asarray(users, dtype=np.int64)
        block = np.empty((len(users), self.n_items), dtype=np.float32)
        ptr, rated = self._rated
        for r, u in enumerate(users.tolist()):
            if self._untrained[u]:  # as recommend_index (known_fallback): nothing learned, popularity's list
                block[r] = self._popularity
            else:
                block[r] = self._rank(self.scorer.known(u), self._known_prior(u))
            if exclude_seen:
                block[r, rated[ptr[u] : ptr[u + 1]]] = -np.inf
        if exclude is not None and len(exclude):
            block[:, exclude] = -np.inf
        floor = self._floor(None)
        if floor > 0:
            block[:, self._popularity < floor] = -np.inf
        idx, vals = topk(block, min(int(k), self.n_items))
        # _top's stop: a list ends at the first padding or ruled-out (-inf) score
        ok = np.logical_and.accumulate((idx >= 0) & ~(~np.isfinite(vals) & (vals < 0)), axis=1)
        idx[~ok] = -1
        return idx, vals

    def because_note(self, rows: list[dict[str, Any]]) -> str | None:
        """Why some of a rating model's explained ``rows`` have no ``because`` (a known user's list: the
        API's ``becauseNote``, the CLI's note), :func:`~movierec.scoring.explain.because_note`; ``None``
        for implicit models, whose rows keep no such note, and where every row has a reason."""
        from movierec.scoring.explain import because_note

        if self.kind != "explicit":
            return None
        found = [r.get("because") or [] for r in rows]
        return because_note(self.model_name, found, shares=hasattr(self.scorer, "fold_in_terms"))

    def back_off_note(self, u: int, rows: list[dict[str, Any]]) -> str | None:
        """Which rows of a markov list for training user ``u`` no one ever rated right after their latest movie
        (their scores are the popularity back-off, :func:`movierec.scoring.markov.back_off_note`), or
        ``None``: every row followed it, the model is no markov chain, or the list is the fallback's."""
        if self.family != "markov" or not rows or self.known_fallback(u) is not None:
            return None
        return self._back_off(int(self.scorer.a["last_item"][u]), rows, f"user {self.raw_user(u)}'s")

    def visitor_back_off_note(self, last_movie: object, rows: list[dict[str, Any]]) -> str | None:
        """:meth:`back_off_note` for a visitor's markov list (:meth:`visitor`), whose latest movie is
        ``last_movie``, the last of ``history`` or else of the ratings (their order is the history): the
        known user's list said which rows were back-off rows and a visitor's, the same scores, did not."""
        if self.family != "markov" or not rows:
            return None
        return self._back_off(self.item_index(last_movie), rows, "the visitor's")

    def _back_off(self, last: int, rows: list[dict[str, Any]], whose: str) -> str | None:
        if last < 0:
            return None
        from movierec.scoring.markov import back_off_note, followed

        ptr, idx = self.scorer.a["transitions_indptr"], self.scorer.a["transitions_indices"]
        items = np.asarray([self.item_index(r["movieId"]) for r in rows], dtype=np.int64)
        return back_off_note(followed(ptr, idx, last, items).tolist(), self._rows[last]["title"], whose)

    @property
    def explains_known_users(self) -> bool:
        """Whether a known user's list can be explained (:func:`explains_known_users`)."""
        return explains_known_users(self.kind, self.family)

    def explain_known(self, u: int, rows: list[dict[str, Any]], raw: np.ndarray) -> None:
        """Fill ``because`` on training user ``u``'s ``rows`` (``raw``: their scorer's scores): up to two of
        their movies whose removal from their training row lowers each score most, tried best rated and
        then most recent first (seen.npz's ``reason_indices``; older artifacts: by item index), as
        :meth:`movierec.Recommender.recommend` with ``explain=True`` does. A k-NN rating model's are its
        rated neighbours' shares of each prediction (:func:`movierec.scoring.explain.known_because`)."""
        from movierec.scoring.explain import because, known_because, rating_tolerance

        if self.kind == "explicit":  # the knn family (explains_known_users)
            order = self._reasons[self._seen.indptr[u] : self._seen.indptr[u + 1]]
            tol, thr = rating_tolerance(self.rating_scale), self.implicit_threshold
            every = np.arange(self.n_items)  # known_because names item indices
            self._fill_because(rows, every, lambda t: known_because(self.scorer, u, order, t, thr, tol))
            return
        items, weights = self.scorer.user_row(u)  # type: ignore[attr-defined]  # an ItemRowScorer
        order = self._reasons[self._seen.indptr[u] : self._seen.indptr[u + 1]]
        pos = {int(i): n for n, i in enumerate(order)}
        # (dtype: a user with no training positive has an empty row, which asarray would make float)
        tried = np.asarray(
            sorted(range(len(items)), key=lambda n: pos.get(int(items[n]), len(pos))), dtype=np.int64
        )
        items, weights = items[tried], weights[tried]
        thr = self.implicit_threshold
        prior = self._known_prior(u)
        full = self._rank(raw, prior)

        def without(keep: np.ndarray) -> np.ndarray:
            # the row's score is linear in it: leaving one movie out subtracts that movie's own term, one
            # item row instead of the whole user's (62.8 -> 8.2 ms for user 414, 1,227 movies, ease)
            (gone,) = np.flatnonzero(~keep)
            return self._rank(self.scorer.without_one(raw, items, weights, int(gone)), prior)  # type: ignore[attr-defined]

        liked = np.full(len(items), max(thr, 1.0))  # every training movie; equal values keep the order
        self._fill_because(rows, items, lambda targets: because(liked, thr, targets, full, without))

    def _fill_because(
        self, rows: list[dict[str, Any]], items: np.ndarray, reasons: Callable[[np.ndarray], list[list[int]]]
    ) -> None:
        """Each row's ``because``: the movies (``items[b]`` for each position ``b`` that ``reasons`` gives
        for the rows' item indices) as ``{movieId, title}``."""
        targets = np.asarray([self.item_index(r["movieId"]) for r in rows], dtype=np.int64)
        for row, found in zip(rows, reasons(targets), strict=True):
            row["because"] = [
                {"movieId": self._rows[int(items[b])]["movieId"], "title": self._rows[int(items[b])]["title"]}
                for b in found
            ]

    def _reranked(
        self, scores: np.ndarray, q: _Query, history: np.ndarray, spec: str, raw: np.ndarray | None = None
    ) -> list[dict[str, Any]]:
        """Top-``k`` re-ranked by ``spec`` over the same candidates :meth:`_top` ranks (scores stay the model's,
        and a rating model's rows keep ``predictedRating``: ``?rerank=`` dropped it)."""
        from movierec.rerank import parse_rerank

        reranker = parse_rerank(spec)
        assert reranker is not None  # a non-empty spec parses to a re-ranker or raises
        scores = self._candidates(scores, q)
        hist = sp.csr_matrix(
            (np.ones(len(history), dtype=np.float32), history, [0, len(history)]), shape=(1, self.n_items)
        )
        picks = reranker.rerank(scores[None, :], min(int(q.k), self.n_items), hist, self._item_info())[0]
        return self._list_rows(np.asarray([i for i in picks if i >= 0], dtype=np.int64), scores, raw)

    def _item_info(self) -> Any:
        """Genres, item vectors and popularity for re-rankers (built on first use)."""
        if getattr(self, "_info", None) is None:
            from movierec.beyond import ItemInfo, genre_matrix

            g, names = genre_matrix([r["genres"] for r in self._rows])
            self._info = ItemInfo(
                popularity=self._popularity.astype(np.float64),
                n_users=int((np.diff(self._seen.indptr) > 0).sum()),
                genres=g if names else None,
                vectors=self.scorer.item_vectors(),
            )
        return self._info

    # --- visitors ---------------------------------------------------------------------
    def _parse_ratings(self, ratings: Sequence[tuple[object, float]]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.rating_scale
        idx, vals = [], []
        for movie, rating in ratings:
            r, i = float(rating), self.item_index(movie)
            if not (lo <= r <= hi):  # named by its title: the CLI's --rated 'Toy Story=7' gave a title
                about = f"{self._rows[i]['title']} (movieId {movie})" if self.has_titles else self.named(i)
                raise ConfigError(f"rating {r:g} for {about} is outside the scale {lo:g}..{hi:g}")
            idx.append(i)
            vals.append(r)
        items = np.asarray(idx, dtype=np.int64)
        values = np.asarray(vals, dtype=np.float32)
        items, last = np.unique(items[::-1], return_index=True)  # a movie rated twice: keep the last rating
        return items, values[::-1][last]

    def visitor(
        self,
        ratings: Sequence[tuple[object, float]] = (),
        k: int = 10,
        *,
        history: Sequence[object] | None = None,
        genres: Sequence[str] | None = None,
        min_support: int | None = None,
        explain: bool = False,
        exclude: Iterable[object] | None = None,
    ) -> dict[str, Any]:
        """Recommendations for a person not in training: ``{"recommendations": rows, "fallback": str | None}``.

        Rating models fold the ratings in with the model's own rule (the same code as the model's
        ``score_new_user``); sequence models read ``history`` (or the ratings in the order given).
        Implicit models given no rating at or above their positive threshold fall back to
        popularity, and ``fallback`` says so. ``explain`` adds ``because``: for each movie, the
        rated movies whose removal lowers its score most (leave-one-out on the model's own scores; a
        rating model's on its predicted rating, beyond the drop every movie shares), and, where some
        rows of a rating model have none, ``"becauseNote"`` saying why; a sequence model's ``becauseNote``
        says that its reason, on every row, is the last movie given whatever its rating
        (:func:`~movierec.scoring.explain.sequence_note`).
        ``exclude``: raw movieIds never to list (:meth:`denied`).
        """
        if not ratings and not history:
            raise ConfigError("ratings: at least one (movieId, rating) pair is needed")
        denied = self.denied(exclude)
        rated = list(ratings)
        self._refuse_repeated(rated, history or ())
        if self.sequential:
            order = list(history) if history else [m for m, _ in rated]
            seq = np.asarray([self.item_index(m) for m in order], dtype=np.int64)
            extra = [self.item_index(m) for m, _ in rated]
            exclude = np.unique(np.concatenate([seq, np.asarray(extra, dtype=np.int64), denied]))
            scores = self.scorer.fold_in(seq, None)
            rows = self._top(np.asarray(scores), _Query(k, exclude, genres, min_support))
            out: dict[str, Any] = {"recommendations": rows, "fallback": None}
            if explain:
                from movierec.scoring.explain import sequence_note

                last = self.movie_row(int(seq[-1]))
                for r in rows:
                    r["because"] = [{"movieId": last["movieId"], "title": last["title"]}]
                out["becauseNote"] = sequence_note(self.model_name)  # the last movie, whatever its rating
            return out
        if history:
            given = {m for m, _ in rated}
            rated += [(m, self.rating_scale[1]) for m in history if m not in given]
        items, values = self._parse_ratings(rated)
        raw = self.scorer.fold_in(items, values)
        fallback = None
        if raw is None and not getattr(self.scorer, "folds_in", True):
            fallback = (
                f"popularity: {self.model_name} cannot place a person who is not in its training data (its "
                f"artifact holds the trained users' scores only), so {self._popular_words()} are shown"
            )
            scores, raw_used = self._popularity.copy(), None
        elif raw is None:
            thr = self.implicit_threshold
            fallback = (
                f"popularity: none of these ratings reaches {thr:g}, the rating {self.model_name} counts as "
                f"liked, so {self._popular_words()} are shown"
            )
            scores, raw_used = self._popularity.copy(), None
        else:
            scores, raw_used = self._rank(raw, self._visitor_prior(values)), raw
        rows = self._top(scores, _Query(k, np.union1d(items, denied), genres, min_support), raw_used)
        out = {"recommendations": rows, "fallback": fallback}
        if explain and raw is not None:
            note = self._explain(rows, items, values, scores, raw)
            if note is not None:
                out["becauseNote"] = note
        return out

    def repeated_movie(self, movies: Sequence[object], what: str = "ratings") -> tuple[int, str] | None:
        """``(n, "Toy Story (1995) is given twice (ratings 0 and n); give each movie once")`` for the first
        movie of a person's ratings (or ``what="history"`` entries) named a second time (``1`` and ``"1"``
        are one movie), else None. Which rating counts would be a guess (the last one was kept silently),
        and a history with a movie twice is none the data holds (each person rates a movie once) and was
        folded in with that movie counted twice: :meth:`visitor` refuses either with this message, the API
        with a 422 at entry ``n``, as ``--rated`` and ``recommend_for`` (a list of movies too) do."""
        repeat = first_repeat(self.item_index(m) for m in movies)
        if repeat is None:
            return None
        a, b = repeat
        return (
            b,
            f"{self.named(self.item_index(movies[b]))} is given twice ({what} {a} and {b}); give each movie once",
        )

    def _refuse_repeated(self, rated: Sequence[tuple[object, float]], history: Sequence[object] = ()) -> None:
        repeated = self.repeated_movie([m for m, _ in rated]) or self.repeated_movie(history, "history")
        if repeated is not None:
            raise ConfigError(repeated[1])

    def _explain(
        self,
        rows: list[dict[str, Any]],
        items: np.ndarray,
        values: np.ndarray,
        full: np.ndarray,
        raw: np.ndarray,
    ) -> str | None:
        """Fill ``because`` with up to two rated movies each row's score depends on most (leave-one-out,
        :func:`movierec.scoring.explain.because`, which ``Recommender.recommend_for`` shares). A rating
        predictor's are read on ``raw`` (its predicted ratings, not the ranking score ``full``) beyond the
        drop every movie shares; what comes back is then :func:`~movierec.scoring.explain.because_note`,
        why some rows have no reason (the API's ``becauseNote``), else ``None``. A model that gives everyone
        one list (:attr:`same_for_everyone`) has no reasons to find: every row's are empty and the note
        says why (:func:`~movierec.scoring.explain.one_list_note`)."""
        from movierec.scoring.explain import because, because_note, one_list_note, rating_tolerance

        if self.same_for_everyone:  # one list for all: no movie given is a reason, and the note says so
            for r in rows:
                r["because"] = []
            return one_list_note(self.model_name, self.manifest["model"].get("params") or {})
        thr = self.implicit_threshold
        if self._ranking is not None:  # a rating predictor

            def raw_without(keep: np.ndarray) -> np.ndarray | None:
                return self.scorer.fold_in(items[keep], values[keep])

            tol = rating_tolerance(self.rating_scale)
            found: list[list[int]] = []
            # rows there for how highly viewers rate them: no movie, and the note says so
            general: list[bool] = []

            def reasons(targets: np.ndarray) -> list[list[int]]:
                terms = None  # k-NN: each rated neighbour's term in the prediction (because's terms=)
                if hasattr(self.scorer, "fold_in_terms"):
                    terms = self.scorer.fold_in_terms(items, values, targets)
                found.extend(
                    because(values, thr, targets, raw, raw_without, shared=tol, terms=terms, general=general)
                )
                return found

            self._fill_because(rows, items, reasons)
            shares = hasattr(self.scorer, "fold_in_terms")
            return because_note(self.model_name, found, shares=shares, general=sum(general))

        def without(keep: np.ndarray) -> np.ndarray | None:
            got = self.scorer.fold_in(items[keep], values[keep])
            return None if got is None else self._rank(got, self._visitor_prior(values[keep]))

        self._fill_because(rows, items, lambda targets: because(values, thr, targets, full, without))
        return None

    def recommend_for_visitor(
        self,
        features: Mapping[str, Any],
        ratings: Sequence[tuple[object, float]] = (),
        k: int = 10,
        genres: Sequence[str] | None = None,
        exclude: Iterable[object] | None = None,
    ) -> list[dict[str, Any]]:
        """Top-``k`` for a visitor from their features (``{"age": 31, "gender": "F", …}``) and optional
        ratings (liked ones join the mean; rated movies and ``exclude``'s are left out); see
        :mod:`movierec.serving.visitor`."""
        from movierec.serving.visitor import visitor_scores

        denied = self.denied(exclude)
        thr = self.implicit_threshold
        rated = np.asarray([self.item_index(m) for m, _ in ratings], dtype=np.int64)
        liked = [int(i) for i, (_, r) in zip(rated, ratings, strict=True) if float(r) >= thr]
        scores = visitor_scores(self.manifest, self._a, features, np.unique(liked).tolist())
        return self._top(scores, _Query(k, np.union1d(rated, denied), genres))

    def recommend_for_ratings(
        self,
        ratings: Sequence[tuple[object, float]] | Mapping[object, float],
        k: int = 10,
        genres: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Top-``k`` for a person not in training, from ``(movie, rating)`` pairs or ``{movie: rating}`` (the
        mapping :meth:`movierec.Recommender.recommend_for` takes), each movie a movieId or a title
        (:meth:`movie_id`): a DataFrame, as :meth:`recommend` and ``recommend_for`` give (:meth:`visitor`
        gives the API's JSON rows). When the list is popularity's (an implicit model given no rating it
        counts as liked) a warning says so, as ``recommend_for``'s does."""
        pairs = self._rating_pairs(ratings)
        if not pairs:
            raise ConfigError("ratings: at least one (movieId, rating) pair is needed")
        return self._visitor_frame(self.visitor(pairs, k, genres=genres))

    def _visitor_frame(self, answer: dict[str, Any]) -> pd.DataFrame:
        """:meth:`visitor`'s answer as a notebook reads it: its rows as :meth:`recommend`'s DataFrame, the score
        said under it, and its ``fallback`` as a warning at the caller's line (the list of JSON rows this gave
        printed 300 columns wide and dropped the fallback's reason)."""
        fallback = answer["fallback"]
        if fallback:
            warnings.warn(fallback.removeprefix("popularity: "), UserWarning, stacklevel=outside_movierec())
        frame = recommendations_frame(answer["recommendations"], count=self.count_column)
        frame.attrs[ABOUT] = {"score": self._score_about(bool(fallback))}
        return frame

    def _rating_pairs(
        self, ratings: Sequence[tuple[object, float]] | Mapping[object, float]
    ) -> list[tuple[object, float]]:
        """``ratings`` as ``(movieId, rating)`` pairs, titles read as :meth:`movie_id` reads them; a dict was
        iterated by its keys ("too many values to unpack"), and a bare movie answered "cannot unpack"."""
        given = list(ratings.items()) if isinstance(ratings, Mapping) else list(ratings)
        pairs: list[tuple[object, float]] = []
        for entry in given:
            if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
                raise ConfigError(
                    f"ratings: {entry!r} is not a (movie, rating) pair; give [(movieId or title, rating), …] "
                    "or {movie: rating}"
                )
            pairs.append((self.movie_id(entry[0]), entry[1]))
        return pairs

    def recommend_for_history(
        self,
        history: Sequence[object],
        k: int = 10,
        genres: Sequence[str] | None = None,
        ratings: Sequence[tuple[object, float]] = (),
    ) -> pd.DataFrame:
        """Top-``k`` for a visitor from the movies they saw in order (oldest first), as a DataFrame
        (:meth:`recommend_for_ratings`'s); seen and rated movies excluded.

        Sequence models (markov, sasrec) score what comes next after this order; other models
        fold in ``ratings`` when given, else take every history movie as a positive.
        """
        if not history:
            raise ConfigError("history: at least one movieId is needed")
        order = [self.movie_id(m) for m in history]  # titles too (movie_id)
        return self._visitor_frame(self.visitor(self._rating_pairs(ratings), k, history=order, genres=genres))

    # --- similar items ----------------------------------------------------------------
    def similar(
        self, movie_raw_id: object, k: int = 10, min_support: int | None = None, by: str | None = None
    ) -> pd.DataFrame:
        """Movies most like ``movie_raw_id`` (a movieId or a title, :meth:`movie_id`) as a DataFrame
        (:meth:`movierec.Recommender.similar`'s shape):
        ``movieId, title, year, genres, similarity,`` :attr:`count_column` (``imdbId, tmdbId`` where the data
        had links), most similar first; see :meth:`similar_rows`."""
        rows = self.similar_rows(self.movie_id(movie_raw_id), k, min_support, by)
        frame = recommendations_frame(rows, score="similarity", count=self.count_column)
        frame.attrs[ABOUT] = {"similarity": similarity_meaning(self.similar_by(by), self.interactions_only)}
        return frame

    def _popular_words(self) -> str:
        """What the popularity fallback lists, as its scores count: a model trained on positives counts
        each movie's ratings ≥ the threshold (Shawshank 274 on ml-latest-small, of its 317 ratings), a
        rating model every rating."""
        if self.kind == "explicit":
            return "the most-rated movies"
        return f"the most-liked movies (the most ratings ≥ {self.implicit_threshold:g})"

    def defer_lift(self, compute: Callable[[], sp.csr_matrix | None]) -> None:
        """Compute the lift table with ``compute`` the first time a list by lift needs it (an in-memory
        view: ``recommend`` never reads it, and ``similar`` by a model only for an empty list's note)."""
        self._lift_later = compute

    @property
    def _lift(self) -> sp.csr_matrix | None:
        """The lift table: seen.npz's, or a deferred one computed now; ``None`` where there is none."""
        if self._lift_later is not None:
            self._lift_table, self._lift_later = self._lift_later(), None
        return self._lift_table

    def similar_by(self, by: str | None = None) -> str:
        """What 'similar' lists by: ``by`` checked, or the default, ``"lift"`` where the artifact holds the
        lift table (exported since 2026-12-04), else ``"model"``."""
        if by is None:
            return "lift" if self._lift is not None else "model"
        if by not in ("lift", "model"):
            raise ConfigError(f"by={by!r}: expected 'lift' (liked together more than chance) or 'model'")
        if by == "lift" and self._lift is None:
            raise ConfigError(
                f"{self.path}: this artifact was exported before 'similar' by lift (2026-12-04): it lists by "
                "the model (by=model), or export it again"
            )
        return by

    def _lift_positives(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """The training positives the lift table was computed from (binary users × items) and each movie's
        count of them (lift's support floor), read once."""
        if self._lift_pos is None:
            from movierec.models.itemknn import lift_positives

            seen = self._seen.tocoo()
            implicit = tuple(self._train_scale) == (1.0, 1.0)
            pos = lift_positives(
                seen.row, seen.col, seen.data, seen.shape, self.implicit_threshold, implicit=implicit
            )
            self._lift_pos = (pos, np.bincount(pos.indices, minlength=pos.shape[1]))
        return self._lift_pos

    def similar_rows(
        self, movie_raw_id: object, k: int = 10, min_support: int | None = None, by: str | None = None
    ) -> list[dict[str, Any]]:
        """Movies most like ``movie_raw_id`` as the API's JSON rows, shrunk by co-support.

        ``by`` (:meth:`similar_by`): ``"lift"``, the movies liked together with it more often than chance
        says, from the training positives (the default where the artifact holds them), or ``"model"``, the
        model's own: cosine of its item vectors or its neighbour list / item weights. Each similarity is
        multiplied by n/(n + λ) (:func:`movierec.scoring.support.shrink_by_co_support`) and the support
        floor applies; n and the floor count the users who rated both movies in the model's training data,
        or, by lift, who liked both (the positives the table came from), so a list by lift is the same
        whatever the model: ``movierec similar``'s without ``--model``.
        """
        from movierec.scoring.support import shrunk_similarities

        i = self.item_index(movie_raw_id)
        if self.similar_by(by) == "lift":
            assert self._lift is not None
            row = np.full(self._lift.shape[1], -np.inf, dtype=np.float32)
            start, stop = self._lift.indptr[i], self._lift.indptr[i + 1]
            row[self._lift.indices[start:stop]] = self._lift.data[start:stop]
            # co-support and the floor count on the positives the table came from, not the model's
            # training rows: the same list whatever the model (movierec.models.itemknn.lift_positives)
            positives, support = self._lift_positives()
            lifted = shrunk_similarities(row, positives, i)
            floor = self._floor(min_support)
            if floor > 0:
                lifted[support < floor] = -np.inf
            return self._top(lifted, _Query(k, np.array([i]), None, 0))
        vectors = self.scorer.item_vectors()
        if vectors is not None:
            if self._unit is None:
                norms = np.linalg.norm(vectors, axis=1)
                self._unit = (vectors / np.where(norms > 0, norms, 1.0)[:, None]).astype(np.float32)
            scores: np.ndarray | None = self._unit @ self._unit[i]
        else:
            scores = self.scorer.similar_row(i)
        if scores is None:
            from movierec.scoring.support import no_similar_reason

            # three models, not six: 196 characters were three rows of 80 columns in the CLI
            raise ConfigError(no_similar_reason(self.model_name, "by=lift"))
        shrunk = shrunk_similarities(scores, self._seen, i)
        return self._top(shrunk, _Query(k, np.array([i]), None, min_support))

    def similar_thin_note(self, movie_raw_id: object, by: str | None = None) -> str | None:
        """A note for a list by lift that rests on one or two people: a movie only they liked has a list of
        the other movies they liked (Tokyo Story on ml-latest-small: 10 art-house films at lift 0.54–0.97,
        below the 1 of chance once shrunk), which reads as a pattern across people and is not; ``None``
        otherwise. A list by the model for a movie one or two people rated (ease's for Best Men, one like: ten
        films at 0.00003, the floor's rare films, as for any such movie) says so too (:func:`thin_model_note`)."""
        i = self.item_index(movie_raw_id)
        if self.similar_by(by) != "lift":
            count = int(self._popularity[i])
            return thin_model_note(self.named(i), count, self.model_name, self.count_kind, self.liked_from)
        likes = int(self._lift_positives()[1][i])
        threshold = None if self.interactions_only else self.implicit_threshold
        return thin_note(self.named(i), likes, threshold)

    def similar_empty_reason(
        self,
        movie_raw_id: object,
        min_support: int | None = None,
        lower: str = "min_support=0",
        by: str | None = None,
    ) -> str:
        """Why :meth:`similar_rows` found nothing for ``movie_raw_id``, in one line
        (:func:`movierec.scoring.support.empty_similar_reason`); ``lower`` names the caller's way to lift
        the support floor."""
        from movierec.scoring.support import empty_lift_reason, empty_similar_reason

        i = self.item_index(movie_raw_id)
        by = self.similar_by(by)
        floor = self.min_support if min_support is None else int(min_support)
        floor_hid = floor > 0 and bool(self.similar_rows(movie_raw_id, 1, min_support=0, by=by))
        title = self.named(i)  # 'movieId tt0100003' where the data has no titles
        if by == "lift" and self._lift is not None and self._lift.indptr[i] == self._lift.indptr[i + 1]:
            return empty_lift_reason(title, self.implicit_threshold)
        return empty_similar_reason(
            self.model_name if by == "model" else "lift", title, int(self._popularity[i]),
            threshold=self.liked_from, floor=floor, floor_hid=floor_hid, lower=lower,
        )  # fmt: skip

    # --- titles -----------------------------------------------------------------------
    def search(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Movies whose title contains ``text`` (case- and accent-insensitive): titles that start with it first,
        then titles with a word that does, then the rest (:func:`movierec.titles.search_rank`), each by popularity.

        An empty query lists the most-rated movies.
        """
        if limit < 1:
            raise ConfigError(f"limit must be ≥ 1, got {limit}")
        q = fold_title(text).strip()
        if not q:
            order = np.argsort(-self._popularity, kind="stable")[:limit]
            return [self.movie_row(int(i)) for i in order]
        hits = [i for i, key in enumerate(self._keys) if q in key]
        typed = None if hits else typed_title(text, self.titles)  # 'star wars episode iv', 'Batman 1989'
        hits = [typed] if typed is not None else hits
        hits.sort(key=lambda i: (search_rank(self._keys[i], q), -self._popularity[i]))
        return [self.movie_row(i) for i in hits[:limit]]

    def unrated_matches(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """``{movieId, title}`` of the catalogue movies nobody rated whose title contains ``text``, as
        :meth:`search` matches and orders them (by title within a rank); empty for an empty query or an
        artifact exported before the manifest recorded them. The model knows nothing of these movies, so
        :meth:`search` cannot list
        them: a search for 'niagara' on ml-latest-small answered "no title matches" with unrelated titles,
        where the movie is in movies.csv with no ratings (``GET /movies``' ``unrated``)."""
        q = fold_title(text).strip()
        unrated = (self.manifest.get("dataset") or {}).get("unrated_movies") or {}
        if not q or not unrated:
            return []
        keyed = [(search_key(title), raw, title) for raw, title in unrated.items()]
        hits = [h for h in keyed if q in h[0]]
        hits.sort(key=lambda h: (search_rank(h[0], q), h[0]))  # title starts, then a word starts
        as_int = not self._item_str
        return [
            {"movieId": int(raw) if as_int and raw.lstrip("-").isdigit() else raw, "title": title}
            for _, raw, title in hits[:limit]
        ]

    def suggest(self, text: str, limit: int = 5) -> list[dict[str, Any]]:
        """'Did you mean …?': titles spelled like ``text`` (for a search that found nothing)."""
        titles = [r["title"] for r in self._rows]
        return [self.movie_row(i) for i, _ in suggest_titles(text, titles, self._popularity, limit)]

    def find_title(self, text: str, id_hint: str = "--movie-id") -> int:
        """The index of the one movie ``text`` names, or an error asking "did you mean …?" (naming
        ``id_hint``: the CLI's flag, or "the movieId" in Python); an artifact of data without titles (every
        movie 'movieId 318') says so and names a movieId instead, as a trained model's
        :meth:`movierec.Recommender.movie_index` does."""
        try:
            return match_title(text, self.titles, self._popularity, id_hint=id_hint, ids=self.item_map)
        except UnknownIdError:
            if not self.has_titles:
                raise self._no_titles(text) from None
            raise

    def unrated_movie(self, text: str) -> str | None:
        """The sentence for ``text`` (a title, or a number as a movieId) when it names a movie of the
        training data's catalogue that nobody rated, else ``None``: "Niagara (1953) has no ratings in
        ml-latest-small, so no model has learned anything about it", the words a trained model's
        ``movierec.Recommender`` uses, not "no movie title matches" with unrelated suggestions. Artifacts
        exported before the manifest recorded ``dataset.unrated_movies`` answer ``None``."""
        import pandas as pd

        unrated = (self.manifest.get("dataset") or {}).get("unrated_movies") or {}
        if not unrated:
            return None
        catalog = pd.DataFrame(
            {
                "movieId": [str(r["movieId"]) for r in self._rows] + list(unrated),
                "title": [str(r["title"]) for r in self._rows] + [str(t) for t in unrated.values()],
            }
        )
        return unrated_movie(text, catalog, self.item_map, self.dataset_name)

    def movie_row(self, i: int) -> dict[str, Any]:
        """Movie index ``i`` (0 … n_items − 1, not its movieId) as the API shows a movie: movieId, title, year,
        genres (imdbId, tmdbId when the data has links) and ``ratings``, its count of training ratings."""
        return {**self._rows[i], "ratings": int(self._popularity[i])}

    def named(self, i: int) -> str:
        """How a sentence names movie ``i`` (:func:`movierec.titles.movie_named`): its title, or ``movieId
        tt0100003`` for data without titles (also its title, :func:`movierec.titles.id_title`)."""
        row = self._rows[i]
        return movie_named(row["title"], row["movieId"], titled=self.has_titles)

    def movie(self, movie_id: object) -> dict[str, Any]:
        """One movie's row (``UnknownIdError`` for an id the artifact does not know)."""
        return self.movie_row(self.item_index(movie_id))

    def info(self) -> dict[str, Any]:
        """What ``GET /health`` reports at its top level: :meth:`description`, and which movierec code exported
        the artifact and serves it."""
        return {
            **self.description(),
            "exportedBy": exported_by(self.manifest),
            "servedBy": code_identity(),
            "versionNote": version_note(self.manifest, "this artifact"),
        }

    def description(self) -> dict[str, Any]:
        """What the artifact is and how to read its answers (model, kind, scale, what a movie's ``ratings``
        counts, sequential, …): ``GET /health``'s top level and each of its ``models`` entries, one per artifact
        served together, since a list from another artifact than the first is read by its own entry."""
        return {
            "model": self.model_name,
            "modelVersion": self.model_version,
            "kind": self.kind,
            "dataset": self.dataset_name,
            "createdAt": self.created_at,
            "nItems": self.n_items,
            "nUsers": self.n_users,
            "ratingScale": list(self.rating_scale),
            "ratingStep": self.rating_step,
            "minSupport": self.min_support,
            "likedFrom": self.liked_from,
            "interactionsOnly": self.interactions_only,
            "sequential": self.sequential,
            "sameForEveryone": self.same_for_everyone,
            "similarBy": self.similar_by(),
            "userFeatures": self._visitor_fields(),
        }

    @property
    def implicit_threshold(self) -> float:
        """The rating from which a rating counts as liked (positives): what an implicit model learned from
        and what the lift table counted, whatever the model's kind."""
        return float(self.manifest.get("implicit_threshold", IMPLICIT_THRESHOLD))

    @property
    def interactions_only(self) -> bool:
        """Whether the model learned from data without ratings (every row one value: a log of who watched
        what), so a movie's ``ratings`` count is of the people in whose history it is. Recorded at export;
        an artifact exported before reads it from its scale, which such data gives no width (1..1)."""
        recorded = self.manifest.get("interactions_only")
        if recorded is not None:
            return bool(recorded)
        lo, hi = self.rating_scale
        return lo == hi

    @property
    def liked_from(self) -> float | None:
        """The rating from which an implicit model counted a rating as liked (what it learned from, and what a
        movie's ``ratings`` count then counts), or None for models that learned from every rating: rating models
        and sequence models (markov, sasrec: kind implicit, but they read every rating in time order, and their
        counts are of every rating, as the CLI's 'ratings' column says; /health said likedFrom 4 and the page
        'liked by 215 people (rated 4+)' for Toy Story's 215 ratings), and sequential-popularity
        (:attr:`counts_every_rating`)."""
        if self.counts_every_rating:  # sequential-popularity too: every rating counts, however low
            return None
        return self.implicit_threshold

    @property
    def count_kind(self) -> CountKind:
        """What a movie's training count counts under this model (the API's ``ratingsCounted``):
        ``"interactions"``, ``"likes"`` (ratings ≥ :attr:`liked_from`) or ``"ratings"``
        (:func:`movierec.display.count_kind`, the rule every door's words come from)."""
        return count_kind(self.liked_from, self.interactions_only)

    @property
    def counted(self) -> str:
        """:attr:`count_kind` in the CLI's words, the count column's heading and a support floor's
        (``"ratings of 4+"``, ``"ratings"``, ``"interactions"``: :func:`movierec.display.counted`)."""
        return counted(self.liked_from, self.interactions_only)

    @property
    def count_column(self) -> str:
        """The name a list's DataFrame gives a movie's training count (the API's ``ratings``):
        :func:`count_column`."""
        return count_column(self.liked_from, self.interactions_only)

    @property
    def score_count(self) -> str | None:
        """What this model's list score counts (``"ratings of 4+"`` for popularity), or ``None``: the words
        the CLI and a DataFrame's note say under the list (:func:`movierec.display.score_count`)."""
        from movierec.display import score_count

        params = self.manifest["model"].get("params") or {}
        return score_count(self.model_name, params, self.implicit_threshold, self.interactions_only)

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


def _shown(values: np.ndarray) -> list[float]:
    """Scores as a list shows them: for each, a short decimal that is the same float32, so the JSON reads
    ``"score": 4.954176`` rather than the float32's float64 expansion ``4.95417594909668`` and ``np.float32``
    of it is the batch export's float32 exactly. Seven significant digits first (one format each),
    then numpy's shortest round-trip form for the few that need more: 2.4 µs for a list of 10, where
    numpy's form for every value took 6.4 (the uncached API's request went 113 -> 126 µs with it)."""
    v = np.asarray(values, dtype=np.float32)
    out = [float(f"{x:.7g}") for x in v.tolist()]
    for i in np.flatnonzero(np.asarray(out, dtype=np.float32) != v).tolist():
        out[i] = float(str(v[i]))  # NaN and ±inf land here too and stay themselves
    return out


#: a list's DataFrame columns in order (``count`` is :func:`count_column`'s name); ``imdbId, tmdbId`` and
#: ``because`` follow where present: the one order of ``Recommender.recommend`` and ``Artifact.recommend``
FRAME_COLUMNS = (
    *("movieId", "title", "year", "genres", "score", "count"),
    *("predicted_rating", "imdbId", "tmdbId"),
)


def thin_note(title: str, likes: int, threshold: float | None) -> str | None:
    """The note of a list by lift resting on the ``likes`` (1 or 2) people who liked ``title`` (ratings ≥
    ``threshold``; None: data without ratings, where people chose it): :meth:`Artifact.similar_thin_note`'s
    words, which ``movierec similar``, the API's ``note`` and ``Recommender.similar``'s warning share."""
    if not 0 < likes < 3:
        return None
    who = "one person" if likes == 1 else "2 people"
    did, how = ("chose", "") if threshold is None else ("liked", f" (ratings ≥ {threshold:g})")
    return (
        f"only {who} {did} {title} in training{how}: the list is the other movies they {did}, not a "
        "pattern across many people"
    )


def thin_model_note(
    title: str, count: int, model: str, kind: CountKind, liked_from: float | None
) -> str | None:
    """The note of a list by the model for a movie the model learned from ``count`` (1 or 2) people
    (``kind``, :func:`movierec.display.count_kind`: their likes, ratings ≥ ``liked_from``, their ratings
    or their choices), else ``None``. ease learned next to nothing of Best Men (one like on
    ml-latest-small): its list was ten films at similarity 0.00003, the rare films any such movie gets, with
    no word, where the list by lift says "only one person liked …" (:func:`thin_note`, whose words it
    shares; "the other movies they liked" is lift's reading, not the model's)."""
    if not 0 < count < 3:
        return None
    who = "one person" if count == 1 else "2 people"
    did = {"likes": "liked", "ratings": "rated", "interactions": "chose"}[kind]
    how = f" (ratings ≥ {liked_from:g})" if kind == "likes" and liked_from is not None else ""
    return f"only {who} {did} {title} in training{how}: {model} learned next to nothing about it, so the list says little"


def count_column(liked_from: float | None, interactions_only: bool) -> str:
    """What a list's DataFrame calls a movie's training count, by what it counts: ``n_liked`` where the model
    learned from the ratings at or above ``liked_from`` (an implicit model on rated data: ease shows
    Terminator 2 with 150, its ratings of 4 or more among 224), else ``n_ratings`` (rating and sequence
    models count every rating; on data without ratings every row counts). The CLI heads the same number
    'ratings of 4+' or 'ratings', the page says 'liked by 150 people (rated 4+)' or 'rated by', and the
    API's field is ``ratings`` with GET /health's ``likedFrom``: ``n_ratings`` of 150 read as T2's
    ratings, which are 224."""
    return "n_liked" if count_kind(liked_from, interactions_only) == "likes" else "n_ratings"


def recommendations_frame(
    rows: Sequence[Mapping[str, Any]], *, score: str = "score", count: str = "n_ratings"
) -> pd.DataFrame:
    """The API's recommendation rows as :class:`movierec.Recommender`'s DataFrame (snake_case, rank index).

    ``ratings`` (the API's name for the training count) becomes ``count`` (:func:`count_column`),
    ``predictedRating`` becomes ``predicted_rating``, ``score`` is named ``score`` (``similarity``
    for similar movies), the genre list is ``|``-joined and ``because`` reads "Title; Title" as in
    :meth:`movierec.Recommender.recommend`; the columns in :data:`FRAME_COLUMNS`' order, ``because`` last.
    """
    import pandas as pd

    renamed = {"ratings": count, "predictedRating": "predicted_rating", "score": score}
    joined = {"genres": lambda v: "|".join(v), "because": lambda v: "; ".join(b["title"] for b in v)}
    records = [{renamed.get(key, key): joined.get(key, lambda v: v)(v) for key, v in r.items()} for r in rows]
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in FRAME_COLUMNS[:6]})
        frame = frame.rename(columns={"score": score, "count": count})
    order = [{"score": score, "count": count}.get(c, c) for c in FRAME_COLUMNS]
    first = [c for c in order if c in frame.columns]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    if "year" in frame:
        frame["year"] = frame["year"].astype("Int64")
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="rank")
    from movierec.display import Recommendations

    return Recommendations(frame)


def _movies_given(movies: object) -> list[object]:
    """A deny-list as a list: one movie alone (an id or a title) is that one movie."""
    if isinstance(movies, (str, bytes, int, np.integer)):
        return [movies]
    return list(movies)  # type: ignore[call-overload]


def _legacy_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    """The family spec; artifacts written before the scoring families stored only ``reg``/``alpha``."""
    spec = dict(manifest.get("fold_in") or {})
    spec.setdefault("threshold", float(manifest.get("implicit_threshold", IMPLICIT_THRESHOLD)))
    family, kind = manifest["model"]["family"], manifest["model"]["kind"]
    if family == "factors" and "method" not in spec:
        spec["method"] = "ridge" if kind == "explicit" else "confidence"
        spec.setdefault("reg", 0.1)
        spec.setdefault("alpha", 1.0)
    if family == "sasrec":
        spec.setdefault("params", manifest["model"].get("params", {}))
        spec.setdefault("model", manifest["model"]["name"])
    spec.setdefault("top", float(manifest.get("train_scale", manifest["rating_scale"])[1]))
    return spec


def _item_rows(items: Columns, raw_items: np.ndarray) -> list[dict[str, Any]]:
    """The item table in index order as ready-to-serialise rows (with IMDb/TMDb ids when exported). A movie
    named by its id is named as :func:`movierec.titles.id_title` names it, 'movieId 318', also in an artifact
    exported when its items.parquet said 'item 318': the API and the page say what the CLI says."""
    order = np.argsort(items["index"], kind="stable")
    items = {name: values[order] for name, values in items.items()}
    years = [None if y is None or y != y else y for y in items["year"].tolist()]  # NaN: no year
    links = {col: items[col].tolist() if col in items else None for col in ("imdbId", "tmdbId")}
    rows: list[dict[str, Any]] = []
    for i, (title, year, genres) in enumerate(
        zip(items["title"].tolist(), years, items["genres"], strict=True)
    ):
        mid = raw_items[i]
        row = {
            "movieId": int(mid) if isinstance(mid, (int, np.integer)) else str(mid),
            "title": id_title(mid) if is_id_title(title, mid) else str(title),
            "year": None if year is None else int(year),
            "genres": [str(g) for g in (genres if genres is not None else [])],
        }
        for col, values in links.items():
            if values is not None and values[i] is not None:
                row[col] = str(values[i])
        rows.append(row)
    return rows
