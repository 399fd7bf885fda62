"""free_threads: the thread count a kernel asks for, from the cores other processes leave free."""

from __future__ import annotations

import pytest

from movierec.models.kernels.threads import available_cores, free_threads, others_running


@pytest.mark.parametrize(
    ("text", "others"),
    [
        ("0.52 0.61 0.70 1/389 4242\n", 0),  # only this thread runs: nobody else wants a core
        ("1.90 1.20 0.90 3/412 4242\n", 2),  # two other runnable threads (e.g. two busy loops)
        ("4.10 3.00 2.00 9/500 4242\n", 8),
        ("0.10 0.10 0.10\n", None),  # no R/T field: fall back to the load average alone
        ("", None),
        ("0.1 0.1 0.1 x/y 1\n", None),
    ],
)
def test_others_running_reads_the_runnable_count_less_this_thread(text: str, others: int | None) -> None:
    assert others_running(text) == others


def test_environment_setting_wins_and_limit_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEREC_THREADS", "3")
    assert free_threads() == 3
    assert free_threads(limit=2) == 2
    monkeypatch.setenv("MOVIEREC_THREADS", "1")
    assert free_threads(limit=8) == 1


def test_without_setting_the_answer_is_between_one_and_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOVIEREC_THREADS", raising=False)
    n = free_threads()
    assert 1 <= n <= available_cores()
    assert free_threads(limit=1) == 1
