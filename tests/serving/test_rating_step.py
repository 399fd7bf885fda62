"""The rating step: export records the grid the data's ratings lie on, and POST /feedback keeps to it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from servehelp import Server, fit, movies_dataset

from movierec.datasets import Dataset
from movierec.interactions import Interactions, rating_step
from movierec.serving.artifact import export_artifact, load_artifact


@pytest.mark.parametrize(
    ("ratings", "scale", "step"),
    [
        ([0.5, 1.0, 3.5, 5.0], (0.5, 5.0), 0.5),  # ml-latest-small's half stars
        ([1, 2, 3, 4, 5], (1.0, 5.0), 1.0),  # ml-100k's whole stars
        ([1, 5, 10], (1.0, 10.0), 1.0),  # 1..10 in whole steps: 9 is the width, so 1
        ([0.1, 3.7], (0.0, 5.0), 0.1),  # float32 3.7 is 3.7000000477: read as 37/10
        ([1.0], (1.0, 1.0), None),  # implicit data: no width, no grid
        ([1.37, 2.0], (1.0, 10.0), None),  # 0.01 steps over 1..10: 900 levels, read as continuous
        ([np.pi, 2.0], (1.0, 5.0), None),  # no fraction with a small denominator
    ],
)
def test_rating_step_is_the_grid_of_the_ratings(
    ratings: list[float], scale: tuple, step: float | None
) -> None:
    got = rating_step(np.asarray(ratings, dtype=np.float32), scale)
    assert got == (None if step is None else pytest.approx(step))


def _whole_stars_1_to_10() -> Dataset:
    """The serving fixture's movies with every half-star rating doubled: whole ratings 1..10 (step 1)."""
    ds = movies_dataset()
    frame = ds.interactions.to_frame(raw_ids=True)
    frame["rating"] = frame["rating"] * 2
    inter = Interactions.from_frame(frame, time_col="timestamp", rating_scale=(1.0, 10.0))
    return Dataset("tiny-movies-10", inter, ds.movies, None, "1" * 64, "in-code", [])


@pytest.fixture(scope="module")
def ten_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ds = _whole_stars_1_to_10()
    model, train = fit("svd", ds, n_factors=4, n_epochs=5, random_state=0)
    return export_artifact(model, ds, train, tmp_path_factory.mktemp("art10") / "svd10")


def test_export_records_the_step_and_an_old_artifact_takes_any_rating(
    ten_artifact: Path, tmp_path: Path
) -> None:
    """A 1..10 whole-star artifact records step 1 and refuses 3.5 (the page's old rounding sent it); the same
    artifact with ``rating_step`` removed (exported before it was recorded, resealed) serves, says null, and
    stores 3.5 as every server did before."""
    from test_validate import reseal

    assert json.loads((ten_artifact / "manifest.json").read_text())["rating_step"] == 1.0
    art = load_artifact(ten_artifact)
    assert art.rating_step == 1.0 and art.rating_levels() == "1, 2, 3, …, 10 (steps of 1)"
    old = tmp_path / "old"
    shutil.copytree(ten_artifact, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["rating_step"]
    (old / "manifest.json").write_text(json.dumps(manifest, indent=2))
    reseal(old)
    assert load_artifact(old).rating_step is None
    for root, status in ((ten_artifact, 422), (old, 201)):
        srv = Server(root, f"sqlite:///{tmp_path / (root.name + '.db')}").wait()
        try:
            health = httpx.get(srv.url + "/health").json()
            assert health["ratingStep"] == (1.0 if status == 422 else None)
            body = {"userId": "7", "movieId": 21, "rating": 3.5, "requestId": f"r-{root.name}"}
            resp = httpx.post(srv.url + "/feedback", json=body)
            assert resp.status_code == status, resp.text
            if status == 422:
                assert resp.json()["detail"][0]["msg"] == "rating must be one of 1, 2, 3, …, 10 (steps of 1)"
            assert (
                httpx.post(srv.url + "/feedback", json={**body, "rating": 4, "requestId": "w"}).status_code
                == 201
            )
        finally:
            srv.stop()


def test_a_bad_rating_step_in_the_manifest_is_refused(ten_artifact: Path, tmp_path: Path) -> None:
    from test_validate import reseal

    from movierec.errors import ArtifactError

    bad = tmp_path / "bad"
    shutil.copytree(ten_artifact, bad)
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["rating_step"] = -0.5
    (bad / "manifest.json").write_text(json.dumps(manifest, indent=2))
    reseal(bad)
    with pytest.raises(ArtifactError, match=r"rating_step must be a number > 0 or null, got -0\.5"):
        load_artifact(bad)


def test_a_visitors_rating_between_two_steps_is_refused_as_feedback_refuses_it(server) -> None:
    """POST /recommendations took 3.7 on half stars for a visitor's rating (and ranked by it) while POST
    /feedback refused it: both are now the same 422, at the rating's place in the body, naming the allowed
    steps, with a body the OpenAPI schema declares for a 422 (checked by schemathesis against /openapi.json)."""
    import schemathesis
    from schemathesis.checks import response_schema_conformance, status_code_conformance
    from servehelp import API_KEY

    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    recs_op, feedback_op = schema["/recommendations"]["POST"], schema["/feedback"]["POST"]
    checks = (status_code_conformance, response_schema_conformance)
    steps = "rating must be one of 0.5, 1, 1.5, …, 5 (steps of 0.5)"
    for rating, msg in ((3.7, steps), (4.25, steps), (0.7, steps), (5.5, "rating must be within 0.5..5")):
        case = recs_op.Case(
            body={"ratings": [{"movieId": 21, "rating": 5.0}, {"movieId": 31, "rating": rating}]}
        )
        resp = case.call(timeout=15)
        case.validate_response(resp, checks=checks)
        assert resp.status_code == 422, resp.text
        assert resp.json()["detail"] == [
            {"type": "value_error", "loc": ["body", "ratings", 1, "rating"], "msg": msg, "input": rating}
        ]
        body = {"userId": "7", "movieId": 31, "rating": rating, "requestId": f"step-{rating}"}
        fb = feedback_op.Case(body=body)
        fresp = fb.call(headers={"X-API-Key": API_KEY}, timeout=15)
        fb.validate_response(fresp, checks=checks)
        assert fresp.status_code == 422 and fresp.json()["detail"][0]["msg"] == msg, fresp.text
    ok = httpx.post(
        server.url + "/recommendations",
        json={"ratings": [{"movieId": 21, "rating": 5.0}, {"movieId": 31, "rating": 3.5}], "k": 3},
    )
    assert ok.status_code == 200 and len(ok.json()["recommendations"]) == 3, ok.text


def test_the_clis_rated_refuses_what_the_api_refuses_in_its_words(server, svd_artifact) -> None:
    """``recommend --artifact … --rated 'MOVIE=3.7'`` on a half-star artifact printed a list (exit 0) while
    POST /recommendations and POST /feedback refused 3.7. Both now take one check
    (:func:`movierec.interactions.refused_rating`): for each rating the CLI's one line ends with the API's
    own message, exit 2; an on-step rating still lists."""
    from clihelp import run_process

    root = svd_artifact[0]
    for rating in (3.7, 4.25, 5.5):
        resp = httpx.post(
            server.url + "/recommendations", json={"ratings": [{"movieId": 31, "rating": rating}]}
        )
        assert resp.status_code == 422, resp.text
        msg = resp.json()["detail"][0]["msg"]
        proc = run_process("recommend", "--artifact", str(root), "--rated", f"31={rating:g}", cwd=root.parent)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].endswith(f"): {msg}"), proc.stderr
        assert lines[0].startswith(f"movierec: error: --rated '31={rating:g}' (")
    proc = run_process("recommend", "--artifact", str(root), "--rated", "31=3.5", "--json", cwd=root.parent)
    assert proc.returncode == 0 and json.loads(proc.stdout), proc.stderr
