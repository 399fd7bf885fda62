"""A folder or file name holding ``[...]`` is printed whole in export's summary (``print_prose`` takes rich
markup, so the user's names in it are escaped; the command's own ``[green]ok[/]`` stays markup).

Before, ``--out 'models[v2]'`` printed ``ok svd exported to models (…)`` and ``--config 'best[svd].toml'``
printed ``params from best.toml: …``: rich took ``[v2]`` and ``[svd]`` for style tags and dropped them
(a bracket holding only digits, ``[1]``, is no tag and was kept). The same escaping is in
``spark train``'s artifact line and ``spark recommend``'s 'wrote … to OUT' line, which need a JVM.
"""

from __future__ import annotations

from pathlib import Path

from clihelp import run_process

ROOT = Path(__file__).resolve().parents[1]
RATINGS = Path(__file__).parent / "fixtures" / "ml-csv" / "ratings.csv"


def test_export_prints_a_bracketed_out_folder_and_config_file_whole(tmp_path: Path) -> None:
    config = tmp_path / "best[svd].toml"
    config.write_text('[[models]]\nname = "svd"\n[models.params]\nn_factors = 8\n', encoding="utf-8")
    out = tmp_path / "models[v2]"
    args = ["export", "--model", "svd", "--ratings", str(RATINGS), "--out", str(out), "--config", str(config)]
    run = run_process(*args, env={"COLUMNS": "400"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert (out / "manifest.json").is_file()  # the folder is named as given
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"ok svd exported to {out} (version "), lines  # '[green]ok[/]': markup still
    assert f"params from {config}: factors=8" in lines, lines


def _movierec(*args: str, cwd: Path) -> list[str]:
    run = run_process(*args, cwd=cwd, env={"COLUMNS": "400"})
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout.splitlines()


def test_compare_and_data_info_print_a_bracketed_output_path_whole(tmp_path: Path) -> None:
    """The same with console.print: compare's 'wrote runs/results.json' for --out 'runs[v2]', data info's
    'histogram written to hist.png' for --plot 'hist[v2].png'. Fails on the old code."""
    lines = _movierec("compare", "--models", "popularity", "--out", "runs[v2]", cwd=tmp_path)
    assert "wrote runs[v2]/results.json" in lines and (tmp_path / "runs[v2]" / "results.json").is_file(), (
        lines
    )
    lines = _movierec("data", "info", "--ratings", str(RATINGS), "--plot", "hist[v2].png", cwd=tmp_path)
    assert "histogram written to hist[v2].png" in lines and (tmp_path / "hist[v2].png").is_file(), lines
