"""``movierec data list|info`` and every bad input, run as a real subprocess: exit 2, one line, no traceback."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from clihelp import run_process

FIX = Path(__file__).resolve().parent / "fixtures"


def run(*args: str, cwd: Path | None = None, data: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_process(*args, cwd=cwd, env={} if data is None else {"MOVIEREC_DATA": str(data)})


def assert_user_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def test_version():
    from movierec import __version__

    v = run("--version")
    assert v.returncode == 0 and v.stdout.strip() == f"movierec {__version__}"


@pytest.mark.parametrize(("args", "needles"), [([], ["data"]), (["data"], ["list", "fetch", "info"])])
def test_help(args, needles):
    h = run(*args, "--help")
    assert h.returncode == 0 and all(n in h.stdout for n in needles)


def test_info_json_on_bundled_data_and_plot(tmp_path):
    png = tmp_path / "hist.png"
    proc = run("data", "info", "--json", "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert (info["n_users"], info["n_items"], info["n_catalog_items"], info["n_ratings"]) == (
        610,
        9_724,
        9_742,
        100_836,
    )
    assert info["density"] == pytest.approx(100_836 / (610 * 9_724))
    assert info["rating_scale"] == [0.5, 5.0] and info["dropped_duplicates"] == 0
    assert info["user_features"] is None  # ml-latest-small has no users table
    # quantiles of counts read as numbers a person writes (q90 was 400.30000000000007)
    assert info["ratings_per_user"]["q90"] == 400.3 and info["ratings_per_item"]["q99"] == 114.54
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2_000


def test_info_table_on_a_dat_folder():
    proc = run("data", "info", "--dataset", str(FIX / "ml-dat"))
    assert proc.returncode == 0, proc.stderr
    assert "users" in proc.stdout and "ratings" in proc.stdout


def test_info_names_the_user_features_where_the_data_has_them():
    """ml-100k's u.user (age, gender, occupation, zip) is what cold-users and warp+demographics read: data
    info says it is there (it said nothing of it)."""
    from datagen import ml100k_path

    path = ml100k_path()
    if path is None:
        pytest.skip("ml-100k not found in ../shared/data or $MOVIEREC_DATA (its terms forbid bundling it)")
    proc = run("data", "info", "--dataset", str(path))
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"user features\s+│\s+age, gender, occupation, zip", proc.stdout), proc.stdout
    info = json.loads(run("data", "info", "--dataset", str(path), "--json").stdout)
    assert info["user_features"] == ["age", "gender", "occupation", "zip"]


def test_info_table_reads_density_as_a_percentage():
    proc = run("data", "info")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"density\s+│\s+1\.70%", proc.stdout), proc.stdout
    # counts as the other rows write them: 'max 2698' stood beside '100,836 ratings'
    assert "min 20 · median 70.5 · p90 400.3 · max 2,698" in proc.stdout, proc.stdout


def test_info_lists_the_genres_genre_takes_with_their_movie_counts():
    """No command listed the genres; ``--genre zzz`` printed all of them in a refusal of 220 columns. data
    info says them, most-rated first, as prose under the table within 80 columns, and in --json."""
    proc = run("data", "info")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    head = lines.index("19 genres (movies rated in each), as --genre takes them:")
    listed = " · ".join(lines[head + 1 :])
    assert listed.startswith("Drama 4,349 · Comedy 3,753 · Thriller 1,889"), listed
    assert listed.endswith("Film-Noir 85"), listed
    assert max(len(line) for line in lines[head:]) <= 80, lines[head:]
    genres = json.loads(run("data", "info", "--json").stdout)["genres"]
    assert len(genres) == 19 and list(genres.values()) == sorted(genres.values(), reverse=True)
    assert listed == " · ".join(f"{g} {n:,}" for g, n in genres.items())


def test_info_artifact_lists_the_genres_its_genre_takes(tmp_path):
    """``recommend --artifact A --genre zzz`` had no command to point to: no command listed an artifact's
    genres. ``data info --artifact A`` says its model, data, users and items, and its genres as ``data info``
    says a dataset's (this one's catalogue is the bundled data's: the same 19, the same counts); the
    options that describe a dataset are refused beside it."""
    import movierec

    movierec.Recommender("ml-latest-small", "popularity").fit().export(tmp_path / "art")
    proc = run("data", "info", "--artifact", "art", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "artifact art" and max(len(line) for line in lines) <= 80, proc.stdout
    for what, value in [("model", "popularity"), ("trained on", "ml-latest-small"), ("items", "9,724")]:
        assert any(re.search(rf"│ {what} +│ +{value} │", line) for line in lines), (what, proc.stdout)
    head = lines.index("19 genres (movies rated in each), as --genre takes them:")
    assert lines[head:] == run("data", "info").stdout.splitlines()[-len(lines[head:]) :]
    info = json.loads(run("data", "info", "-a", "art", "--json", cwd=tmp_path).stdout)
    assert {k: info[k] for k in ("artifact", "model", "dataset", "n_users", "n_items")} == {
        "artifact": "art",
        "model": "popularity",
        "dataset": "ml-latest-small",
        "n_users": 610,
        "n_items": 9724,
    }
    assert info["genres"] == json.loads(run("data", "info", "--json").stdout)["genres"]
    said = assert_user_error(
        run("data", "info", "-a", "art", "--plot", "x.png", "-d", "ml-100k", cwd=tmp_path)
    )
    assert said.endswith(
        "--artifact describes the artifact's own data: leave out --plot, --dataset/--ratings"
    )
    assert not (tmp_path / "x.png").exists()


def test_list_json(tmp_path):
    listed = run("data", "list", "--json", data=tmp_path)
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["ml-latest-small"]["status"] == "bundled" and rows["ml-25m"]["status"] == "not cached"
    assert rows["ml-latest"]["archive_mb"] is None  # size changes over time


def test_list_table_sizes_line_up_on_their_decimal_point(tmp_path):
    """The archive sizes were printed with :g, '1', '4.9', '198.7', '262', right-aligned: the units of 262
    stood under the tenths of 198.7. Each has one decimal now; '?' where the size changes over time."""
    listed = run("data", "list", data=tmp_path)
    assert listed.returncode == 0, listed.stderr
    sizes = {}
    for line in listed.stdout.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 5 and cells[0].startswith("ml-"):
            sizes[cells[0]] = cells[2]
    assert sizes["ml-latest-small"] == "1.0" and sizes["ml-25m"] == "262.0" and sizes["ml-latest"] == "?", (
        sizes
    )
    assert all(re.fullmatch(r"\d+\.\d", v) for k, v in sizes.items() if k != "ml-latest"), sizes


def test_info_custom_ratings_with_columns_and_duplicates():
    proc = run(
        "data", "info", "--json", "--ratings", str(FIX / "custom" / "ratings_strings.csv"),
        "--user-col", "user", "--item-col", "item", "--rating-col", "score", "--time-col", "when",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert (info["n_users"], info["n_items"], info["n_ratings"]) == (3, 3, 4)


def test_info_reports_dropped_duplicates():
    dup = run("data", "info", "--ratings", str(FIX / "bad" / "duplicates.csv"))
    assert dup.returncode == 0, dup.stderr
    assert "dropped 3 duplicate" in dup.stderr and "duplicates dropped" in dup.stdout
    assert dup.stderr.count("dropped 3 duplicate") == 1, dup.stderr  # each note once (it was printed twice)
    assert "kept the latest" in dup.stderr  # this file has timestamps


def test_duplicates_without_times_say_the_last_row_is_kept(tmp_path):
    """Without timestamps 'the latest' has no meaning: the note says the file's last row of each pair is kept."""
    f = tmp_path / "dup.csv"
    f.write_text("userId,movieId,rating\n1,10,4\n1,10,2\n2,11,3\n")
    proc = run("data", "info", "--json", "--ratings", str(f))
    assert proc.returncode == 0, proc.stderr
    assert "kept the last row of each in the file (no times)" in " ".join(proc.stderr.split())
    info = json.loads(proc.stdout)
    # (2 + 3) / 2: the last row's 2 kept
    assert info["dropped_duplicates"] == 1 and info["rating_mean"] == 2.5


BAD = [
    (["--ratings", "bad/empty.csv"], ["empty.csv", "empty"]),
    (["--ratings", "bad/header_only.csv"], ["header_only.csv", "header only"]),
    (["--ratings", "bad/missing_column.csv"], ["missing_column.csv", "'rating'", "--rating-col"]),
    (["--ratings", "bad/misnamed_column.csv"], ["misnamed_column.csv", "'userId'", "--user-col"]),
    (["--ratings", "custom/ratings.tsv", "--user-col", "user"], ["ratings.tsv", "'user'"]),
    (["--ratings", "bad/nonnumeric_rating.csv"], ["nonnumeric_rating.csv, line 3", "'good'"]),
    (["--ratings", "bad/nan_rating.csv"], ["nan_rating.csv, line 4", "missing"]),
    (["--ratings", "bad/inf_rating.csv"], ["inf_rating.csv, line 3", "inf"]),
    (
        ["--ratings", "bad/out_of_scale.csv", "--rating-scale", "0.5", "5"],
        ["out_of_scale.csv, line 4", "outside"],
    ),
    (
        ["--ratings", "ml-csv/ratings.csv", "--rating-scale", "5", "1"],
        ["--rating-scale", "MIN must be below MAX"],
    ),
    (
        ["--ratings", "ml-csv/ratings.csv", "--rating-scale", "nan", "5"],
        ["--rating-scale nan 5: MIN and MAX must be finite numbers"],
    ),
    (
        ["--ratings", "ml-csv/ratings.csv", "--rating-scale", "1", "inf"],
        ["--rating-scale 1 inf: MIN and MAX must be finite numbers"],
    ),
    (["--rating-scale", "3", "3"], ["--rating-scale 3 3 is empty: MIN must be below MAX"]),
    (["--ratings", "bad/negative_timestamp.csv"], ["negative_timestamp.csv, line 3", "negative"]),
    (["--ratings", "bad/bad_timestamp.csv"], ["bad_timestamp.csv, line 3", "'yesterday'"]),
    (["--ratings", "bad/semicolon.csv"], ["semicolon.csv", "';'"]),
    (["--ratings", "bad/latin1.csv"], ["latin1.csv, line 3", "UTF-8"]),
    (["--ratings", "bad/tabs.dat"], ["tabs.dat, line 1", "'::'"]),
    (["--ratings", "bad/short_line.dat"], ["short_line.dat, line 2", "found 3"]),
    (["--ratings", "bad/nope.csv"], ["nope.csv", "no such file"]),
    (["--dataset", "no/such/folder"], ["no/such/folder", "no such dataset"]),
    (["--dataset", "ml-1m"], ["ml-1m", "not in the cache", "data fetch"]),
]


@pytest.mark.parametrize(("args", "needles"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(args, needles, tmp_path):
    proc = run("data", "info", *args, cwd=FIX, data=tmp_path / "cache")
    assert_user_error(proc, *needles)


def test_fetch_unknown_name(tmp_path):
    assert_user_error(run("data", "fetch", "ml-2m", data=tmp_path), "unknown dataset 'ml-2m'")


def test_a_mistyped_size_suggests_the_nearest_releases_not_the_nearest_letters(tmp_path):
    """``data fetch ml-2m`` said "did you mean 'ml-32m'?", the largest release: difflib ties 'ml-2m' with
    'ml-20m' and 'ml-32m' (0.91 each) and the tie went to the later string. A size name is read as a size:
    the same digits with another unit alone, else the release a left-out digit gives, then the nearest in
    size (log scale); any other name by its spelling, as before. Every door says the same (fetch,
    ``--dataset``, ``movierec.load``); nothing is downloaded."""
    from movierec.datasets.registry import closest_datasets

    for typed, meant in [
        ("ml-2m", ["ml-20m", "ml-1m"]),  # a 0 left out, or twice ml-1m (a fifth of ml-10m)
        ("ml-3m", ["ml-32m", "ml-1m"]),
        ("ml-5m", ["ml-10m"]),  # half of ml-10m, five times ml-1m
        ("ml-200k", ["ml-100k"]),
        ("ml-50m", ["ml-32m"]),
        ("ml-1000k", ["ml-1m"]),  # the same size, named in thousands
        ("ml-10", ["ml-10m"]),  # the digits of one release, without its unit
        ("ml-100", ["ml-100k"]),
        ("ml-1k", ["ml-1m"]),  # the unit mistyped
        ("ML_20M", ["ml-20m"]),
        ("movielens-25m", ["ml-25m"]),
        ("ml-latest-smal", ["ml-latest-small"]),  # not a size: by spelling
        ("ml-100k.zip", ["ml-100k"]),
        ("zzz", []),
    ]:
        assert closest_datasets(typed) == meant, typed
    line = assert_user_error(run("data", "fetch", "ml-2m", data=tmp_path), "known: ml-latest-small")
    assert line.startswith(
        "movierec: error: unknown dataset 'ml-2m' (did you mean 'ml-20m' or 'ml-1m'?); "
    ), line
    line = assert_user_error(run("data", "info", "--dataset", "ml-2m", cwd=tmp_path, data=tmp_path / "cache"))
    assert "ml-2m: no such dataset name or folder (did you mean 'ml-20m' or 'ml-1m'?)" in line, line
    assert not list(tmp_path.rglob("ml-*")), list(tmp_path.rglob("*"))  # nothing fetched


def test_a_misspelt_dataset_name_is_answered_with_the_closest_one(tmp_path):
    """``data fetch ml-100`` listed every name without saying which was meant; ``--dataset ml-100`` the same."""
    line = assert_user_error(run("data", "fetch", "ml-100", data=tmp_path), "known: ml-latest-small")
    assert line.startswith("movierec: error: unknown dataset 'ml-100' (did you mean 'ml-100k'?); known: "), (
        line
    )
    line = assert_user_error(
        run("data", "info", "--dataset", "ml-100", cwd=tmp_path, data=tmp_path / "cache")
    )
    assert "ml-100: no such dataset name or folder (did you mean 'ml-100k'?)" in line, line
    far = assert_user_error(run("data", "fetch", "zzz", data=tmp_path), "unknown dataset 'zzz'; known: ")
    assert "did you mean" not in far


def test_a_dataset_name_in_another_case_is_that_dataset_named_as_the_registry_names_it(tmp_path):
    """``data fetch ml-1M`` (GroupLens writes ML-1M) answered "unknown dataset 'ml-1M' (did you mean
    'ml-1m'?)": a name that differs only in case is that dataset, in fetch, ``--dataset``, an experiment
    file and ``movierec.load``, and what follows names it as the registry does."""
    import movierec
    from movierec.experiment import parse_experiment

    broken = tmp_path / "ml-1m.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    proc = run("data", "fetch", "ml-1M", "--path", str(broken), data=tmp_path / "cache")
    assert_user_error(proc, "ml-1m.zip", "checksum mismatch")  # read as ml-1m: its checksum is checked
    bundled = run("data", "fetch", "ML-Latest-Small", data=tmp_path / "cache")
    assert bundled.returncode == 0, bundled.stderr
    assert bundled.stdout.startswith("ml-latest-small is bundled with movierec"), bundled.stdout
    info = run("data", "info", "--dataset", "ML-Latest-Small", "--json", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["dataset"] == "ml-latest-small"
    assert movierec.load("ML-latest-small").name == "ml-latest-small"
    exp = parse_experiment('[dataset]\nname = "ML-Latest-Small"\n[[models]]\nname = "svd"\n')
    assert exp.dataset.name == "ml-latest-small"
    assert_user_error(run("data", "fetch", "ML-2M", data=tmp_path / "cache"), "unknown dataset 'ML-2M'")


def test_fetch_given_a_path_where_the_name_goes_names_the_command_that_takes_it(tmp_path):
    """``data fetch ~/Downloads/ml-1m.zip`` (the archive typed where the name goes) was 'unknown dataset …;
    or give a folder or ratings file by its path (… --ratings FILE in the CLI)', an option fetch has not.
    A file gets the fetch line that takes it as --path; a folder also --dataset, which reads it in place;
    a mistyped name keeps the closest one and the list, without the --ratings advice."""
    archive = tmp_path / "ml-1m.zip"
    archive.write_bytes(b"PK\x03\x04")
    line = assert_user_error(run("data", "fetch", str(archive), data=tmp_path / "cache"))
    assert line.endswith(
        f"{str(archive)!r} is a file, not a dataset name: fetch takes the name, and a download as --path: "
        f"movierec data fetch ml-1m --path {archive}"
    ), line
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    line = assert_user_error(run("data", "fetch", str(folder), data=tmp_path / "cache"))
    assert (
        f"is a folder, not a dataset name: read it where it is with --dataset {folder} (in any command)"
        in line
    )
    assert line.endswith(f"or copy it into the cache with movierec data fetch ml-100k --path {folder}"), line
    line = assert_user_error(run("data", "fetch", "ml-100k.zip", cwd=tmp_path, data=tmp_path / "cache"))
    assert line.startswith(
        "movierec: error: unknown dataset 'ml-100k.zip' (did you mean 'ml-100k'?); known: "
    )
    assert "--ratings" not in line and "movierec.load" not in line, line
    assert not (tmp_path / "cache").exists()  # refused before the cache folder was made


def test_fetch_path_damaged_archive_fails_the_checksum(tmp_path):
    broken = tmp_path / "ml-1m.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    proc = run("data", "fetch", "ml-1m", "--path", str(broken), data=tmp_path / "cache")
    # the registry's md5 is checked before unpacking, so a damaged archive fails as a mismatch
    assert_user_error(proc, "ml-1m.zip", "checksum mismatch")
    assert not (tmp_path / "cache" / "ml-1m").exists()


def test_fetch_path_corrupt_archive_without_checksum(tmp_path):
    broken = tmp_path / "ml-latest.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    proc = run("data", "fetch", "ml-latest", "--path", str(broken), data=tmp_path / "cache")
    assert_user_error(proc, "ml-latest.zip", "truncated or corrupt")
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == []
    # the file is the user's: the advice is to download it again, never to delete it (it said 'delete it')
    assert "delete" not in proc.stderr and "download ml-latest.zip again and give that file" in proc.stderr
    assert broken.read_bytes() == b"PK\x03\x04 this is not really a zip"


def _good_csv(folder: Path) -> Path:
    good = folder / "good.csv"
    good.write_text("userId,movieId,rating\n1,1,4\n1,2,3\n2,1,5\n2,3,2\n3,2,4\n")
    return good


def test_plot_writes_the_format_its_suffix_names_and_never_over_someone_elses_file(tmp_path):
    """``--plot keep.csv`` wrote PNG bytes over an unrelated file (exit 0, no --force) and ``--plot out.pdf``
    wrote PNG bytes into a .pdf; now the suffix picks the format and an existing file is replaced only when
    it is already such an image, or with --force."""
    _good_csv(tmp_path)
    (tmp_path / "keep.csv").write_text("mine\n")
    (tmp_path / "keep.png").write_text("also mine\n")
    info = ("data", "info", "--ratings", "good.csv", "--plot")
    assert_user_error(
        run(*info, "keep.csv", cwd=tmp_path), "--plot keep.csv: .csv is not a chart format", ".pdf"
    )
    assert_user_error(run(*info, "hist", cwd=tmp_path), "--plot hist: no suffix")
    assert_user_error(
        run(*info, "keep.png", cwd=tmp_path), "keep.png already exists and is not a PNG image", "--force"
    )
    assert (tmp_path / "keep.csv").read_text() == "mine\n" and (
        tmp_path / "keep.png"
    ).read_text() == "also mine\n"
    # the suffix picks the format; a chart written before is an image of its format, so again needs no --force
    for name, magic in (
        ("out.pdf", b"%PDF-"),
        ("out.svg", b"<?xml"),
        ("out.png", b"\x89PNG"),
        ("out.png", b"\x89PNG"),
    ):
        proc = run(*info, name, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / name).read_bytes().startswith(magic), name
    forced = run(*info, "keep.png", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "keep.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("cols", "needle"),
    [
        (["--user-col", "movieId"], "'movieId' is both the user and the item column"),
        (
            ["--user-col", "rating", "--rating-col", "rating"],
            "'rating' is both the user and the rating column",
        ),
        (["--rating-col", "movieId"], "'movieId' is both the item and the rating column"),
    ],
)
def test_one_column_named_for_two_roles_is_refused(tmp_path, cols, needle):
    """``--user-col movieId`` read movieId as user and item alike: the ratings collapsed silently (exit 0)."""
    _good_csv(tmp_path)
    proc = run("data", "info", "--ratings", "good.csv", *cols, cwd=tmp_path)
    assert_user_error(proc, "good.csv: user, item and rating columns must be different: " + needle)


def test_info_on_a_log_without_ratings_says_there_is_no_scale(tmp_path):
    """A log loaded with --rating-col '' is every row a 1; data info read 'rating scale 1 – 1 (mean 1.000)',
    a scale and a mean of values that the file never had. It says there are none."""
    f = tmp_path / "views.csv"
    f.write_text("userId,movieId,timestamp\n1,10,100\n1,11,101\n2,10,102\n")
    proc = run("data", "info", "--ratings", str(f), "--rating-col", "")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"rating scale\s+│\s+none: every row is 1 \(interactions only\)", proc.stdout), (
        proc.stdout
    )
    assert "mean 1.000" not in proc.stdout
    assert "0.5 – 5 (mean 3.502)" in run("data", "info").stdout  # a real scale reads as before


def test_info_says_its_sha256_is_of_the_files_bytes(tmp_path):
    """The checksum results and studies record names the ratings file's bytes, so the same ratings saved
    with a BOM and CRLF line ends are another file with another checksum (which a reproducibility record
    should tell apart). The table called it "sha256 (ratings)", which read as a checksum of the ratings
    themselves; it now says what it is of, in the table and in --json."""
    import hashlib

    rows = ["userId,movieId,rating", "1,10,4", "1,20,3", "2,10,5", "2,30,2", "3,20,4"]
    plain, dressed = tmp_path / "plain.csv", tmp_path / "dressed.csv"
    plain.write_bytes(("\n".join(rows) + "\n").encode())
    dressed.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(rows) + "\r\n").encode())
    seen = {}
    for path in (plain, dressed):
        proc = run("data", "info", "--ratings", path.name, "--json", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        info = json.loads(proc.stdout)
        assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert info["sha256_of"] == "the file's bytes" and info["n_ratings"] == 5
        seen[path.name] = info["sha256"]
        table = run("data", "info", "--ratings", path.name, cwd=tmp_path)
        row = next(line for line in table.stdout.splitlines() if "sha256" in line)
        assert f"{info['sha256'][:16]}… of the file's bytes" in row and "(ratings)" not in row, row
    assert seen["plain.csv"] != seen["dressed.csv"]  # the same ratings, another file
    folder = run("data", "info", "--dataset", str(FIX / "ml-dat"))
    assert "… of ratings.dat's bytes" in folder.stdout, folder.stdout


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (2000, "33 minutes"),
        (5400, "1.5 hours"),
        (3600, "1 hour"),
        (20, "under a minute"),
        (2 * 86400, "2 days"),
        (86400 + 8640, "1.1 days"),
        (60 * 86400, "60 days"),
        (91 * 86400, "3 months"),
        (400 * 86400, "1.1 years"),
    ],
)
def test_info_says_a_short_time_span_in_hours_or_minutes(tmp_path, seconds, said):
    """A log of one afternoon read 'time span 1970-01-01 → 1970-01-01 (0.0 days)', and two whole days
    '(2.0 days)'. A span under a day is said in hours or minutes, and a whole number shows no decimals, as a
    count does elsewhere (tables.shown_decimals); from two months on in months, from a year on in years:
    ml-latest-small's '(8,213.8 days)' reads '(22.5 years)'."""
    f = tmp_path / "short.csv"
    f.write_text(f"userId,movieId,rating,timestamp\n1,1,4,1000\n1,2,3,{1000 + seconds}\n2,1,5,1010\n")
    proc = run("data", "info", "--ratings", str(f))
    assert proc.returncode == 0, proc.stderr
    assert re.search(rf"time span\s+│\s+1970-01-0\d → 197\d-\d\d-\d\d \({re.escape(said)}\)", proc.stdout), (
        proc.stdout
    )
    if seconds == 2000:
        assert "(22.5 years)" in run("data", "info").stdout


def test_an_offline_fetch_names_the_url_once_in_what_to_do(tmp_path):
    """``data fetch ml-1m`` on a machine without the network said the URL twice in its one line (409
    columns): 'cannot download ml-1m from URL: host not found …; download URL by hand and …'. It is said
    once, in the hint that says what to do with it; the reason and both ways to fetch the file remain."""
    url = "http://movierec-test.invalid/ml-1m.zip"
    line = assert_user_error(
        run("data", "fetch", "ml-1m", "--url", url, data=tmp_path),
        "movierec: error: cannot download ml-1m: host not found (offline or DNS failure); download ",
        "movierec data fetch ml-1m --path ml-1m.zip",
    )
    assert line.count(url) == 1, line
    assert not (tmp_path / "ml-1m").exists()  # nothing half-installed in the cache


def test_fetch_path_folder_with_another_count_of_ratings_is_refused(tmp_path):
    """``data fetch ml-1m --path folder`` took a folder of 4 ratings as "ok ml-1m ready in …": an archive's md5
    is checked, a folder was not. A release with a fixed checksum now has its ratings counted against the
    registry's (ml-1m: 1,000,209), and a folder that differs is refused in one line, the cache untouched."""
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    (folder / "ratings.dat").write_text(
        "".join(f"{u}::{i}::4::97830076{i}\n" for u in (1, 2) for i in (1, 2))
    )
    (folder / "movies.dat").write_text("1::Toy Story (1995)::Animation\n2::Jumanji (1995)::Adventure\n")
    proc = run("data", "fetch", "ml-1m", "--path", str(folder), data=tmp_path / "cache")
    line = assert_user_error(proc, "ratings.dat: 4 ratings where ml-1m has 1,000,209")
    assert line.endswith("give the downloaded ml-1m.zip or its unzipped folder"), line
    assert not (tmp_path / "cache" / "ml-1m").exists()
