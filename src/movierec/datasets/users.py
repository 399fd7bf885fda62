"""User side files of the MovieLens variants that ship them: ml-100k's ``u.user`` and ml-1m's ``users.dat``.

Both become one frame ``userId, age, gender, occupation, zip``. ml-1m stores an age *group*
code (1, 18, 25, 35, 45, 50, 56: the lower bound of its group) and an occupation code (0–20, its
README's list); both are translated so the two variants read alike. ml-latest-small and the
larger csv variants carry no user information.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from movierec.errors import DataError

__all__ = ["ML1M_OCCUPATIONS", "USER_FILES", "read_users"]

# ml-1m README, "Occupation is chosen from the following choices"
ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
    "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer",
    "programmer", "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer",
    "tradesman/craftsman", "unemployed", "writer",
)  # fmt: skip
USER_FILES = (("u.user", "u.user"), ("users.dat", "dat"))  # (file name, format) in a variant's folder


def read_users(path: str | Path, *, fmt: str = "u.user") -> pd.DataFrame:
    """Read ``u.user`` (``id|age|gender|occupation|zip``) or ``users.dat`` (``id::gender::age::occ::zip``).

    A malformed line is a DataError naming the file and line.
    """
    path = Path(path)
    sep, order = ("|", (0, 1, 2, 3, 4)) if fmt == "u.user" else ("::", (0, 2, 1, 3, 4))
    rows: list[tuple[int, int, str, str, str]] = []
    with open(path, encoding="latin-1") as fh:
        for line_no, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split(sep)
            if len(parts) != 5:
                raise DataError(
                    f"{path}, line {line_no}: expected 5 fields separated by {sep!r}, got {len(parts)}"
                )
            uid, age, gender, occ, zip_code = (parts[i].strip() for i in order)
            try:
                user, years = int(uid), int(age)
            except ValueError:
                raise DataError(f"{path}, line {line_no}: user id and age must be whole numbers") from None
            if fmt != "u.user":
                try:
                    occ = ML1M_OCCUPATIONS[int(occ)]
                except (ValueError, IndexError):
                    raise DataError(f"{path}, line {line_no}: unknown occupation code {occ!r}") from None
            if gender not in ("M", "F"):
                raise DataError(f"{path}, line {line_no}: gender {gender!r} is not M or F")
            rows.append((user, years, gender, occ, zip_code))
    return pd.DataFrame(rows, columns=["userId", "age", "gender", "occupation", "zip"])
