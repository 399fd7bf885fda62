"""Size parameters too large for the machine: refused in one line before ``fit`` allocates anything.

``movierec tune --model svd --params n_factors=100000`` was killed by the kernel (exit 137, out of memory)
with no word from us. A model whose memory grows with a number parameter (the factors of a factor
model, the hidden width of a VAE) declares its :class:`Footprint`: which parameter, how many rows it
multiplies (users, items or both) and how many bytes per value the fit surely keeps at once.
:func:`check_memory` runs in :meth:`BaseRecommender.fit <movierec.models.base.BaseRecommender.fit>`
after the declared constraints, so compare, tune, recommend and export all get it, and raises
:class:`MemoryLimitError` (a ConfigError) when that estimate exceeds the memory available
(:func:`available_bytes`). The estimate counts only the arrays the fit keeps (measured against peak
RSS, see each footprint), never the working copies around them: it refuses only what surely cannot fit.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movierec.errors import ConfigError

__all__ = [
    "FOOTPRINTS",
    "MARGIN",
    "Footprint",
    "MemoryLimitError",
    "available_bytes",
    "check_memory",
    "estimate",
]


class MemoryLimitError(ConfigError):
    """A model's size parameters need more memory than is available (tune prunes such a trial)."""


@dataclass(frozen=True)
class Footprint:
    """``(users × per_user + items × per_item + ratings × per_rating) × value of param × bytes`` bytes
    that fit keeps at once."""

    param: str  # the number parameter that scales memory
    per_user: (
        float  # arrays of n_users × param values the fit keeps at once (user factors, their optimiser state)
    )
    per_item: float  # n_items × param (item factors, SVD++'s implicit factors, a VAE's layers)
    bytes: int = 4  # per value (float32 unless the fit keeps float64)
    per_rating: float = 0  # n_ratings × param (NMF's vectorised per-rating updates)
    what: str = "factors"
    advice: str = "use fewer factors"

    def rows(self, n_users: int, n_items: int, n_ratings: int = 0) -> float:
        return self.per_user * n_users + self.per_item * n_items + self.per_rating * n_ratings

    def describe_rows(self, n_users: int, n_items: int, n_ratings: int = 0) -> str:
        """``610 users + 9,724 movies`` (with multiples: ``610 users + 2 × 9,724 movies``)."""
        parts = []
        for count, times, noun in (
            (n_users, self.per_user, "users"),
            (n_items, self.per_item, "movies"),
            (n_ratings, self.per_rating, "ratings"),
        ):
            if times:
                parts.append(f"{count:,} {noun}" if times == 1 else f"{times:g} × {count:,} {noun}")
        return " + ".join(parts)


_FACTORS_32 = Footprint("factors", 1, 1)
_FACTORS_64 = Footprint("factors", 1, 1, bytes=8)
_TWO_32 = Footprint("factors", 2, 2)  # factors and one more array of their size (a solver's or optimiser's)
_FOUR_32 = Footprint("factors", 4, 4)  # factors, gradients and optimiser state

#: footprints by registered name: the arrays of a size parameter the fit keeps at once, checked against
#: the peak RSS of fits on ml-latest-small (610 users, 9,724 movies, 100,836 ratings; 10,334 rows):
#: svd factors=16000 636 MB over the RSS before fit (estimate 661), svdpp 4000 924 MB (642), nmf 8000
#: 12.9 GB (12.9), bpr and warp 8000 1,560 MB (1,323), als 1024 90 MB (85), ials 1024 206 MB (169),
#: lightfm:warp 4000 780 MB (661), mult-vae hidden=8000 3,401 MB (2,489), bayesian-fm 2000 3,690 MB (3,392).
#: A model class may declare its own ``memory_footprint`` instead.
FOOTPRINTS: dict[str, Footprint] = {
    "svd": _FACTORS_32,
    "svdpp": Footprint("factors", 2, 4),  # p_u, q_i and the implicit y_j, each with a working copy
    "nmf": Footprint("factors", 1, 1, bytes=8, per_rating=2),  # two ratings × factors float64 arrays
    "als": _TWO_32,
    "ials": _FOUR_32,
    "bpr": _FOUR_32,
    "warp": _FOUR_32,
    "logistic": _FOUR_32,
    "warp-kos": _FOUR_32,
    "bayesian-fm": Footprint("factors", 1, 1, bytes=8, per_rating=2),  # float64 ratings × factors
    "lightfm:bpr": _FOUR_32,
    "lightfm:warp": _FOUR_32,
    "lightfm:logistic": _FOUR_32,
    "lightfm:warp-kos": _FOUR_32,
    "surprise:svd": _FACTORS_64,
    "surprise:svdpp": Footprint("factors", 1, 2, bytes=8),
    "surprise:nmf": _FACTORS_64,
    "implicit:bpr": _FACTORS_32,
    "cornac:bpr": _FACTORS_32,
    "myfm:bfm": _FACTORS_64,
    # the encoder's and decoder's items × hidden layers, each with its gradient and Adam's two moments
    "mult-vae": Footprint("hidden", 0, 8, what="layers", advice="use a smaller hidden"),
    # only the encoder's first layer is items × hidden
    "recvae": Footprint("hidden", 0, 4, what="layers", advice="use a smaller hidden"),
}

MARGIN = 0.9
"""A fit is refused when ``MARGIN ×`` its estimate exceeds the memory available: the estimates run up to 4 %
over the measured growth of RSS (svd), and a refusal must be sure."""


def _footprint(model: Any) -> Footprint | None:
    own = getattr(model, "memory_footprint", None)
    return own if isinstance(own, Footprint) else FOOTPRINTS.get(str(getattr(model, "name", "")))


def estimate(
    model: Any, n_users: int, n_items: int, n_ratings: int = 0
) -> tuple[Footprint, int, float] | None:
    """``(footprint, value, bytes)`` for a model with a footprint and a whole-number size parameter."""
    footprint = _footprint(model)
    value = getattr(model, footprint.param, None) if footprint is not None else None
    if footprint is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    return footprint, value, footprint.rows(n_users, n_items, n_ratings) * value * footprint.bytes


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_available() -> int | None:
    """What the container's memory limit leaves (cgroup v2 ``memory.max`` − ``memory.current``)."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(int(limit) - int((root / "memory.current").read_text()), 0)
    except (OSError, ValueError):
        return None


def _rlimit_available() -> int | None:
    """What ``ulimit -v`` (RLIMIT_AS) leaves above the process's present address space."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return max(soft - int(line.split()[1]) * 1024, 0)
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_bytes() -> int | None:
    """The memory a fit can still take: the least of /proc/meminfo's MemAvailable (``os.sysconf`` elsewhere),
    a cgroup limit's remainder and ``ulimit -v``'s; None when none can be read."""
    found = [v for v in (_meminfo_available(), _cgroup_available(), _rlimit_available()) if v is not None]
    return min(found) if found else None


def check_memory(model: Any, n_users: int, n_items: int, n_ratings: int = 0) -> None:
    """Raise :class:`MemoryLimitError` when the model's size parameter needs more memory than is available:
    ``svd with factors=100000000 needs about 4,133.6 GB for its factors (610 users + 9,724 movies); 21.3 GB
    is available: use fewer factors``."""
    found = estimate(model, n_users, n_items, n_ratings)
    if found is None:
        return
    footprint, value, need = found
    available = available_bytes()
    if available is None or MARGIN * need <= available:
        return
    raise MemoryLimitError(
        f"{getattr(model, 'name', type(model).__name__)} with {footprint.param}={value} needs about "
        f"{_gb(need)} for its {footprint.what} ({footprint.describe_rows(n_users, n_items, n_ratings)}); "
        f"{_gb(available)} is available: {footprint.advice}"
    )


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB"
