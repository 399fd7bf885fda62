"""Would another base lift the ensemble's start blend? (issue 19, validation only)

    PYTHONPATH=src python bench/bases_study.py [--out FILE]

The frontier study blended the four default bases (ease, slim, ials, rp3beta) and user-ease. This one
adds a fifth base, one at a time, at weight 0.2, 0.5 or 1 beside the start blend (ease 1, slim 0.5,
ials 0.6, rp3beta 0.2 on max-normalised scores): the VAEs (Mult-VAE, Liang et al. 2018; RecVAE,
Shenbin et al. 2020; where torch is installed), a second iALS seed (bagging), a smaller iALS, and EASE
at other λ (a multi-scale blend). Same data and splits as ``weighting_study.py``: the bundled
ml-latest-small under ``compare``'s default implicit split (positives ≥ 4, 20% held out, seed 42), its
training part split again 80/20 with seeds 1, 2, 3; mean validation NDCG@10. Each weight is chosen on
the splits it is read on (an upper bound). The test part is never read.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import write_study  # noqa: E402
from frontier_study import _ndcg  # noqa: E402
from movierec.evaluation import make_split  # noqa: E402
from weighting_study import BLEND, _fit, _row, _splits  # noqa: E402

#: the candidate fifth bases: label -> (model, params)
EXTRA: dict[str, tuple[str, dict[str, Any]]] = {
    "mult-vae": ("mult-vae", {}),
    "recvae": ("recvae", {}),
    "ials, seed 7": ("ials", {"random_state": 7}),
    "ials, 32 factors": ("ials", {"factors": 32}),
    "ease, λ 10": ("ease", {"l2": 10}),
    "ease, λ 300": ("ease", {"l2": 300}),
    "ease, λ 1000": ("ease", {"l2": 1000}),
}
WEIGHTS = (0.2, 0.5, 1.0)
NEEDS_TORCH = {"mult-vae", "recvae"}


def study(ds: Any) -> dict[str, Any]:
    """Every row of the study on ``ds`` (its test part is cut, never read)."""
    train, _test, _ = make_split(ds.interactions, "interactions-holdout", seed=42, threshold=4.0)
    splits = _splits(train)
    norms = {name: _fit(splits, name, {})[1] for name in BLEND}

    def blend(weights: dict[str, float]) -> list[float]:
        return [
            _ndcg(sum(w * norms[n][i] for n, w in weights.items()), p["seen"], p["rel"])
            for i, p in enumerate(splits)
        ]

    start = _row("start blend", BLEND, blend(BLEND))
    rows, skipped = [], []
    has_torch = importlib.util.find_spec("torch") is not None
    for label, (name, params) in EXTRA.items():
        if name in NEEDS_TORCH and not has_torch:
            skipped.append(label)
            continue
        values, norms[label] = _fit(splits, name, params)
        alone = _row(label, params, values)
        for w in WEIGHTS:
            row = _row(f"start blend + {w:g} × {label}", {**BLEND, label: w}, blend({**BLEND, label: w}))
            rows.append({**row, "base": label, "weight": w, "alone": alone["ndcg@10"]})
    best = max(rows, key=lambda r: r["ndcg@10"]) if rows else None
    return {"start": start, "rows": rows, "best": best, "skipped (no torch)": skipped}


def main() -> None:
    write_study("bases_study", __doc__.splitlines()[0], study)


if __name__ == "__main__":
    main()
