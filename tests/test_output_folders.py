"""Output folders (issue 23): ``export --force`` deletes only what export wrote; unwritable ``--out`` fails
before any work; ``compare --out`` never overwrites files it did not write."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from movierec.cli import main
from movierec.errors import ConfigError
from movierec.output_folders import check_artifact_target, check_results_target, check_writable, is_artifact

MISSING = "/nonexistent/ratings.csv"  # a later step that would fail: the --out check must come first


def _run(args: list[str], capsys) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_export_force_refuses_a_foreign_folder_and_deletes_nothing(tmp_path: Path, capsys) -> None:
    userdata = tmp_path / "userdata"
    userdata.mkdir()
    (userdata / "precious.txt").write_text("x\n")
    code, err = _run(["export", "--model", "popularity", "--out", str(userdata), "--force"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "movierec did not write" in err and "nothing was deleted" in err
    assert (userdata / "precious.txt").read_text() == "x\n" and sorted(os.listdir(userdata)) == [
        "precious.txt"
    ]
    assert sorted(os.listdir(tmp_path)) == ["userdata"]  # no temporary folder left beside it either


def test_export_force_replaces_only_what_export_wrote(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pop"
    assert _run(["export", "--model", "popularity", "--out", str(out)], capsys)[0] == 0
    assert is_artifact(out)
    assert _run(["export", "--model", "popularity", "--out", str(out), "--force"], capsys)[0] == 0
    (out / "notes.md").write_text("mine")  # someone's file inside the artifact folder
    code, err = _run(["export", "--model", "popularity", "--out", str(out), "--force"], capsys)
    assert code == 2 and err.count("\n") == 1 and "notes.md" in err and (out / "notes.md").exists()


@pytest.mark.parametrize("where", ["/proc/movierec-x", "afile/sub", "afile"])
def test_export_to_unwritable_out_fails_before_loading(tmp_path: Path, where: str, capsys) -> None:
    (tmp_path / "afile").write_text("a file")
    out = where if where.startswith("/") else str(tmp_path / where)
    code, err = _run(["export", "--model", "popularity", "--ratings", MISSING, "--out", out], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "--out" in err and "ratings.csv" not in err, err  # refused before the data was even read


def test_compare_out_refuses_to_overwrite_foreign_files(tmp_path: Path, capsys) -> None:
    (tmp_path / "results.csv").write_text("my own spreadsheet\n")
    args = ["compare", "--models", "popularity", "--ratings", MISSING, "--out", str(tmp_path)]
    code, err = _run(args, capsys)
    assert code == 2 and err.count("\n") == 1 and "would overwrite results.csv" in err, err
    assert (tmp_path / "results.csv").read_text() == "my own spreadsheet\n"


def test_compare_out_rerun_holds_only_what_the_new_run_wrote(tmp_path: Path, capsys) -> None:
    """A rerun that draws fewer charts left the earlier run's ``rmse.png`` beside its own results: the folder
    mixed two runs. Now the earlier charts it does not draw again go; files compare did not write stay."""
    out = tmp_path / "d"
    first = ["compare", "--models", "baseline", "--protocols", "rating,full-ranking", "--out", str(out)]
    assert _run(first, capsys)[0] == 0
    assert sorted(os.listdir(out)) == ["ranking.png", "results.csv", "results.json", "rmse.png"]
    (out / "notes.md").write_text("mine\n")
    again = ["compare", "--models", "popularity", "--protocols", "full-ranking", "--out", str(out)]
    assert _run(again, capsys)[0] == 0
    assert sorted(os.listdir(out)) == [
        "notes.md",
        "ranking.png",
        "results.csv",
        "results.json",
    ]  # nothing hidden
    assert {r["model"] for r in json.loads((out / "results.json").read_text())} == {"popularity"}
    assert (out / "notes.md").read_text() == "mine\n"
    # a file under a chart's name that is not a chart (someone's own) is not deleted
    assert _run(first, capsys)[0] == 0
    (out / "rmse.png").write_text("my notes, not a chart\n")
    assert _run(again, capsys)[0] == 0
    assert (out / "rmse.png").read_text() == "my notes, not a chart\n"


def test_check_results_target_warns_on_a_non_empty_folder(tmp_path: Path) -> None:
    assert check_results_target(tmp_path / "new") is None and not (tmp_path / "new").exists()
    (tmp_path / "thesis.tex").write_text("x")
    warning = check_results_target(tmp_path)
    assert warning is not None and "not empty" in warning and "thesis.tex" in warning
    (tmp_path / "results.json").write_text('[{"model": "svd"}]')  # compare's own earlier results: fine
    (tmp_path / "results.csv").write_text("model\nsvd\n")
    assert "thesis.tex" in str(check_results_target(tmp_path))


def test_library_checks(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        check_writable(tmp_path / "f" / "sub")
    with pytest.raises(ConfigError, match="not writable"):
        check_writable(Path("/proc/movierec-x"))
    check_writable(tmp_path / "a" / "b" / "c")  # creatable: fine, and nothing is created
    assert not (tmp_path / "a").exists()
    with pytest.raises(ConfigError, match="already exists; pass --force"):
        check_artifact_target(tmp_path, force=False)


def test_spark_parquet_overwrite_only_replaces_spark_output(tmp_path: Path) -> None:
    from movierec.output_folders import check_parquet_target

    spark_out = tmp_path / "recs"
    spark_out.mkdir()
    for name in (
        "_SUCCESS",
        "part-00000-abc.snappy.parquet",
        ".part-00000-abc.snappy.parquet.crc",
        "._SUCCESS.crc",
    ):
        (spark_out / name).write_bytes(b"")
    check_parquet_target(spark_out, force=True)
    with pytest.raises(ConfigError, match="already exists; pass --force"):
        check_parquet_target(spark_out, force=False)
    (spark_out / "precious.txt").write_text("x")
    with pytest.raises(ConfigError, match=r"Spark did not write .*precious.txt.*nothing was deleted"):
        check_parquet_target(spark_out, force=True)
    assert (spark_out / "precious.txt").exists()


def test_spark_train_refuses_a_foreign_out_before_spark_starts(tmp_path: Path, capsys) -> None:
    (tmp_path / "precious.txt").write_text("x")
    code, err = _run(["spark", "train", "--out", str(tmp_path), "--force"], capsys)
    assert code == 2 and err.count("\n") == 1 and "movierec did not write" in err, err
    assert (tmp_path / "precious.txt").exists()
    code, err = _run(["spark", "train", "--out", "/proc/movierec-x"], capsys)
    assert code == 2 and "not writable" in err, err
