"""A text id holding NUL (U+0000) is a 422 on its field, on SQLite and PostgreSQL alike.

Walked on a fresh clone with the feedback store in PostgreSQL: ``POST /feedback`` with
``{"userId": "x\\u0000y", …}`` passed validation and failed in the INSERT ("PostgreSQL text fields cannot
contain NUL (0x00) bytes"): a 500 ``Internal Server Error`` in plain text, which the OpenAPI declares for
no route, and a traceback in the server's log. SQLite stored the id. Every text id (``userId``,
``movieId``, ``exclude``, ``history``) now refuses NUL before anything is stored.
"""

from __future__ import annotations

import uuid

import httpx
from servehelp import API_KEY, Server

_MSG = "an id may not hold the NUL character (U+0000)"


def test_nul_in_an_id_is_a_422_not_a_500(svd_artifact, db_url: str) -> None:
    server = Server(svd_artifact[0], db_url, env={"MOVIEREC_API_KEY": API_KEY}).wait()
    try:
        with httpx.Client(base_url=server.url, timeout=30.0, headers={"X-API-Key": API_KEY}) as client:

            def feedback(user: object, movie: object = 21) -> httpx.Response:
                body = {"userId": user, "movieId": movie, "rating": 4.5, "requestId": uuid.uuid4().hex}
                return client.post("/feedback", json=body)

            for user in ("x\x00y", "\x00", "web-42\x00"):
                resp = feedback(user)
                assert resp.status_code == 422, (user, resp.status_code, resp.text)
                (item,) = resp.json()["detail"]
                assert item["loc"] == ["body", "userId"] and item["msg"] == _MSG, item
            resp = feedback("web-42", "21\x00")
            assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "movieId"], (
                resp.text
            )
            visitor = client.post(
                "/recommendations",
                json={"ratings": [{"movieId": 21, "rating": 5}], "exclude": [1, "a\x00"], "k": 3},
            )
            assert visitor.status_code == 422 and visitor.json()["detail"][0]["loc"] == ["body", "exclude", 1]
            # what ids may hold still passes: text with spaces, accents, punctuation and a tab, integers
            assert feedback("web visitor – Amélie\t1").status_code == 201
            assert feedback(7).status_code == 201
            assert client.get("/readyz").status_code == 200  # the store still answers
        assert "Traceback" not in server.log.read_text(errors="replace")
    finally:
        server.stop()
