"""The issues' targets in one table for BENCHMARKS.md: measured value, met or not, and the machine's limit.

Each limit is a deliberately simple lower bound on the time of that work on this machine: counted
floating-point operations divided by the FMA rate ``bench_growth.py`` measures (float64 matmul on
one core; float32 SIMD runs at twice that), or compulsory bytes over the measured copy bandwidth,
whichever is larger. "How far from the limit" is then ours / limit. Quality targets have no
machine limit. Everything is read from ``bench/results/*.json``; a missing file gives a dash.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import canonical_params, ratios_over_draws

_ML_SMALL_TRAIN = 80_669  # 80% of ml-latest-small's 100,836 ratings (the notebook split)
_ML_SMALL_USERS, _ML_SMALL_ITEMS = 610, 9_724
_ML_SMALL_TRAIN_POSITIVES = 38_864  # 80% of its 48,580 ratings ≥ 4 (LightFM's split)
_ML100K_TRAIN = 80_000  # each of the 5 folds trains on 80,000 ratings


def _rows(results: Path, name: str) -> list[dict[str, Any]]:
    path = results / f"{name}.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    return list(data.get("rows", [])) if isinstance(data, dict) else list(data)


def _find(rows: list[dict[str, Any]], test: Callable[..., bool]) -> dict[str, Any] | None:
    return next((r for r in rows if test(str(r.get("variant", "")))), None)


def _q(row: dict[str, Any] | None, key: str) -> Any:
    return None if row is None else (row.get("quality") or {}).get(key)


def _fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        s = f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"
    else:
        s = f"{x:,}" if isinstance(x, int) else str(x)
    return s + unit


def _met(ok: bool | None) -> str:
    return "–" if ok is None else ("yes" if ok else "**no**")


def _svd_flops(n_ratings: float, f: int = 80, epochs: int = 25) -> float:
    return epochs * n_ratings * (8 * f + 10)  # dot product, two vector updates, biases (bench_growth.work)


def rows(results: Path) -> list[list[str]]:
    """``[target, measured, met, machine limit, source]`` for every target the issues set."""
    growth = _rows(results, "growth") or _rows(results, "growth-scale")
    lim = _q(_find(growth, lambda v: v == "machine limits"), "gflops_per_core") or None
    bw = _q(_find(growth, lambda v: v == "machine limits"), "memory_gb_per_s") or None
    g32 = 2 * lim * 1e9 if lim else None  # float32 SIMD: twice the float64 FMA rate per core

    def floor(flops: float, cores: int = 1, nbytes: float = 0.0, f32: bool = True) -> float | None:
        if not lim:
            return None
        rate = (g32 if f32 and g32 else float(lim) * 1e9) * cores
        return max(flops / rate, nbytes / (bw * 1e9) if bw else 0.0)

    def limit_text(ours: float | None, lo: float | None, what: str) -> str:
        if lo is None:
            return "–"
        far = f"; ours {ours / lo:.1f}× the floor" if ours else ""
        return f"≥ {_fmt(lo, ' s')} ({what}){far}"

    out: list[list[str]] = []
    explicit = _rows(results, "explicit")
    for label, key, n, folds in (
        ("ml-latest-small", "svd fit, ml-latest-small", _ML_SMALL_TRAIN, 1),
        ("ml-100k 5-fold", "svd fit, ml-100k", _ML100K_TRAIN, 5),
    ):
        r = _find(explicit, lambda v, key=key: v.startswith(key))
        sp = _q(r, "speedup")
        lo = floor(folds * _svd_flops(n))
        ours = r.get("ours_seconds") if r else None
        ref = r.get("reference_seconds") if r else None
        best = f"; at the floor Surprise's time would be {ref / lo:.0f}×" if lo and ref else ""
        out.append(
            [
                f"svd fit ≥ 20× faster than surprise:svd ({label}), RMSE within 0.005",
                f"{_fmt(sp, '×')} (gap {_fmt(_q(r, 'rmse_gap'))})",
                _met(None if sp is None else sp >= 20 and (_q(r, "rmse_gap") or 0) <= 0.005),
                limit_text(ours, lo, "25 epochs × 8f flops per rating, float32, 1 core") + best,
                "explicit.json",
            ]
        )
    r = _find(explicit, lambda v: v.startswith("knn-baseline fit+test"))
    sp, rss = _q(r, "speedup"), _q(r, "rss_ratio")
    out.append(
        [
            "knn-baseline fit+test ≥ 10× faster, peak RSS ≤ 1/5 of Surprise's",
            f"{_fmt(sp, '×')}, RSS ratio {_fmt(rss)}",
            _met(None if sp is None else sp >= 10 and (rss or 1) <= 0.2),
            "– (random-access bound: Σ n_u² co-rating updates; see the 25M row)",
            "explicit.json",
        ]
    )
    ev = _find(_rows(results, "eval"), lambda v: "Python" in v)
    if ev:
        ours = ev.get("ours_seconds")
        lo = floor(
            _ML_SMALL_USERS * _ML_SMALL_ITEMS * 2 * 80,
            cores=2,
            nbytes=_ML_SMALL_USERS * _ML_SMALL_ITEMS * 4 * 2,
        )
        out.append(
            [
                "full-ranking evaluation of ml-latest-small < 1 s, ≥ 20× faster than a per-user Python loop",
                f"{_fmt(ours, ' s')}, {_fmt(_q(ev, 'speedup'), '×')}",
                _met(ours is not None and ours < 1 and (_q(ev, "speedup") or 0) >= 20),
                limit_text(ours, lo, "scoring 610 × 9,724 × 2f flops on 2 cores, write + read the scores"),
                "eval.json",
            ]
        )
    implicit = _rows(results, "implicit")
    for model in ("bpr", "warp"):
        r = _find(implicit, lambda v, m=model: v == f"{m} epoch, 2 threads")
        sp = _q(r, "speedup")
        ours = r.get("ours_seconds") if r else None
        lo = floor(_ML_SMALL_TRAIN_POSITIVES * 18 * 40, cores=2)
        out.append(
            [
                f"{model} epoch ≥ 2× faster than lightfm:{model}, 2 threads, equal quality",
                _fmt(sp, "×"),
                _met(None if sp is None else sp >= 2),
                limit_text(ours, lo, "3 dots + 3 updates of 40 floats per positive, 2 cores"),
                "implicit.json",
            ]
        )
    for model in ("logistic", "warp-kos"):  # issue 20: parity first, speed reported
        r = _find(implicit, lambda v, m=model: v == f"{m} epoch, 2 threads")
        p_ours = (_q(r, "ours") or {}).get("precision@10")
        p_ref = (_q(r, "reference") or {}).get("precision@10")
        gap = None if p_ours is None or p_ref is None else abs(p_ours - p_ref)
        out.append(
            [
                f"{model}: P@10 within 0.01 of lightfm:{model} (mean of 3 seeds); epoch speed vs LightFM",
                f"Δ {_fmt(gap)} (ours {_fmt(p_ours)}, LightFM {_fmt(p_ref)}); {_fmt(_q(r, 'speedup'), '×')} speed",
                _met(None if gap is None else gap <= 0.01),
                "–",
                "implicit.json",
            ]
        )
    r = _find(implicit, lambda v: v.startswith("ease fit"))
    out.append(["ease fit on ml-latest-small < 3 s", _fmt(r and r.get("ours_seconds"), " s"),
                _met(None if r is None else r["ours_seconds"] < 3), "–", "implicit.json"])  # fmt: skip
    r = _find(implicit, lambda v: v.startswith("als fit"))
    out.append(["als 15 iterations < 2 s", _fmt(r and r.get("ours_seconds"), " s"),
                _met(None if r is None else r["ours_seconds"] < 2), "–", "implicit.json"])  # fmt: skip
    r = _find(implicit, lambda v: v.startswith("quality: best"))
    ratio = _q(r, "ratio_best_to_lightfm_bpr")
    out.append(
        [
            "best model's NDCG@10 ≥ 1.7× lightfm:bpr (notebook split)",
            f"{_fmt(ratio, '×')} ({_q(r, 'best')})",
            _met(None if ratio is None else ratio >= 1.7),
            "n/a (quality)",
            "implicit.json",
        ]
    )
    scale = _rows(results, "explicit-scale")
    for model in ("svd", "knn-baseline"):
        r = _find(scale, lambda v, m=model: v.startswith(f"{m} fit") and "25M" in v)
        secs = _q(r, "fit_plus_predict_seconds")
        rss = r.get("ours_peak_rss_mb") if r else None
        if model == "svd":
            lo = floor(_svd_flops(24_500_000))
            what = "25 epochs × 8f flops per rating, float32, 1 core"
        else:
            s2 = _q(r, "sum_nu2")
            lo = floor(8.0 * s2, cores=2, f32=False) if s2 else None
            what = "8 flops per co-rating pair (Σ n_u²), 2 cores"
        out.append(
            [
                f"{model} on 25M synthetic ratings < 10 min, < 8 GB",
                f"{_fmt(secs, ' s')}, {_fmt(rss, ' MB')}",
                _met(None if secs is None else secs < 600 and (rss or 0) < 8192),
                limit_text(secs, lo, what),
                "explicit-scale.json",
            ]
        )
    iscale = _rows(results, "implicit-scale")
    for model in ("als", "bpr", "warp"):
        r = _find(iscale, lambda v, m=model: v.startswith(f"{m} on") and "25M" in v)
        rss = r.get("ours_peak_rss_mb") if r else None
        secs = r.get("ours_seconds") if r else None
        out.append(
            [
                f"{model} on 25M synthetic ratings completes, < 8 GB"
                + (" (epoch time recorded)" if model == "warp" else ""),
                f"{_fmt(secs, ' s')}, {_fmt(rss, ' MB')}",
                _met(None if secs is None else (rss or 0) < 8192),
                "–",
                "implicit-scale.json",
            ]
        )
    r = _find(_rows(results, "report"), lambda v: v.startswith("report-default"))
    out.append(["movierec report (default) < 90 s", _fmt(r and r.get("ours_seconds"), " s"),
                _met(None if r is None else r["ours_seconds"] < 90), "– (dominated by t-SNE)", "report.json"])  # fmt: skip
    cli = _rows(results, "cli")  # issue 18: start-up of --help (lazy imports) and the report's weight
    r = _find(cli, lambda v: v.startswith("help-startup"))
    cpu = None if r is None else (r.get("quality") or {}).get("cpu_s")
    out.append(["movierec --help start-up < 0.5 s (CPU time; wall depends on the machine's load)",
                f"{_fmt(cpu, ' s')} CPU, {_fmt(r and r.get('ours_seconds'), ' s')} wall",
                _met(None if cpu is None else cpu < 0.5),
                "bare interpreter " + _fmt(r and (r.get("quality") or {}).get("bare_python_s"), " s"), "cli.json"])  # fmt: skip
    r = _find(cli, lambda v: v.startswith("report-size"))
    mb = None if r is None else (r.get("quality") or {}).get("index_html_mb")
    out.append(["default report index.html < 3 MB", _fmt(mb, " MB"), _met(None if mb is None else mb < 3.0),
                "– (plotly.js gzipped is 1.9 MB of it)", "cli.json"])  # fmt: skip
    api = _rows(results, "api")
    r = _find(api, lambda v: "workers=1" in v and "response cache" in v and v.endswith("wrk"))
    nc = _find(api, lambda v: "no response cache" in v)
    if r:
        q = r.get("quality") or {}
        per_req_ms = q.get("in_process_recommend_ms")
        cap = (
            f"≤ {2 / (per_req_ms / 1000):,.0f} req/s uncached (2 cores / {per_req_ms} ms of scoring each)"
            if per_req_ms
            else "–"
        )
        out.append(
            [
                "API ≥ 1,000 req/s, p99 < 20 ms at 32 clients, no errors",
                f"{_fmt(q.get('rps'))} req/s, p99 {_fmt(q.get('p99_ms'), ' ms')} (uncached: "
                f"{_fmt(_q(nc, 'rps'))} req/s, p99 {_fmt(_q(nc, 'p99_ms'), ' ms')})",
                _met(q.get("rps", 0) >= 1000 and q.get("p99_ms", 1e9) < 20 and not q.get("errors")),
                cap,
                "api.json",
            ]
        )
    tuning = _rows(results, "tuning")
    svd = _find(tuning, lambda v: v.startswith("svd tuned"))
    best_row = min(
        (r for r in tuning if _q(r, "rmse") is not None), key=lambda r: _q(r, "rmse"), default=None
    )
    out.append(
        [
            "tuned svd ≤ 0.915 and best explicit ≤ 0.905 RMSE (ml-100k, 5-fold)",
            f"svd {_fmt(_q(svd, 'rmse'))}, best {_fmt(_q(best_row, 'rmse'))} ({str(best_row['variant']).split(':')[0] if best_row else '–'})",
            _met(
                None
                if svd is None or best_row is None
                else _q(svd, "rmse") <= 0.915 and _q(best_row, "rmse") <= 0.905
            ),
            "n/a (quality)",
            "tuning.json",
        ]
    )
    seq = _rows(results, "sequential")
    t = _find(seq, lambda v: v == "target")
    sas = _find(seq, lambda v: v == "sasrec")
    out.append(
        [
            "sasrec NDCG@10 above popularity, markov and ease (leave-last-out); training < 5 min",
            f"{_fmt(_q(sas, 'ndcg@10'))} in {_fmt(sas and sas.get('ours_seconds'), ' s')}",
            _met(
                None
                if t is None
                else bool(_q(t, "sasrec_ndcg_above_pop_markov_ease") and _q(t, "sasrec_fit_under_5min"))
            ),
            "n/a (quality)",
            "sequential.json",
        ]
    )
    out += _production_rows(results)
    return (
        out
        + _coldstart_rows(results)
        + _beyond_rows(results)
        + _issue20_rows(results)
        + _issue19_rows(results)
    )


def _production_rows(results: Path) -> list[list[str]]:
    """Issue 22: PostgreSQL/SQLite under kill -9, hot reload under load, the traffic split."""
    prod = _rows(results, "production")
    out = []
    for backend in ("postgresql", "sqlite"):
        k = _find(prod, lambda v, b=backend: v.startswith("kill -9") and b in v)
        out.append(
            [
                f"kill -9 of 1 of 2 servers under 8-client feedback load, {backend}: 0 lost, 0 duplicated (3 repeats)",
                "–"
                if k is None
                else f"lost {_q(k, 'lost')}, duplicated {_q(k, 'duplicated')} "
                f"({len(_q(k, 'acknowledged') or [])} runs)",
                _met(None if k is None else bool(_q(k, "meets_target"))),
                "n/a (correctness)",
                "production.json",
            ]
        )
    r = _find(prod, lambda v: v.startswith("hot reload"))
    out.append(
        [
            "hot reload under 32 clients: 0 failed requests, p99 in the reload second < 50 ms",
            "–"
            if r is None
            else f"{_q(r, 'failed')} failed, p99 {_fmt(_q(r, 'p99_reload_second_ms'), ' ms')} "
            f"(outside it {_fmt(min(_q(r, 'all_runs_p99_other_ms') or [0]), ' ms')})",
            _met(None if r is None else bool(_q(r, "meets_target"))),
            "n/a (latency under load)",
            "production.json",
        ]
    )
    s = _find(prod, lambda v: v.startswith("traffic split"))
    out.append(
        [
            "traffic split within ±2% of the weights over 10,000 users; a user always sees one version",
            "–"
            if s is None
            else ", ".join(
                f"{w}: ±{v['max_deviation']:.2%}"
                for w, v in (
                    (_q(s, "0.9/0.1") and {"90/10": _q(s, "0.9/0.1"), "50/30/20": _q(s, "0.5/0.3/0.2")}) or {}
                ).items()
            ),
            _met(None if s is None else bool(_q(s, "meets_target"))),
            "n/a (correctness)",
            "production.json",
        ]
    )
    return out


def _coldstart_rows(results: Path) -> list[list[str]]:
    """Issue 16: what a fresh install, the CLI path and a busy machine leave of the lead."""
    out: list[list[str]] = []
    cold = _rows(results, "coldstart")

    def speed(prefix: str, model: str, target: float, what: str) -> None:
        r = _find(cold, lambda v: v.startswith(f"{prefix}: {model} vs"))
        sp = _q(r, "speedup")
        loads = r.get("load_averages") if r else None
        load = f" (load {min(loads):.1f}-{max(loads):.1f})" if loads else ""
        out.append([what, _fmt(sp, "×") + (load if sp is not None else ""),
                    _met(None if sp is None else sp >= target), "–", "coldstart.json"])  # fmt: skip

    speed("cold first compare", "svd", 10, "cold first compare in a new venv: svd ≥ 10× surprise:svd's fit")
    speed(
        "cold first compare", "knn-baseline", 5, "cold first compare: knn-baseline ≥ 5× surprise:knn-baseline"
    )
    speed("warm compare", "svd", 20, "warm compare: svd ≥ 20× surprise:svd's fit")
    speed("warm compare", "knn-baseline", 10, "warm compare: knn-baseline ≥ 10× surprise:knn-baseline")
    speed("warm compare", "bpr", 2, "warm compare: bpr ≥ 2× lightfm:bpr per epoch (each at its defaults)")
    speed("warm compare", "warp", 2, "warm compare: warp ≥ 2× lightfm:warp per epoch (each at its defaults)")
    r = _find(cold, lambda v: v.startswith("movierec report: cold"))
    out.append(["cold movierec report ≤ 1.3× the warm one", _fmt(_q(r, "ratio"), "×"),
                _met(None if r is None else _q(r, "ratio") <= 1.3), "–", "coldstart.json"])  # fmt: skip
    r = _find(cold, lambda v: v.startswith("make demo"))
    secs = r.get("ours_seconds") if r else None
    out.append(["make demo on a fresh clone ≤ 3 min, install included", _fmt(secs, " s"),
                _met(None if secs is None else secs <= 180), "–", "coldstart.json"])  # fmt: skip
    ratios = {
        str(r["variant"]).rsplit(": ", 1)[-1]: _q(r, "ratio")
        for r in cold
        if str(r.get("variant", "")).startswith("fit_seconds in compare")
    }
    worst = max((v for v in ratios.values() if v is not None), default=None)
    out.append(["fit_seconds in compare within 1.2× of the bare fit",
                ", ".join(f"{k} {_fmt(v, '×')}" for k, v in ratios.items()) or "–",
                _met(None if worst is None else worst <= 1.2), "–", "coldstart.json"])  # fmt: skip
    r = _find(cold, lambda v: v.startswith("install:"))
    warn = _q(r, "warnings_of_ours")
    out.append(["pip install prints no warning of ours", "–" if r is None else (f"{len(warn)} lines" if warn else "none"),
                _met(None if r is None else not warn), "–", "coldstart.json"])  # fmt: skip
    busy = _find(_rows(results, "explicit-busy"), lambda v: v.startswith("svd fit"))
    sp = _q(busy, "speedup")
    out.append(["with 2 busy-loop processes: svd ≥ 10× surprise:svd", _fmt(sp, "×"),
                _met(None if sp is None else sp >= 10), "–", "explicit-busy.json"])  # fmt: skip
    ibusy = _rows(results, "implicit-busy")
    for model in ("bpr", "warp"):
        r = _find(ibusy, lambda v, m=model: v.startswith(f"{m} epoch, 2 threads"))
        sp = _q(r, "speedup")
        out.append([f"with 2 busy-loop processes: {model} ≥ 1.5× lightfm:{model} (2 threads asked)", _fmt(sp, "×"),
                    _met(None if sp is None else sp >= 1.5), "–", "implicit-busy.json"])  # fmt: skip
    return out


def _beyond_rows(results: Path) -> list[list[str]]:
    """Issue 21: re-rankers at λ chosen on validation, and the cost of the beyond-accuracy metrics."""
    rows = _rows(results, "beyond")
    out: list[list[str]] = []
    goals = {
        "calibrated": ("calibration KL cut ≥ 30% at ≤ 5% NDCG@10 loss", "calibration_kl"),
        "mmr": ("genre ILD up ≥ 20% at ≤ 5% NDCG@10 loss", "ild_genres"),
        "xquad": ("APLT doubled at ≤ 10% NDCG@10 loss", "aplt"),
    }
    for reranker, (text, metric) in goals.items():
        found = [r for r in rows if r.get("reranker") == reranker]
        if not found:
            continue
        measured = ", ".join(
            f"{r.get('model')} λ={r.get('lam')}: ×{_fmt(_q(r, metric + '_ratio'))}, NDCG −{_fmt(100 * (_q(r, 'ndcg_loss') or 0))}%"
            for r in found
        )
        out.append(
            [
                f"{reranker} re-ranking (ease, als, warp+genres; λ on validation): {text}",
                measured,
                _met(all(bool(_q(r, "met")) for r in found)),
                "n/a (quality; the validation front is in the beyond section)",
                "beyond.json",
            ]
        )
    t = _find(rows, lambda v: v.startswith("all beyond-accuracy metrics"))
    if t:
        out.append(
            [
                "all beyond-accuracy metrics for 610 users × K=10 add < 0.2 s to compare",
                f"{_fmt(_q(t, 'added_cpu_s'), ' s')} CPU ({_fmt(_q(t, 'added_wall_s'), ' s')} wall, load {t.get('load_average')})",
                _met(_q(t, "under_0.2s")),
                "–",
                "beyond.json",
            ]
        )
    return out


def _issue20_rows(results: Path) -> list[list[str]]:
    """Issue 20: new users from demographics on ml-100k, and gru4rec under leave-last-out."""
    out: list[list[str]] = []
    cold = _rows(results, "cold_users")
    for base, goal in (("popularity", 0.10), ("segment-popularity+demographics", 0.0)):
        r = _find(cold, lambda v, b=base: v == f"paired: warp+demographics − {b}, 0 revealed")
        gain, lo, p = _q(r, "relative_gain"), _q(r, "diff_lo"), _q(r, "p_permutation")
        met = None if gain is None else gain >= goal and lo is not None and lo > 0
        out.append(
            [
                f"cold users (ml-100k, 0 revealed): warp+demographics NDCG@10 ≥ {goal:.0%} above {base}, confirmed",
                "–" if gain is None else f"{gain:+.1%} (paired diff CI low {_fmt(lo)}, p = {_fmt(p)})",
                _met(met),
                "n/a (quality)",
                "cold_users.json",
            ]
        )
    gru = _rows(results, "gru4rec")
    vals = {
        name: _q(_find(gru, lambda v, n=name: v == f"leave-last-out: {n}"), "ndcg@10")
        for name in ("gru4rec", "markov", "popularity")
    }
    r = _find(gru, lambda v: v == "leave-last-out: gru4rec")
    secs = None if r is None else r.get("ours_seconds")
    ok = None if None in vals.values() else vals["gru4rec"] > max(vals["markov"], vals["popularity"])
    out.append(
        [
            "gru4rec leave-last-out NDCG@10 above markov and popularity (ml-latest-small), training < 5 min",
            f"{_fmt(vals['gru4rec'])} vs markov {_fmt(vals['markov'])}, popularity {_fmt(vals['popularity'])}; "
            f"{_fmt(secs, ' s')} (published, other data: SASRec ml-1m full-ranking NDCG@10 ≈ 0.13–0.19)",
            _met(None if ok is None or secs is None else ok and secs < 300),
            "–",
            "gru4rec.json",
        ]
    )
    return out


def _issue19_rows(results: Path) -> list[list[str]]:
    """Issue 19: defaults on ml-100k top-N, ratings on u1 and Surprise's 5 folds (bench_results.py)."""
    rows = _rows(results, "results19")
    study = results / "bfm_study.json"  # bayesian-fm tuned on training data only (bench/bfm_study.py)
    if study.is_file():
        stored = json.loads(study.read_text())
        for name, rec in (stored.get("studies") or stored).items():
            rows.append({"group": name, "model": "bayesian-fm (tuned on training data)", "rmse": rec["rmse"]})

    def label(r: dict[str, Any]) -> str:
        return str(r["model"]) + (
            f" {canonical_params(str(r['model']), r['params'])}" if r.get("params") else ""
        )

    def group(name: str, metric: str) -> dict[str, float]:
        """Model label (name plus non-default parameters) → value, for one group of results19.json."""
        return {label(r): float(r[metric]) for r in rows if r.get("group") == name}

    def band(*groups: str) -> dict[str, str]:
        """Label → " [lo, hi]" (the 95% interval over test users) for the rows of ``groups`` that recorded one."""
        return {
            label(r) + (" (tuned on validation)" if r["group"] == "topn-tuned" else ""): (
                f" [{_fmt(r['ndcg@10 ci95'][0])}, {_fmt(r['ndcg@10 ci95'][1])}]"
            )
            for r in rows
            if r.get("group") in groups and r.get("ndcg@10 ci95")
        }

    topn, u1, cv5 = group("topn", "ndcg@10"), group("u1", "rmse"), group("cv5", "rmse")
    tuned = {f"{k} (tuned on validation)": v for k, v in group("topn-tuned", "ndcg@10").items()}
    best_topn = max({**topn, **tuned}.items(), key=lambda kv: kv[1]) if topn or tuned else None
    mlls = {k: v for k, v in group("mlls", "ndcg@10").items() if " " not in k}  # defaults only
    ref = mlls.get("lightfm:bpr")
    best_mlls = max(mlls.items(), key=lambda kv: kv[1]) if mlls and ref else None
    ratio = None if best_mlls is None or not ref else best_mlls[1] / ref
    vae = _rows(results, "vae")
    draws = ""  # the mlls rows again on five draws of the split (bench_results.py --only mlls-seeds)
    over_draws = ratios_over_draws([r for r in rows if r.get("group") == "mlls-seeds"])
    top, ratios = next(iter(over_draws.items()), ("", []))
    if ratios:
        draws = (f"; over {len(ratios)} draws of the split: {top} {statistics.fmean(ratios):.2f}× on average "
                 f"({min(ratios):.2f}–{max(ratios):.2f}×)")  # fmt: skip
    best_u1 = min(u1.items(), key=lambda kv: kv[1]) if u1 else None
    best_cv5 = min(cv5.items(), key=lambda kv: kv[1]) if cv5 else None
    bpr = topn.get("bpr")
    return [
        ["ml-100k per-user 75/25, all positive: default bpr NDCG@10 ≥ 0.42", _fmt(bpr),
         _met(None if bpr is None else bpr >= 0.42), "n/a (quality)", "results19.json"],
        ["ml-100k per-user 75/25: best model NDCG@10 ≥ 0.49 (tuned on validation folds only)",
         "–" if best_topn is None else f"{best_topn[0]} {_fmt(best_topn[1])}{band('topn', 'topn-tuned').get(best_topn[0], '')}",
         _met(None if best_topn is None else best_topn[1] >= 0.49), "n/a (quality)", "results19.json"],
        ["ml-100k u1: below GLocal-K's 0.8889 RMSE (hyperparameters from u1.base alone)",
         "–" if best_u1 is None else f"{best_u1[0]} {_fmt(best_u1[1])}",
         _met(None if best_u1 is None else best_u1[1] < 0.8889), "n/a (quality)", "results19.json, bfm_study.json"],
        ["ml-100k Surprise 5-fold: best single model ≤ 0.895 RMSE",
         "–" if best_cv5 is None else f"{best_cv5[0]} {_fmt(best_cv5[1])}",
         _met(None if best_cv5 is None else best_cv5[1] <= 0.895), "n/a (quality)", "results19.json, bfm_study.json"],
        ["ml-latest-small compare default split: best default model ≥ 1.8× lightfm:bpr's NDCG@10 (defaults)",
         "–" if ratio is None or best_mlls is None else f"{best_mlls[0]} {_fmt(best_mlls[1])}{band('mlls').get(best_mlls[0], '')} = {ratio:.2f}×{draws}",
         _met(None if ratio is None else ratio >= 1.8), "n/a (quality)", "results19.json"],
    ] + [
        ["bpr at Cornac's BPR settings (ml-100k per-user 75/25): NDCG@10 within 0.01 of cornac:bpr's, at "
         "least as fast per epoch", f"{r['quality']['ndcg@10_ours']:.4f} vs {r['quality']['ndcg@10_cornac']:.4f}; "
         f"{r['ours_seconds'] * 1e3:.3g} vs {r['reference_seconds'] * 1e3:.3g} ms an epoch "
         f"({r['reference_seconds'] / r['ours_seconds']:.2f}×)",
         _met(bool(r["quality"]["within_0.01"]) and r["ours_seconds"] <= r["reference_seconds"]), "–",
         "cornac.json"]
        for r in _rows(results, "cornac") if r.get("ours_seconds") and r.get("reference_seconds")
    ] + [
        [f"bayesian-fm {r['params']['features']} (u1, rank {r['params']['rank']}, {r['params']['n_iter']} "
         "sweeps): RMSE within 0.003 of myfm:bfm's, faster", f"{r['quality']['rmse_u1_ours']:.4f} vs "
         f"{r['quality']['rmse_u1_myfm']:.4f}; {r['ours_seconds']:.3g} vs {r['reference_seconds']:.3g} s "
         f"({r['reference_seconds'] / r['ours_seconds']:.2f}×)",
         _met(bool(r["quality"]["within_0.003"]) and r["ours_seconds"] < r["reference_seconds"]), "–",
         "bfm.json"]
        for r in _rows(results, "bfm") if r.get("ours_seconds") and r.get("reference_seconds")
    ] + [
        [f"{r['variant']}: ours at least as fast as a plain PyTorch loop", f"{r['ours_seconds']:.3g} s vs "
         f"{r['reference_seconds']:.3g} s ({r['reference_seconds'] / r['ours_seconds']:.2f}×)",
         _met(r["ours_seconds"] <= r["reference_seconds"]), "–", "vae.json"]
        for r in vae if r.get("ours_seconds") and r.get("reference_seconds")
    ] + [
        [f"{r['variant']}: at least as fast as {r['reference']}, NDCG@10 within 0.005",
         f"{r['ours_seconds']:.3g} s vs {r['reference_seconds']:.3g} s "
         f"({r['reference_seconds'] / r['ours_seconds']:.2f}×); NDCG@10 {r['quality']['ndcg@10_ours']:.4f} vs "
         f"{r['quality']['ndcg@10_reference']:.4f}",
         _met(r["ours_seconds"] <= r["reference_seconds"] and abs(r["quality"]["ndcg_gap"]) <= 0.005), "–",
         "references.json"]
        for r in _rows(results, "references") if r.get("ours_seconds") and r.get("reference_seconds")
    ]  # fmt: skip


def section(results: Path) -> list[str]:
    """Markdown lines of the targets table."""
    lines = [
        "## Targets",
        "",
        "The issues' targets, read from the result files below. **Machine limit**: a simple lower bound on the "
        "time of that work here (counted flops over the FMA rate bench_growth measures, float32 at twice the "
        "float64 rate, or compulsory bytes over the copy bandwidth), so the distance to it shows the headroom.",
        "",
        "| target | measured | met | machine limit | from |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows(results)]
    return [*lines, ""]
