"""Safe by default: nothing in the package deserialises with pickle (artifacts are npz/JSON/Parquet)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "movierec"
FORBIDDEN = re.compile(
    r"pickle\.loads?\(|cPickle|cloudpickle|dill\.loads?\(|joblib\.load\(|allow_pickle\s*=\s*True|torch\.load\(|"
    r"marshal\.loads?\(|shelve\.open\(|yaml\.load\(|yaml\.unsafe_load|pd\.read_pickle|read_pickle\("
)


def test_no_pickle_style_loading_in_the_package() -> None:
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if FORBIDDEN.search(line):
                hits.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert not hits, "unsafe deserialisation:\n" + "\n".join(hits)
    assert len(list(SRC.rglob("*.py"))) > 20  # the walk really saw the package


def test_the_grep_would_catch_it() -> None:
    for bad in (
        "obj = pickle.load(fh)",
        "np.load(p, allow_pickle=True)",
        "torch.load(path)",
        "joblib.load(p)",
    ):
        assert FORBIDDEN.search(bad), bad


def test_every_np_load_in_the_package_refuses_pickles(tmp_path: Path) -> None:
    """np.load calls pass allow_pickle=False (or rely on its False default) and an object array is refused."""
    for path in SRC.rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "np.load(" in line:
                assert "allow_pickle=True" not in line
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):
        np.load(tmp_path / "obj.npy")
