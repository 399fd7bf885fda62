"""The report page says how to serve its best ranker, and the commands it shows run as printed.

The page's only word on it was the footer's ``movierec export --config best.toml`` "serves it": run as
printed that ends in "missing option '--out'" (exit 2), export does not serve, and best.toml sits in the
report's folder, not where the user runs commands (h128's fresh-clone walk of ``make demo``). A real
``movierec report`` with a relative ``--out`` (as ``make demo``'s ``reports/demo``; run in this process from
the working folder by ``clihelp.run_process``), the page in Debian's headless Chromium at 375 px (never
``playwright install``), the commands run by bash as shown, each its own ``movierec`` process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clihelp import run_process

#: one worker under make test's ``pytest -n 3 --dist loadgroup``: the module's Chromium (conftest's browser
#: fixture) is launched once, not once on each worker a test was sent to
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("report_serve_box")]

BIN = Path(sys.executable).parent


def _as_printed(
    command: str, cwd: Path, timeout: int = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``command`` run by bash in ``cwd`` as a person pastes it from the page, this venv's movierec first on
    PATH (or ``env``'s PATH: ``/usr/bin:/bin`` is a shell the venv is not on), at 80 columns."""
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, "COLUMNS": "80", **(env or {})}
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def relative_report(movielens_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``movierec report --out reports/demo`` run from a fresh folder (the working folder of the commands)."""
    work = tmp_path_factory.mktemp("work")
    # popularity and ease, the smallest set with a ranker to serve (ease), as the test below: the box, its
    # commands and the folder they run from are the same for any best ranker; reporthelp's four models
    # (svd, bpr, ease, warp+genres+tags) cost this test about 3 CPU-s more for the same checks
    args = ["report", "--dataset", str(movielens_dir), "--models", "popularity,ease"]
    args += ["--out", "reports/demo", "--projection", "pca", "--seed", "7"]
    done = run_process(*args, cwd=work)
    assert done.returncode == 0, done.stderr
    return work


def test_serve_box_fits_a_phone_and_its_commands_run_as_printed(browser, relative_report: Path) -> None:  # type: ignore[no-untyped-def]
    work = relative_report
    page = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=1)
    page.goto((work / "reports/demo/index.html").resolve().as_uri())
    box = page.locator("#serve-best")
    assert box.is_visible()
    text = box.inner_text()
    assert "the best ranker here" in text and "from the folder that holds reports/demo" in text, text
    assert "movierec[serve]" in text or "[serve]'" in text, text
    assert "export trains it with best.toml's settings on all of the report's data" in text, text
    shown = page.locator("#serve-best pre.cmd").inner_text()
    widths = page.evaluate(
        "(() => { const p = document.querySelector('#serve-best pre.cmd');"
        " return [document.documentElement.scrollWidth, p.getBoundingClientRect().right]; })()"
    )
    assert widths[0] <= 375 and widths[1] <= 375, widths  # the commands scroll in their box, not the page
    # the footer points to the box, not to a command that cannot run as printed
    footer = page.locator("footer").inner_text()
    assert "movierec export --config best.toml" not in footer, footer
    assert page.locator("footer a[href='#serve-best']").count() == 1
    page.close()

    # one command, a step a line joined by the shell's continuation: export exactly as printed, then serve's
    # own --check (load and verify the artifact as serve does, never bind a port) on the folder it names
    line = shown.replace(" \\\n", " ")
    *activate, export, serve = (part.strip() for part in line.split("&&"))
    assert export.startswith("movierec export --config reports/demo/best.toml --out artifacts/"), shown
    assert serve.startswith("movierec serve --artifact artifacts/"), shown
    if activate:  # a shell the venv is not on (make test's, make demo's): the block activates it first
        assert activate == [f"source {BIN / 'activate'}"], shown
        done = _as_printed(f"{activate[0]} && {export}", work, env={"PATH": "/usr/bin:/bin"})
    else:
        done = _as_printed(export, work)
    assert done.returncode == 0, (export, done.stdout, done.stderr)
    checked = _as_printed(f"{serve} --check", work, timeout=300)
    assert checked.returncode == 0, (serve, checked.stdout, checked.stderr)
    assert "ok" in checked.stdout, checked.stdout


def test_serve_box_of_a_report_written_into_its_own_folder(
    browser, movielens_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """``report --out .`` (an empty folder): best.toml is ``best.toml``, so the box says to run the commands
    from the report's own folder (it said "the folder that holds ."), and export runs there as printed."""
    args = ["report", "--dataset", str(movielens_dir), "--models", "popularity,ease"]
    done = run_process(*args, "--out", ".", "--projection", "pca", "--seed", "7", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=1)
    page.goto((tmp_path / "index.html").resolve().as_uri())
    text = page.locator("#serve-best").inner_text()
    assert "from this report's own folder, run" in text and "holds ." not in text, text
    parts = page.locator("#serve-best pre.cmd").inner_text().replace(" \\\n", " ").split("&&")
    export = next(p.strip() for p in parts if not p.strip().startswith("source "))
    page.close()
    assert export == "movierec export --config best.toml --out artifacts/ease", export
    ran = _as_printed(export, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "artifacts" / "ease" / "manifest.json").is_file()
