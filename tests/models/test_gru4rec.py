"""GRU4Rec (Hidasi et al. 2016): contract, sessions cut by a time gap, a planted session order recovered,
both losses, bad parameters, and export/serving like sasrec."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clihelp import run_process
from contract import check_contract
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.gru4rec import GRU4Rec, parse_gap, sessions

pytest.importorskip("torch")

SMALL = {"hidden": 16, "epochs": 2, "n_negatives": 8, "batch_size": 8, "random_state": 0}


def test_contract(tiny: Interactions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = check_contract("gru4rec", tiny, tmp_path, **SMALL)
    assert model.item_embeddings().shape == (tiny.n_items, 16) and model.history_


def test_gap_parsing_and_session_cuts() -> None:
    assert (
        parse_gap("1h") == 3600
        and parse_gap("30min") == 1800
        and parse_gap(90) == 90.0
        and parse_gap(None) is None
    )
    for bad in ("soon", "-1h", 0, True):
        with pytest.raises(ConfigError, match="session_gap"):
            parse_gap(bad)
    items = np.array([1, 2, 3, 4, 5])
    times = np.array([0, 10, 5000, 5010, 20000])
    assert [s.tolist() for s in sessions(items, times, 3600)] == [[1, 2], [3, 4], [5]]
    assert [s.tolist() for s in sessions(items, times, None)] == [[1, 2, 3, 4, 5]]


def planted_order(n_users: int = 60, n_items: int = 20, length: int = 12, seed: int = 0) -> Interactions:
    """Each user walks the cycle 0 → 1 → … → 19 → 0 from a random start, one item a minute; a new
    session (3 hours later) starts elsewhere on the cycle."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        t = 1_000_000
        for _ in range(2):
            start = int(rng.integers(n_items))
            for step in range(length // 2):
                rows.append((u + 1, (start + step) % n_items + 1, 4.0, t))
                t += 60
            t += 3 * 3600
    frame = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    return Interactions.from_frame(frame.drop_duplicates(["userId", "movieId"]), rating_scale=(0.5, 5.0))


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["ce", "bpr-max"])
def test_planted_session_order_is_recovered(loss: str) -> None:
    train = planted_order()
    model = GRU4Rec(
        hidden=32, epochs=25, patience=25, n_negatives=16, batch_size=16, lr=2e-2, dropout=0.0,
        loss=loss, session_gap="1h", random_state=0,
    ).fit(train)  # fmt: skip
    hits = 0
    for item in range(1, 21):
        idx = train.item_map.index([item, item % 20 + 1])
        scores = model.score_new_user(np.array([idx[0]]))
        hits += int(np.argmax(scores) == idx[1])
    assert hits >= 17, f"next item ranked first after {hits} of 20 items"


def test_bad_parameters() -> None:
    with pytest.raises(ConfigError, match="loss"):
        GRU4Rec(loss="top1").fit(planted_order(5))
    with pytest.raises(ConfigError, match="session_gap"):
        GRU4Rec(session_gap="sometimes").fit(planted_order(5))
    with pytest.raises(ConfigError, match="at least one item"):
        GRU4Rec(**SMALL).fit(planted_order(5)).score_new_user(np.array([], dtype=np.int64))


def test_exported_and_served_like_sasrec(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from movierec.datasets import Dataset
    from movierec.serving.artifact import export_artifact, load_artifact

    train = planted_order()
    model = GRU4Rec(hidden=16, epochs=3, n_negatives=8, batch_size=16, random_state=0).fit(train)
    art = load_artifact(export_artifact(model, Dataset("planted", train), train, tmp_path / "g"))
    assert art.sequential
    known = art.recommend_rows(1, k=5)
    want = model.recommend(np.array([0]), k=5)[0][0]
    assert [r["movieId"] for r in known] == [int(train.item_map.ids[i]) for i in want]
    recs = art.recommend_for_history([3, 4, 5], k=20).to_dict("records")
    scores = model.score_new_user(train.item_map.index([3, 4, 5]))
    for r in recs:
        assert abs(r["score"] - scores[train.item_map.index(r["movieId"])]) < 1e-4


def test_next_item_in_session_protocol() -> None:
    from movierec.session_eval import next_item_in_session, session_split

    inter = planted_order(30)
    train, cases = session_split(inter, "1h")
    assert len(cases) >= 25 and all(len(items) >= 2 for _, items in cases)  # revisits were dropped
    assert train.n_ratings + sum(len(items) for _, items in cases) == inter.n_ratings
    rows = next_item_in_session(
        inter,
        [
            ("popularity", {}),
            ("markov", {}),
            ("gru4rec", {**SMALL, "epochs": 8, "lr": 2e-2, "session_gap": "1h"}),
        ],
        gap="1h",
        k=1,
    )
    by = {r["model"]: r for r in rows}
    assert by["markov"]["hr@1"] > 0.9  # the cycle is first-order: markov reads it off
    assert by["gru4rec"]["hr@1"] > by["popularity"]["hr@1"]
    lo, hi = by["markov"]["hr@1 ci"]
    assert lo <= by["markov"]["hr@1"] <= hi


def test_compare_session_gap_option_is_checked(capsys) -> None:  # type: ignore[no-untyped-def]
    from movierec.cli import main

    for args, needle in [
        (["--models", "markov", "--session-gap", "1h"], "none of markov reads sessions"),
        (["--models", "gru4rec", "--session-gap", "soon"], "--session-gap must be"),
    ]:
        with pytest.raises(SystemExit) as info:
            main(["compare", *args, "--protocols", "leave-last-out"])
        assert info.value.code == 2 and needle in capsys.readouterr().err


def test_compare_next_item_in_session_protocol_through_the_cli(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """``compare --protocols next-item-in-session`` picks the last-session split, rows carry intervals,
    and the results table lists the protocol; a mismatched split is one line and exit 2."""
    from movierec.cli import main

    path = tmp_path / "ratings.csv"
    planted_order(30).to_frame()[["userId", "movieId", "rating", "timestamp"]].to_csv(path, index=False)
    args = ["compare", "--ratings", str(path), "--protocols", "next-item-in-session", "--k", "1"]
    with pytest.raises(SystemExit) as info:
        main([*args, "--models", "popularity,markov", "--json", "--out", str(tmp_path / "out")])
    assert info.value.code in (0, None)
    rows = json.loads(capsys.readouterr().out)
    by = {r["model"]: r for r in rows}
    assert {r["protocol"] for r in rows} == {"next-item-in-session"}
    assert by["markov"]["hit_rate@1"] > 0.9 > 0.3 > by["popularity"]["hit_rate@1"]  # the cycle is first-order
    lo, hi = by["markov"]["intervals"]["hit_rate@1"]
    assert lo <= by["markov"]["hit_rate@1"] <= hi and by["markov"]["n_users"] >= 25
    assert "last-session" in by["markov"]["split"]
    table = (tmp_path / "out" / "results.csv").read_text()
    assert "next-item-in-session" in table and "mrr@1" in table
    with pytest.raises(SystemExit) as info:
        main([*args, "--models", "markov", "--split", "leave-last-out"])
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2 and len(err) == 1 and "last-session" in err[0]


def test_compare_says_why_next_item_in_session_counts_fewer_users(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``compare --protocols next-item-in-session`` on ml-latest-small scored 277 of 610 users and nothing on
    screen said why: the other 333 have their latest session of ≥ 2 ratings (ratings at most 1h apart) as their
    first, with nothing before it to train on. The note says it, by reason, as other protocols' 'users:' note."""

    from movierec.session_eval import users_left_out

    hour = 3600
    frame = pd.DataFrame(
        [
            (1, 10, 4.0, 0), (1, 20, 4.0, 60),  # two ratings: too few
            (2, 10, 4.0, 0), (2, 20, 4.0, 2 * hour), (2, 30, 4.0, 4 * hour),  # never two within the gap
            (3, 10, 4.0, 0), (3, 20, 4.0, 60), (3, 30, 4.0, 120),  # one sitting: nothing before it
            (4, 10, 4.0, 0), (4, 20, 4.0, 5 * hour), (4, 30, 4.0, 5 * hour + 60),  # tested
        ],
        columns=["userId", "movieId", "rating", "timestamp"],
    )  # fmt: skip
    inter = Interactions.from_frame(frame)
    assert users_left_out(inter, "1h") == {"few": 1, "none": 1, "first": 1}
    done = run_process(
        "compare",
        "--models",
        "popularity",
        "--protocols",
        "next-item-in-session",
        cwd=tmp_path,
        inherit_columns=True,
    )
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert (
        "users: next-item-in-session 277 of 610: it tests each user's latest session of ≥ 2 ratings (a session "
        "ends where ratings are over 1h apart) after earlier ratings; for 333 it is their first (no rating "
        "before it to train on)"
    ) in said, said


def test_stop_reason_says_what_ended_training_and_compare_notes_the_clock(tiny: Interactions) -> None:
    """``stop_reason_`` says why training ended, as sasrec's does: "epochs" after the last, "time budget" when
    another epoch would overrun it. compare then notes the clock beside the figures (gru4rec's budget ended
    training without a word before: the note read sasrec's stop_reason_ only)."""
    import movierec

    full = GRU4Rec(**SMALL).fit(tiny)
    assert full.stop_reason_ == "epochs" and len(full.history_) == 2
    cut = GRU4Rec(**{**SMALL, "epochs": 5, "time_budget": 1e-6}).fit(tiny)
    assert cut.stop_reason_ == "time budget" and len(cut.history_) == 1
    comp = movierec.compare(
        movierec.load(tiny.to_frame()),
        [("gru4rec", {**SMALL, "epochs": 5, "time_budget": 1e-6})],
        protocols="leave-last-out",
    )
    said = " ".join(str(note) for note in comp.notes)
    assert "gru4rec stopped at its 1e-06 s time budget after 1 of 5 epochs, before it converged" in said, said


def test_a_time_budget_under_early_stopping_is_one_fit_and_noted(tiny: Interactions) -> None:
    """compare's early stopping refits a model at its best epoch (a second fit), but gru4rec and sasrec
    stop by themselves (each user's latest training item, ``patience``) and ``can_stop_early`` keeps them
    out of that path: under ``early_stopping=`` a tiny ``time_budget`` still ends their one fit, the
    budget note still stands beside the figures, and the stopping note says how they stopped. It said
    they "cannot stop between epochs (no epochs, or a loop another library runs)": neither is so."""
    import movierec

    events: list[dict[str, object]] = []
    comp = movierec.compare(
        movierec.load(tiny.to_frame()),
        ["popularity", ("gru4rec", {**SMALL, "epochs": 5, "time_budget": 1e-6})],
        protocols="full-ranking",
        early_stopping="ndcg@10",
        progress=events.append,
    )
    fits = [e for e in events if e["model"] == "gru4rec" and str(e["event"]).startswith("fit-")]
    assert [(e["event"], e.get("stopped"), e.get("epochs_run")) for e in fits] == [
        ("fit-start", None, None),
        ("fit-end", "time budget", 1),
    ]  # one fit, ended by the clock after its first epoch: no refit with another budget of its own
    said = " ".join(str(note) for note in comp.notes)
    assert "gru4rec stopped at its 1e-06 s time budget after 1 of 5 epochs, before it converged" in said, said
    assert (
        "; gru4rec stops by itself (on each user's latest training item; patience=1) and trained once, as "
        "without it; popularity cannot stop between epochs (no epochs, or a loop another library runs) and "
        "trained as without it"
    ) in said, said
    assert comp.rows[-1].best_epoch is None  # no early-stopping figures for a model that stopped itself
