"""The ``demographics`` user-feature family: age bucket, gender, occupation and coarse region, one-hot.

Built from a dataset's user file (ml-100k ``u.user``, ml-1m ``users.dat``; see
:mod:`movierec.datasets.users`). Age buckets are ml-1m's groups (under 18, 18–24, 25–34, 35–44,
45–49, 50–55, 56+), so both variants share a vocabulary; the region is the first digit of a US
zip code (the ten USPS national areas, 0 = New England … 9 = West Coast), ``other`` for postal
codes that do not start with a digit (Canada in ml-100k). Each user row has exactly one column
per field, named ``age:25-34``, ``gender:F``, ``occupation:writer``, ``region:9``.

The same :class:`DemographicSchema` encodes a new visitor's features for serving and the
cold-users protocol; values the schema does not know raise :class:`FeatureValueError` naming the
field. Hybrid models (LightFM's model, Kula 2015) learn one embedding per column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError, Doors, FeatureValueError

if TYPE_CHECKING:  # pandas and the feature readers only where a users table is read (fit, not serving)
    import pandas as pd

    from movierec.datasets import Dataset
    from movierec.features import ItemFeatures
    from movierec.interactions import IdMap

__all__ = [
    "AGE_BUCKETS",
    "FIELDS",
    "DemographicSchema",
    "FeatureValueError",
    "age_bucket",
    "build_user_features",
    "named_feature_row",
    "parse_user_features",
    "recorded_user_features",
    "resolve_user_features",
    "user_features_words",
    "visitor_feature_row",
    "zip_region",
]

# (lowest age, label): ml-1m's age groups
AGE_BUCKETS: tuple[tuple[int, str], ...] = (
    (0, "under 18"),
    (18, "18-24"),
    (25, "25-34"),
    (35, "35-44"),
    (45, "45-49"),
    (50, "50-55"),
    (56, "56+"),
)
FIELDS = ("age", "gender", "occupation", "zip")
FAMILY = "demographics"
_ZIP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")


def age_bucket(age: int) -> str:
    """The ml-1m age group of an age in years (``31`` → ``"25-34"``)."""
    label = AGE_BUCKETS[0][1]
    for low, name in AGE_BUCKETS:
        if age >= low:
            label = name
    return label


def zip_region(zip_code: object) -> str:
    """First digit of a US zip code (a USPS national area), ``"other"`` for other postal codes."""
    text = str(zip_code).strip()
    return text[0] if text[:1].isdigit() else "other"


@dataclass(frozen=True)
class DemographicSchema:
    """The columns of the ``demographics`` family: every value seen in the training users' file.

    Rebuilt from feature names alone (:meth:`from_names`), so a saved model or an exported
    artifact that keeps its user-feature names can encode a visitor without the data file.
    """

    ages: tuple[str, ...]
    genders: tuple[str, ...]
    occupations: tuple[str, ...]
    regions: tuple[str, ...]

    @classmethod
    def from_users(cls, users: pd.DataFrame) -> DemographicSchema:
        return cls(
            tuple(sorted({age_bucket(int(a)) for a in users["age"]}, key=_age_order)),
            tuple(sorted(set(users["gender"].astype(str)))),
            tuple(sorted(set(users["occupation"].astype(str)))),
            tuple(sorted({zip_region(z) for z in users["zip"]})),
        )

    @classmethod
    def from_names(cls, names: Sequence[str]) -> DemographicSchema | None:
        """The schema behind ``age:…``/``gender:…``/``occupation:…``/``region:…`` names, or None if absent."""
        parts: dict[str, list[str]] = {"age": [], "gender": [], "occupation": [], "region": []}
        for name in names:
            head, _, value = str(name).partition(":")
            if head in parts and value:
                parts[head].append(value)
        if not any(parts.values()):
            return None
        return cls(*(tuple(parts[f]) for f in ("age", "gender", "occupation", "region")))

    @property
    def names(self) -> list[str]:
        return [
            *(f"age:{a}" for a in self.ages),
            *(f"gender:{g}" for g in self.genders),
            *(f"occupation:{o}" for o in self.occupations),
            *(f"region:{r}" for r in self.regions),
        ]

    def _labels(
        self, age: int | None, gender: str | None, occupation: str | None, zip_code: Any
    ) -> list[str]:
        out = []
        if age is not None:
            out.append(f"age:{age_bucket(age)}")
        if gender is not None:
            out.append(f"gender:{gender}")
        if occupation is not None:
            out.append(f"occupation:{occupation}")
        if zip_code is not None:
            out.append(f"region:{zip_region(zip_code)}")
        return out

    def encode_users(self, users: pd.DataFrame) -> sp.csr_matrix:
        """One-hot rows (float32 CSR) for a users frame; values outside the schema get no column."""
        col = {n: j for j, n in enumerate(self.names)}
        rows: list[int] = []
        cols: list[int] = []
        for r, rec in enumerate(users.itertuples(index=False)):
            for label in self._labels(int(rec.age), str(rec.gender), str(rec.occupation), rec.zip):
                if label in col:
                    rows.append(r)
                    cols.append(col[label])
        data = np.ones(len(rows), dtype=np.float32)
        return sp.csr_matrix((data, (rows, cols)), shape=(len(users), len(col)), dtype=np.float32)

    def validate(self, features: Mapping[str, Any]) -> dict[str, Any]:
        """Check a visitor's features (any of age, gender, occupation, zip); return them normalised.

        Unknown fields, an age outside 1–120, a gender or occupation the training users never had,
        or a zip that is not a postal code raise :class:`FeatureValueError` naming the field.
        """
        if not isinstance(features, Mapping):
            raise FeatureValueError(
                "features", 'features must be an object such as {"age": 31, "gender": "F"}'
            )
        out: dict[str, Any] = {}
        for key, value in features.items():
            if key not in FIELDS:
                raise FeatureValueError(str(key), f"unknown user feature {key!r}; known: {', '.join(FIELDS)}")
            if value is None:
                continue
            if key == "age":
                if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                    raise FeatureValueError("age", f"age must be a whole number of years, got {value!r}")
                try:
                    years = float(value)
                except ValueError:
                    raise FeatureValueError(
                        "age", f"age must be a whole number of years, got {value!r}"
                    ) from None
                if not np.isfinite(years) or years != int(years) or not 1 <= years <= 120:
                    raise FeatureValueError(
                        "age", f"age must be a whole number between 1 and 120, got {value!r}"
                    )
                out["age"] = int(years)
            elif key == "gender":
                g = str(value).strip().upper()[:1] if isinstance(value, str) else ""
                if g not in self.genders or str(value).strip().lower() not in ("m", "f", "male", "female"):
                    raise FeatureValueError(
                        "gender", f"unknown gender {value!r}; known: {', '.join(self.genders)}"
                    )
                out["gender"] = g
            elif key == "occupation":
                known = {o.lower(): o for o in self.occupations}
                text = str(value).strip().lower() if isinstance(value, str) else None
                if text not in known:
                    raise FeatureValueError(
                        "occupation",
                        f"unknown occupation {value!r}; known: {', '.join(self.occupations)}",
                    )
                out["occupation"] = known[text]
            else:
                text = (
                    str(value).strip()
                    if isinstance(value, (str, int)) and not isinstance(value, bool)
                    else ""
                )
                if not _ZIP.match(text):
                    raise FeatureValueError(
                        "zip", f"zip must be a postal code such as '94043', got {value!r}"
                    )
                out["zip"] = text
        return out

    def encode(self, features: Mapping[str, Any], names: Sequence[str] | None = None) -> sp.csr_matrix:
        """A 1 × len(names) CSR row for a visitor (``names`` default: this schema's columns)."""
        clean = self.validate(features)
        names = list(self.names if names is None else names)
        col = {n: j for j, n in enumerate(names)}
        labels = self._labels(
            clean.get("age"), clean.get("gender"), clean.get("occupation"), clean.get("zip")
        )
        cols = sorted(col[label] for label in labels if label in col)
        data = np.ones(len(cols), dtype=np.float32)
        return sp.csr_matrix((data, ([0] * len(cols), cols)), shape=(1, len(names)), dtype=np.float32)

    def segment(self, features: Mapping[str, Any]) -> str:
        """The ``age bucket × gender`` segment of validated features (``"25-34 F"``)."""
        age = features.get("age")
        return f"{age_bucket(age) if age is not None else '?'} {features.get('gender') or '?'}"


def visitor_feature_row(owner: str, features: Any, names: Sequence[str]) -> sp.csr_matrix:
    """A visitor's 1 × len(names) user-feature row, from a mapping of demographics, a mapping or list of
    the model's own feature names (user features from a file: :func:`named_feature_row`), or a ready row.

    ``owner`` (the model's name) is named in the ConfigError when a feature is unknown or the row has
    the wrong width.
    """
    names = list(names)
    if isinstance(features, (list, tuple)) and features and all(isinstance(f, str) for f in features):
        features = dict.fromkeys(features, 1.0)
    if isinstance(features, Mapping):
        schema = DemographicSchema.from_names(names)
        if schema is None:
            return named_feature_row(owner, features, names)
        return schema.encode(features, names)
    row = sp.csr_matrix(features, dtype=np.float32)
    if row.shape != (1, len(names)):
        raise ConfigError(f"a user feature row must be 1 × {len(names)}, got {row.shape[0]} × {row.shape[1]}")
    return row


def named_feature_row(owner: str, features: Mapping[Any, Any], names: Sequence[str]) -> sp.csr_matrix:
    """A 1 × len(names) row for user features read from a file (``userId,feature[,weight]``, whose
    columns are named ``feature:VALUE``): ``{"feature": "heavy"}`` (the file's column and value, weight
    1) or ``{"feature:heavy": 0.5}`` (a column's name and its weight), as LightFM's
    ``build_user_features([(user, ["heavy"])])`` names them. An unknown one is a ConfigError naming
    the model's features, where a bare "not demographics" said nothing of what to give."""
    col = {n: j for j, n in enumerate(names)}
    cols: list[int] = []
    data: list[float] = []
    for key, value in features.items():
        if str(key) in col and not isinstance(value, str):
            weight = float(value)
            if not np.isfinite(weight) or weight < 0:
                raise ConfigError(f"user feature {key!r}: weight {value!r} is not a finite number ≥ 0")
            cols.append(col[str(key)])
            data.append(weight)
        elif f"{key}:{value}" in col:
            cols.append(col[f"{key}:{value}"])
            data.append(1.0)
        else:
            given = f"{key}={value!r}" if isinstance(value, str) else repr(key)
            shown = ", ".join(names[:8]) + (f" … ({len(names)} in all)" if len(names) > 8 else "")
            raise ConfigError(
                f"{owner} has no user feature {given}; its features are {shown}: give "
                "{COLUMN: VALUE} as the features file holds them (" + _example(names) + ") or {NAME: weight}"
            )
    order = np.argsort(cols, kind="stable")
    return sp.csr_matrix(
        (
            np.asarray(data, np.float32)[order],
            (np.zeros(len(cols), np.int64), np.asarray(cols, np.int64)[order]),
        ),
        shape=(1, len(names)),
        dtype=np.float32,
    )


def _example(names: Sequence[str]) -> str:
    """``{"feature": "heavy"}`` for the first ``feature:heavy`` name, as a visitor would write it."""
    head, _, value = str(names[0]).partition(":") if names else ("feature", "", "VALUE")
    return f"{{{head!r}: {value!r}}}" if value else f"{{{head!r}: 1.0}}"


def _age_order(label: str) -> int:
    return next(i for i, (_, name) in enumerate(AGE_BUCKETS) if name == label)


def aligned_users(dataset: Dataset, user_map: IdMap) -> pd.DataFrame:
    """The dataset's users frame in ``user_map`` order; a DataError when it has none or lacks a user."""
    if dataset.users is None:
        said = f"dataset {dataset.name!r} has no user demographics (ml-100k and ml-1m have them)"
        said += (
            "; give a userId,feature[,weight] CSV"  # each door's setting (one line named both: 250 columns)
        )
        raise DataError(Doors(f"{said} (user_features='FILE.csv')", f"{said} (--user-features FILE.csv)"))
    import pandas as pd

    frame = dataset.users.drop_duplicates("userId").set_index("userId")
    ids = pd.Index(user_map.ids)
    try:
        aligned = frame.reindex(ids.astype(frame.index.dtype))
    except (TypeError, ValueError):
        aligned = frame.reindex(ids)
    missing = aligned["age"].isna().to_numpy()
    if missing.any():
        raise DataError(
            f"dataset {dataset.name!r}: {int(missing.sum())} rated users are missing from the users file "
            f"(first: {ids[np.flatnonzero(missing)[0]]!r})"
        )
    return aligned.reset_index(drop=True)


def parse_user_features(spec: str | None) -> tuple[bool, Path | None]:
    """``"demographics"``, ``"FILE.csv"`` or ``"demographics,FILE.csv"`` → (demographics?, file)."""
    if spec is None or not str(spec).strip():
        return False, None
    demo, path = False, None
    for part in (p.strip() for p in str(spec).split(",")):
        if not part:
            continue
        if part.lower() == FAMILY:
            demo = True
        elif path is None:
            path = Path(part)
        else:
            take = f"take 'demographics', a file, or 'demographics,FILE.csv'; got {spec!r}"
            raise ConfigError(
                Doors(f"user features (user_features=) {take}", f"user features (--user-features) {take}")
            )
    return demo, path


def recorded_user_features(spec: Any) -> str | None:
    """A ``user_features`` spec as a study, nested.json and a best.toml record it: ``"demographics"``, the
    features file's absolute path (the file reads it from any folder), or both; ``None`` for none or for
    a matrix given from Python, which no file can hold."""
    if not isinstance(spec, str) or not spec.strip():
        return None
    demo, path = parse_user_features(spec)  # two files: one line naming what it takes
    parts = (["demographics"] if demo else []) + ([] if path is None else [str(path.resolve())])
    return ",".join(parts) or None


def user_features_words(spec: str) -> str:
    """``demographics, extra.csv``: a spec as a person reads it in a summary (a file by its name)."""
    return ", ".join(
        p if p.lower() == FAMILY else Path(p).name for p in (s.strip() for s in spec.split(",")) if p
    )


def build_user_features(
    dataset: Dataset, user_map: IdMap | None = None, spec: str | None = FAMILY
) -> ItemFeatures:
    """User side features aligned to ``user_map`` (default: the dataset's) from a ``--user-features`` spec.

    ``demographics`` needs a dataset with a users file (ml-100k, ml-1m) and is refused with a
    DataError otherwise; a CSV file (``userId,feature[,weight]`` or ``userId,field,field…``) is read by
    :func:`movierec.features.read_features_file`; both may be combined.
    """
    from movierec.features import ItemFeatures, read_features_file

    user_map = user_map if user_map is not None else dataset.interactions.user_map
    demo, path = parse_user_features(spec)
    out = ItemFeatures(sp.csr_matrix((len(user_map), 0), dtype=np.float32), [])
    if demo:
        users = aligned_users(dataset, user_map)
        schema = DemographicSchema.from_users(dataset.users)  # type: ignore[arg-type]
        out = out.hstack(ItemFeatures(schema.encode_users(users), schema.names))
    if path is not None:
        out = out.hstack(read_features_file(path, user_map))
    return out


def resolve_user_features(spec: Any, dataset: Dataset | None, train: Any) -> Any:
    """``--user-features`` as given to compare/tune/report: a spec string built for ``train``'s users,
    or an :class:`ItemFeatures`/matrix passed through unchanged."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    if isinstance(spec, str):
        if dataset is None:
            raise ConfigError("user features by name need a dataset")
        return build_user_features(dataset, train.user_map, spec)
    return spec
