"""Each door names its own fix: a refusal reached from Python and from the CLI gives each reader the
syntax they can type. ``movierec export -m pop`` told a shell user to write
``Recommender(ds, 'popularity', threshold=0.5)``, and ``Recommender(ds, "svd", factrs=3)`` told a notebook
to run ``movierec models svd``.

Such a refusal is raised as a :class:`movierec.errors.Doors` message: the ConfigError's text is Python's
words, and the CLI prints ``in_cli()``. Each case runs the same mistake through both doors and pins the
whole line of each. None of these refusals is reachable from the HTTP API, which takes no model, split or
protocol names."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import movierec
from clihelp import run_cli
from movierec.cold_users import cold_users
from movierec.datasets.fetch import fetch
from movierec.errors import ArtifactError, ConfigError, DataError, Doors, MovierecError, framed
from movierec.serving.pipeline import train_and_export

#: the CLI's one line is at most two rows of an 80-column terminal (test_cli_hardening's TWO_ROWS)
TWO_ROWS = 160

# (the mistake in Python, the same one in the CLI, Python's whole message, the CLI's after 'movierec: error: ')
CASES = [
    pytest.param(
        lambda ds: movierec.Recommender(ds, "pop"),
        ["export", "-m", "pop", "--out", "art"],
        "unknown model 'pop': LensKit's PopScorer is popularity here, which counts ratings ≥ the threshold: "
        "Recommender(ds, 'popularity', threshold=0.5) counts every rating, as PopScorer does",
        "unknown model 'pop': LensKit's PopScorer is popularity here; --implicit-threshold 0.5 makes it count "
        "every rating, as PopScorer does",
        id="lenskit-popscorer",
    ),
    pytest.param(
        lambda ds: movierec.compare(ds, ["bias"], progress=False),
        ["compare", "--models", "bias"],
        "unknown model 'bias': LensKit's BiasScorer is baseline here: BiasScorer(damping=d) is "
        "baseline(reg_i=d, reg_u=d, epochs=1)",
        "unknown model 'bias': LensKit's BiasScorer is baseline here: BiasScorer(damping=d) is baseline "
        "with --params reg_i=d,reg_u=d,epochs=1",
        id="lenskit-biasscorer",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "popularity", score="count"),
        ["export", "-m", "popularity", "-p", "score=count", "--out", "art"],
        "popularity has no 'score': LensKit's PopScorer(score='quantile', 'rank' or 'count') ranks movies "
        "alike in all three; popularity ranks by the count of positives (ratings ≥ the threshold; "
        "threshold=0.5 in Recommender counts every rating, as PopScorer does)",
        "popularity has no 'score': LensKit's PopScorer ranks alike by any score; --implicit-threshold 0.5 "
        "counts every rating, as PopScorer does",
        id="popscorer-score",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "baseline", damping=5),
        ["export", "-m", "baseline", "-p", "damping=5", "--out", "art"],
        "baseline has no 'damping': LensKit's BiasScorer(damping=d) is baseline(reg_i=d, reg_u=d, epochs=1): "
        "one sweep, item biases then user biases, each sum of residuals over its count plus d (a damping "
        "dict: reg_i= its 'item', reg_u= its 'user')",
        "baseline has no 'damping': LensKit's BiasScorer(damping=d) is baseline with --params "
        "reg_i=d,reg_u=d,epochs=1 (one sweep)",
        id="biasscorer-damping",
    ),
    pytest.param(  # a LightFM notebook's loss= (tune's loss switches models; nothing else took it)
        lambda ds: movierec.Recommender(ds, "warp", loss="bpr"),
        ["export", "-m", "warp", "-p", "loss=bpr", "--out", "art"],
        "warp has no 'loss': LightFM's loss is the model here: LightFM(loss='bpr') is Recommender(ds, 'bpr'), "
        "and 'warp', 'logistic', 'warp-kos' likewise (tune searches loss among them)",
        "warp has no 'loss': LightFM's loss is the model here: loss='bpr' is --model bpr (and warp, logistic, "
        "warp-kos)",
        id="lightfm-loss",
    ),
    pytest.param(  # was 483 characters in the CLI (seven rows): why a factor model cannot, and all 8 that can
        lambda ds: movierec.Recommender(ds, "svd", epochs=1).fit().recommend(1, explain=True),
        ["recommend", "--user", "1", "--model", "svd", "--explain"],
        "explain: svd cannot say which of the user's movies led to each recommendation; use "
        "Recommender(ds, 'ease') or 'knn-baseline', or recommend_for(ratings, explain=True)",
        "explain: svd cannot say which of the user's movies led to each recommendation; use -m ease or "
        "knn-baseline, or --rated",
        id="explain-a-known-users-factor-model",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "svd+genres"),
        ["export", "-m", "svd+genres", "--out", "art"],
        "unknown model 'svd+genres': give the model and its features apart, 'svd' with item_features='genres' "
        "(NAME+feature is the report's form)",
        "unknown model 'svd+genres': give the model and its features apart, svd with --item-features genres "
        "(NAME+feature is the report's form)",
        id="name-plus-feature",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "svd,ease"),
        ["export", "-m", "svd,ease", "--out", "art"],
        "'svd,ease' names 2 models where one goes: run it once per model ('svd' and 'ease'), or compare them "
        "side by side (compare(ds, ['svd', 'ease']))",
        "'svd,ease' names 2 models where one goes: run it once per model ('svd' and 'ease'), or compare them "
        "side by side (compare --models svd,ease)",
        id="two-models-where-one-goes",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "eas"),
        ["recommend", "-m", "eas", "--user", "1"],
        "unknown model 'eas' (did you mean 'ease'?); all 52 models: movierec.models.available()",
        "unknown model 'eas' (did you mean 'ease'?); all 52 models: movierec models",
        id="unknown-model",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "svd", factrs=3),
        ["compare", "--models", "svd", "--params", "svd.factrs=3"],
        "svd has no hyperparameter 'factrs' (did you mean 'factors'?); all 11: "
        'movierec.models.create("svd").get_params()',
        "svd has no hyperparameter 'factrs' (did you mean 'factors'?); all 11: movierec models svd",
        id="unknown-hyperparameter",
    ),
    pytest.param(
        lambda ds: movierec.compare(ds, ["svd"], split="tempral", progress=False),
        ["compare", "--models", "svd", "--split", "tempral"],
        "unknown split 'tempral' (did you mean 'temporal'?); all 15: movierec.evaluation.SPLITS",
        "unknown split 'tempral' (did you mean 'temporal'?); all 15: movierec compare --help",
        id="unknown-split",
    ),
    pytest.param(
        lambda ds: movierec.compare(ds, ["svd"], protocols="ful-ranking", progress=False),
        ["compare", "--models", "svd", "--protocols", "ful-ranking"],
        "unknown protocol 'ful-ranking' (did you mean 'full-ranking'?); all 6: movierec.evaluation.PROTOCOLS",
        "unknown protocol 'ful-ranking' (did you mean 'full-ranking'?); all 6: movierec compare --help",
        id="unknown-protocol",
    ),
    pytest.param(
        lambda ds: movierec.tune(ds, "sasrec"),
        ["tune", "-m", "sasrec"],
        "model 'sasrec' has no search space to tune; 24 models have one, e.g. ease, als, itemknn "
        "(movierec.tuning.search_spaces() holds them)",
        "model 'sasrec' has no search space to tune; 24 models have one, e.g. ease, als, itemknn "
        "(movierec models NAME shows it)",
        id="no-search-space",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "ease", threshold=9).fit(),
        ["export", "-m", "ease", "--implicit-threshold", "9", "--out", "art"],
        "implicit threshold 9 leaves no positives (ratings range 0.5..5); lower it: threshold=5, the highest "
        "rating, counts 13% of them",
        "implicit threshold 9 leaves no positives (ratings range 0.5..5); lower it: --implicit-threshold 5, the "
        "highest rating, counts 13% of them",
        id="threshold-above-every-rating",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "ease", threshold=float("nan")),
        ["export", "-m", "ease", "--implicit-threshold", "nan", "--out", "art"],
        "the implicit threshold must be a finite number, got threshold=nan",
        "the implicit threshold must be a finite number, got --implicit-threshold nan",
        id="threshold-not-a-number",
    ),
    pytest.param(
        lambda ds: movierec.load_artifact("art"),
        ["recommend", "--artifact", "art", "--user", "1"],
        "art: no such artifact folder (create one with rec.export('art') on a fitted movierec.Recommender)",
        "art: no such artifact folder (create one with 'movierec export')",
        id="no-such-artifact",
    ),
    pytest.param(
        lambda ds: movierec.load("ml-10"),
        ["data", "info", "--dataset", "ml-10"],
        "ml-10: no such dataset name or folder (did you mean 'ml-10m'?); all 8: movierec.datasets.REGISTRY",
        "ml-10: no such dataset name or folder (did you mean 'ml-10m'?); all 8: movierec data list",
        id="unknown-dataset",
    ),
    # these named both doors in one line: "20000 (k= in Python, --k in the CLI) is larger than …"
    pytest.param(
        lambda ds: movierec.compare(ds, ["popularity"], k=20000, progress=False),
        ["compare", "-m", "popularity", "--k", "20000"],
        "k=20000 is larger than the catalogue (9,724 items): use k=9724 or fewer",
        "--k 20000 is larger than the catalogue (9,724 items): use --k 9724 or fewer",
        id="k-past-the-catalogue",
    ),
    pytest.param(
        lambda ds: cold_users(ds, "popularity", k=20000),
        ["cold-users", "-m", "popularity", "--k", "20000"],
        "k=20000 is larger than the catalogue (9,724 items): use k=9724 or fewer",
        "--k 20000 is larger than the catalogue (9,724 items): use --k 9724 or fewer",
        id="cold-users-k-past-the-catalogue",
    ),
    pytest.param(
        lambda ds: movierec.make_split(ds, "ratings-holdout", test_size=200000),
        ["compare", "-m", "svd", "--split", "ratings-holdout", "--test-size", "200000"],
        "test_size=200000 must hold out at least 1 and fewer than all 100,836 ratings",
        "--test-size 200000 must hold out at least 1 and fewer than all 100,836 ratings",
        id="test-size-count-past-the-data",
    ),
    pytest.param(
        lambda ds: movierec.compare(ds, ["popularity"], protocols="rating", auc=True, progress=False),
        ["compare", "-m", "popularity", "--protocols", "rating", "--auc"],
        "AUC (auc=True) measures the full ranking; add full-ranking to the protocols",
        "AUC (--auc) measures the full ranking; add full-ranking to the protocols",
        id="auc-without-full-ranking",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "bpr", user_features="demographics").fit(),
        ["export", "-m", "bpr", "--user-features", "demographics", "--out", "art"],
        "dataset 'ml-latest-small' has no user demographics (ml-100k and ml-1m have them); give a "
        "userId,feature[,weight] CSV (user_features='FILE.csv')",
        "dataset 'ml-latest-small' has no user demographics (ml-100k and ml-1m have them); give a "
        "userId,feature[,weight] CSV (--user-features FILE.csv)",
        id="no-demographics",
    ),
    pytest.param(
        lambda ds: movierec.Recommender(ds, "bpr", user_features="a.csv,b.csv").fit(),
        ["export", "-m", "bpr", "--user-features", "a.csv,b.csv", "--out", "art"],
        "user features (user_features=) take 'demographics', a file, or 'demographics,FILE.csv'; got 'a.csv,b.csv'",
        "user features (--user-features) take 'demographics', a file, or 'demographics,FILE.csv'; got "
        "'a.csv,b.csv'",
        id="user-features-two-files",
    ),
    pytest.param(  # was 220 characters in the CLI, with the warning's "its top-N lists would be worse than …"
        lambda ds: train_and_export(ds, "sequential-popularity", {}, "art"),
        ["export", "-m", "sequential-popularity", "--out", "art"],
        "sequential-popularity ranks below popularity on the leave-last-out split (ndcg@10 0.005 vs 0.019): "
        "not exported; allow_weak=True exports it anyway",
        "sequential-popularity ranks below popularity on the leave-last-out split (ndcg@10 0.005 vs 0.019): "
        "not exported; --allow-weak exports it anyway",
        id="weak-for-top-n",
    ),
    pytest.param(  # was 200 characters in the CLI
        lambda ds: cold_users(ds, "surprise:normal-predictor"),
        ["cold-users", "-m", "surprise:normal-predictor"],
        "'surprise:normal-predictor' predicts ratings and cold-users ranks: use popularity, warp, bpr, ease… "
        "(movierec models: 'top-N from positives')",
        "'surprise:normal-predictor' predicts ratings and cold-users ranks: use popularity, warp, bpr, ease… "
        "(movierec models: 'top-N from positives')",
        id="cold-users-rating-predictor",
    ),
    pytest.param(  # was 266 characters in the CLI, the fix in both doors' spellings
        lambda ds: movierec.Recommender(ds, "normal-predictor").fit().export("art"),
        ["export", "-m", "normal-predictor", "--out", "art"],
        "normal-predictor draws random ratings, so it has nothing to export: export Recommender(ds, 'svd'), or "
        "score it with compare(ds, ['normal-predictor'], protocols='rating')",
        "normal-predictor draws random ratings, so it has nothing to export: use -m svd, or score it with "
        "compare -m normal-predictor --protocols rating",
        id="export-normal-predictor",
    ),
    pytest.param(  # the CLI's was 223 columns: every term an objective can have, now tune --help's
        lambda ds: movierec.tune(ds, "ease", metric="ndcg@10-0.1*arpp@10", n_trials=1),
        ["tune", "-m", "ease", "--metric", "ndcg@10-0.1*arpp@10", "--out", "art"],
        "objective 'ndcg@10-0.1*arpp@10': unknown metric 'arpp' (did you mean 'arp'?); valid: ndcg@K, recall@K, "
        "precision@K, map@K, hit_rate@K, ild_genres@K, ild_vectors@K, arp@K, aplt@K, calibration_kl@K, "
        "unexpectedness@K, serendipity@K",
        "--metric: arpp@10 is unknown (did you mean 'arp'?); an objective weighs metrics --help lists "
        "(ndcg@10-0.1*arp@10)",
        id="tune-objective-unknown-term",
    ),
    pytest.param(  # was refused in trial 0: Optuna's warning and traceback first, the study already made
        lambda ds: movierec.tune(ds, "ease", metric="ndcg@10-0.1*ild_vectors@10", n_trials=1),
        ["tune", "-m", "ease", "--metric", "ndcg@10-0.1*ild_vectors@10", "--out", "art"],
        "ild_vectors@10 needs item vectors, which ease lacks: drop it, or tune a model that has them: svd, "
        "svdpp, nmf, bayesian-fm, als, ials, mult-vae, recvae, bpr, warp, logistic, warp-kos, sasrec, gru4rec",
        "ild_vectors@10 needs item vectors, which ease lacks: drop it, or tune als, svd or bpr; nothing was "
        "written (art was not created)",
        id="tune-objective-vectors-of-a-model-without",
    ),
]


@pytest.mark.parametrize(("python", "args", "in_python", "in_cli"), CASES)
def test_each_door_names_its_own_fix(
    bundled: movierec.Dataset,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    python: Callable[[movierec.Dataset], Any],
    args: list[str],
    in_python: str,
    in_cli: str,
) -> None:
    with pytest.raises(MovierecError) as exc:
        python(bundled)
    assert str(exc.value) == in_python

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "MOVIEREC_PROGRESS_AFTER", "3600"
    )  # the refusal alone, however long export's check runs
    code, _out, err = run_cli(args, capsys)
    assert code == 2 and err == f"movierec: error: {in_cli}\n", err
    assert len(err.rstrip("\n")) <= TWO_ROWS, (len(err), err)
    assert not (tmp_path / "art").exists()


def test_a_dataset_not_fetched_yet_names_each_doors_fetch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ml-100k before it is fetched (an empty data home: nothing is downloaded): the refusal named both doors
    in one line, "fetch it (movierec.datasets.fetch('ml-100k') in Python, movierec data fetch ml-100k in the
    CLI), or fetch a download made by hand (path= in Python, --path in the CLI)"; each door now reads the
    call or the command it can type."""
    home = tmp_path / "data"
    home.mkdir()
    monkeypatch.setenv("MOVIEREC_DATA", str(home))
    monkeypatch.chdir(tmp_path)
    said = f"dataset 'ml-100k' is not in the cache ({home / 'ml-100k'}); fetch it: "
    in_cli = "dataset 'ml-100k' is not in the cache; fetch it: "  # the folder: movierec data list names it
    with pytest.raises(DataError) as exc:
        movierec.load("ml-100k")
    assert str(exc.value) == (  # movierec.datasets.fetch, as it was named, is the module: not callable
        f"{said}movierec.load('ml-100k', download=True) (a download made by hand: "
        "from movierec.datasets.fetch import fetch; fetch('ml-100k', path=PATH))"
    )
    cli = f"movierec: error: {in_cli}movierec data fetch ml-100k (add --path PATH for a download made by hand)\n"
    for args in (["compare", "--dataset", "ml-100k"], ["data", "info", "--dataset", "ml-100k"]):
        code, out, err = run_cli(args, capsys)
        assert (code, out, err) == (2, "", cli), (args, err)
    assert list(home.iterdir()) == []  # nothing fetched


#: give an address or a file: the rest of a URL refusal after its setting
_GIVE = "give an http://, https://, ftp:// or file:// address, or a file on this machine"
#: (Python's refusal, the CLI's line) where one line named both doors' settings: "(url= in Python, --url in
#: the CLI)", "(delimiter= in Python, --sep in the CLI)", "('ml-100k' in Python, --dataset ml-100k in the CLI)"
_SPLIT = (
    "split ml100k-u1 is defined on ml-100k (100,000 ratings, 943 users, 1,682 items, in file order); this "
    "dataset has 100,836 ratings, 610 users, 9,724 items: use the ml-100k dataset ({}) or another split"
)
_SEP = (
    "delimiter ', ' cannot separate fields: give one character (',', ';', '|'), tab (or '\\t'), or '::' ({})"
)
DATA_CASES = [
    pytest.param(
        lambda home: fetch("ml-1m", url="notaurl"),
        ["data", "fetch", "ml-1m", "--url", "notaurl"],
        f"url='notaurl' is not a download URL: {_GIVE} (path=)",
        f"--url 'notaurl' is not a download URL: {_GIVE} (--path)",
        id="not-a-url",
    ),
    pytest.param(
        lambda home: fetch("ml-1m", url="http://"),
        ["data", "fetch", "ml-1m", "--url", "http://"],
        "the download URL url='http://' names no host",
        "the download URL --url 'http://' names no host",
        id="url-without-host",
    ),
    pytest.param(
        lambda home: movierec.compare(movierec.load(), ["popularity"], split="ml100k-u1", progress=False),
        ["compare", "--models", "popularity", "--split", "ml100k-u1"],
        _SPLIT.format("movierec.load('ml-100k')"),
        _SPLIT.format("--dataset ml-100k"),
        id="canonical-split-on-other-data",
    ),
    pytest.param(
        lambda home: movierec.load(home / "r.csv", delimiter=", "),
        ["data", "info", "--ratings", "r.csv", "--sep", ", "],
        _SEP.format("delimiter="),
        _SEP.format("--sep"),
        id="delimiter-of-two-characters",
    ),
]


@pytest.mark.parametrize(("python", "args", "in_python", "in_cli"), DATA_CASES)
def test_a_data_refusal_names_each_doors_setting(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    python: Callable[[Path], Any],
    args: list[str],
    in_python: str,
    in_cli: str,
) -> None:
    """The datasets package's refusals that named both doors in one line ("(url= in Python, --url in the
    CLI)"): each door's whole line now names the setting, call or command it can type. Nothing is downloaded
    (an empty data home; the URLs are refused before any connection)."""
    home = tmp_path / "data"
    home.mkdir()
    (tmp_path / "r.csv").write_text("userId,movieId,rating\n1,10,4\n")
    monkeypatch.setenv("MOVIEREC_DATA", str(home))
    monkeypatch.chdir(tmp_path)
    _said_at_both_doors(lambda: python(tmp_path), args, capsys, (in_python, in_cli), tmp_path)
    assert list(home.iterdir()) == []


def _said_at_both_doors(
    call: Callable[[], Any],
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    said: tuple[str, str],
    tmp_path: Path,
) -> None:
    """``call()`` (Python's door) raises exactly ``said[0]`` (``tmp_path``'s own folder named by its
    name), and ``movierec ARGS`` exits 2 with ``said[1]`` as its one line, beside no other but the
    loading steps' stamped ones."""
    with pytest.raises(MovierecError) as exc:
        call()
    assert str(exc.value).replace(f"{tmp_path}{os.sep}", "") == said[0]
    code, _out, err = run_cli(args, capsys)
    lines = [ln for ln in err.splitlines() if not ln.startswith("[")]  # '[   0.1s] loading the dataset …'
    assert (code, lines) == (2, [f"movierec: error: {said[1]}"]), err


def test_an_experiment_file_names_the_fix_of_the_door_that_reads_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file is read by ``compare --config`` and by ``run_experiment`` from Python: its line names the key
    as the file writes it, then the model's refusal in the words of the door that read it."""
    from movierec.experiment import load_experiment

    monkeypatch.chdir(tmp_path)
    Path("exp.toml").write_text('[[models]]\nname = "svd"\n[models.params]\nfactrs = 3\n')
    said = "exp.toml, line 4: [[models]] params.factrs: svd has no hyperparameter 'factrs' (did you mean 'factors'?)"
    with pytest.raises(ConfigError) as exc:
        load_experiment("exp.toml")
    assert str(exc.value) == f'{said}; all 11: movierec.models.create("svd").get_params()'
    code, _out, err = run_cli(["compare", "--config", "exp.toml"], capsys)
    assert code == 2 and err == f"movierec: error: {said}; all 11: movierec models svd\n", err


def test_a_model_that_is_no_model_names_where_python_lists_them(bundled: movierec.Dataset) -> None:
    """``Recommender(ds, model=3)`` is Python's door alone: it named the CLI's `movierec models`."""
    with pytest.raises(ConfigError) as exc:
        movierec.Recommender(bundled, model=3)  # type: ignore[arg-type]
    assert str(exc.value) == (
        "model must be a registry name (such as 'svd' or 'ease'; movierec.models.available() lists them) "
        "or a model instance, got 3 (no fit, score, recommend)"
    )


def test_an_artifact_that_is_none_or_broken_names_each_doors_way_to_write_one(
    bundled: movierec.Dataset,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``movierec.load_artifact`` of a file or of a broken artifact told a notebook to run ``movierec export``
    (only the CLI's words there were); Python's fix is :meth:`movierec.Recommender.export`, ``force=True``
    to write over the broken one, and the CLI keeps its command."""
    import hashlib
    import json

    monkeypatch.chdir(tmp_path)
    Path("notes.txt").write_text("not an artifact\n")
    fitted = "on a fitted movierec.Recommender"
    with pytest.raises(ArtifactError) as exc:
        movierec.load_artifact("notes.txt")
    assert (
        str(exc.value)
        == f"notes.txt: a file, not an artifact folder (create one with rec.export(folder) {fitted})"
    )
    code, _out, err = run_cli(["recommend", "--artifact", "notes.txt", "--user", "1"], capsys)
    assert code == 2 and err == (
        "movierec: error: notes.txt: a file, not an artifact folder (create one with 'movierec export')\n"
    ), err

    movierec.Recommender(bundled, "popularity").fit().export("art")
    manifest = json.loads(Path("art/manifest.json").read_text())
    manifest["model"]["kind"] = ""  # broken inside, its checksum made to match (as an edit by hand would not)
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    Path("art/manifest.json").write_text(json.dumps({**manifest, "manifest_sha256": digest}))
    said = "art: broken artifact: manifest.json model.kind is missing or not text (re-export it with"
    with pytest.raises(ArtifactError) as exc:
        movierec.load_artifact("art")
    assert str(exc.value) == f"{said} rec.export('art', force=True) {fitted})"
    code, _out, err = run_cli(["recommend", "--artifact", "art", "--user", "1"], capsys)
    assert code == 2 and err == f"movierec: error: {said} 'movierec export')\n", err


def test_doors_words_survive_what_is_built_on_them() -> None:
    """:func:`framed` puts a message around both doors' words; an error keeps its CLI words through pickling
    (a worker process's error), and one raised with plain text says the same at both doors."""
    import pickle

    said = framed(Doors("threshold=0.5", "--implicit-threshold 0.5"), lambda s: f"lower it ({s})")
    assert (said, getattr(said, "cli", None)) == (
        "lower it (threshold=0.5)",
        "lower it (--implicit-threshold 0.5)",
    )
    err = pickle.loads(pickle.dumps(ConfigError(said)))
    assert (str(err), err.in_cli()) == ("lower it (threshold=0.5)", "lower it (--implicit-threshold 0.5)")
    assert type(err.args[0]) is str  # the error's own text is plain: only in_cli knows the other door
    plain = MovierecError("bad input")
    assert plain.in_cli() == str(plain) == "bad input"
    assert framed("plain", lambda s: f"[{s}]") == "[plain]" and not isinstance(framed("x", str), Doors)


#: an unknown genre at each door, after its 'genres:' ('--genre:' in the CLI), less where the door lists them
GENRE_WORDS = {
    "zzz": "unknown genre 'zzz' (e.g. Action, Adventure, Animation, {shown}, …); all 19 genres: ",
    "Comdy": "unknown genre 'Comdy' (did you mean 'Comedy'?); all 19 genres: ",
    "History": "unknown genre 'History' (closest: Mystery, Horror); all 19 genres: ",
}


@pytest.mark.parametrize("genre", list(GENRE_WORDS))
def test_an_unknown_genre_is_one_wording_that_each_door_ends_with_its_own_list(
    bundled: movierec.Dataset,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    genre: str,
) -> None:
    """One wording of an unknown genre (:func:`movierec.titles.genre_refusal`): the genre meant, else the
    closest, else a few; then where the door lists all 19. Python names ``rec.dataset.genre_counts()``
    (an artifact's ``art.genres``), the CLI ``movierec data info`` (``--artifact A`` for an artifact's),
    which does list them, the API the 422's ``ctx.known``, which holds them. The CLI checked an
    artifact's genres a second time only to get its own words, and listed all 19 in a 203-column line;
    its line now fits two rows of an 80-column terminal."""
    jsonschema = pytest.importorskip("jsonschema")
    from fastapi.testclient import TestClient

    from movierec.serving.app import ServeSettings, create_app
    from movierec.serving.store import FeedbackStore

    def words(shown: str, where: str) -> str:
        return GENRE_WORDS[genre].format(shown=shown) + where

    monkeypatch.chdir(tmp_path)
    rec = movierec.Recommender(bundled, "popularity").fit()
    art = rec.export("art")
    for python, shown, where in [
        (rec, "Children, Comedy, Crime", "rec.dataset.genre_counts()"),
        (art, "Children, Comedy, Crime, Documentary, Drama", "art.genres"),
    ]:
        with pytest.raises(ConfigError) as exc:
            python.recommend(1, genres=genre)
        assert str(exc.value) == f"genres: {words(shown, where)}"
    for args, shown, where in [
        (["--user", "1"], "Children, Comedy, Crime, Documentary", "movierec data info"),
        (
            ["--artifact", "art", "--user", "1"],
            "Children, Comedy, Crime",
            "movierec data info --artifact art",
        ),
        (
            ["--artifact", "art", "--rated", "Jumanji=5"],
            "Children, Comedy, Crime",
            "movierec data info --artifact art",
        ),
    ]:
        code, _out, err = run_cli(["recommend", *args, "--genre", genre], capsys)
        assert code == 2 and err == f"movierec: error: --genre: {words(shown, where)}\n", err
        assert len(err.rstrip("\n")) <= TWO_ROWS, (len(err), err)
    code, out, _err = run_cli(["data", "info", "--artifact", "art"], capsys)  # where the CLI's line points
    assert code == 0 and "19 genres (movies rated in each), as --genre takes them:" in out, out
    assert all(f"{g} " in out for g in art.genres) and "Film-Noir 85" in out, out

    client = TestClient(create_app(art, FeedbackStore(tmp_path / "fb.db"), ServeSettings(static=False)))
    spec = client.get("/openapi.json").json()
    body = {"ratings": [{"movieId": 1, "rating": 5}], "genres": [genre]}
    for resp, route, method in [
        (client.get(f"/users/1/recommendations?genres={genre}"), "/users/{userId}/recommendations", "get"),
        (client.post("/recommendations", json=body), "/recommendations", "post"),
    ]:
        assert resp.status_code == 422, resp.text
        [item] = resp.json()["detail"]
        shown = "Children, Comedy, Crime, Documentary, Drama"
        assert item["msg"] == f"genres: {words(shown, 'ctx.known')}", item["msg"]
        assert item["ctx"] == {"known": art.genres} and item["input"] == genre
        schema = spec["paths"][route][method]["responses"]["422"]["content"]["application/json"]["schema"]
        jsonschema.validate(resp.json(), {**schema, "components": spec["components"]})


def test_a_genre_refusal_names_every_genre_that_fits_and_says_when_there_are_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalogue whose genres all fit the line names them all ('known:', not 'e.g.' and '…'); ratings
    without a movies file have no genres, and the line says so where it said "see movierec data info for
    the 0 genres"."""
    from movierec.titles import genre_refusal

    assert genre_refusal("--genre", "zzz", ["Comedy", "Drama"], "movierec data info") == (
        "--genre: unknown genre 'zzz' (known: Comedy, Drama); all 2 genres: movierec data info"
    )
    monkeypatch.chdir(tmp_path)
    Path("r.csv").write_text("userId,movieId,rating\n1,1,5\n1,2,4\n2,1,3\n2,3,4\n3,2,5\n3,3,1\n")
    code, _out, err = run_cli(["recommend", "--ratings", "r.csv", "--user", "1", "--genre", "Comedy"], capsys)
    assert code == 2 and err.endswith(
        "movierec: error: --genre: unknown genre 'Comedy': these movies have no genres (a movies file's "
        "genres column gives them)\n"
    )


def _tens(folder: Path) -> Path:
    """``userId,movieId,rating``: 40 users, 30 movies, about half of the pairs rated 1 to 10 (seeded)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    users, items = np.divmod(np.arange(40 * 30), 30)
    keep = rng.random(len(users)) < 0.5
    path = folder / "tens.csv"
    pd.DataFrame(
        {
            "userId": users[keep] + 1,
            "movieId": items[keep] + 1,
            "rating": rng.integers(1, 11, int(keep.sum())),
        }
    ).to_csv(path, index=False)
    return path


#: the default threshold's note on a 1-10 scale, before its fix: Python's words, then the CLI's
SCALE = "is MovieLens' 4 stars of 5; on this data's ratings (1–10) it counts {share} of them as positives: set a threshold for this scale ({fix})"


def test_a_note_or_warning_names_each_doors_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Notes and warnings named both doors in one line: 'set a threshold for this scale (threshold= in
    Python, --implicit-threshold in the CLI)'. Now each is a :class:`Doors`: a notebook's warning and a
    result's notes say ``threshold=``, the CLI's ``note:`` lines ``--implicit-threshold``; the rating models'
    ranking rows name ``rank_by='prediction'`` or ``--rank-by prediction``."""
    import warnings

    import pandas as pd

    from clihelp import run_process

    monkeypatch.chdir(tmp_path)
    path = _tens(tmp_path)
    frame = pd.read_csv(path)
    share = f"{float((frame['rating'] >= 4).mean()):.0%}"
    py, cli = (
        SCALE.format(share=share, fix="threshold="),
        SCALE.format(share=share, fix="--implicit-threshold"),
    )

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        movierec.Recommender(frame, "ease")
    assert [str(w.message) for w in said] == [f"ease learns from ratings ≥ 4, which {py}"]
    comp = movierec.compare(
        movierec.load(frame), ["baseline"], protocols="full-ranking", rank_by="prediction", progress=False
    )
    ranked = (
        "the rating models' ranking rows are ranked by the unclipped predicted rating ({}), as LensKit ranks "
        "a rating scorer, not by the support-shrunk score recommend and the API rank by"
    )
    assert f"relevance ≥ 4 {py}" in comp.notes, comp.notes
    assert ranked.format("rank_by='prediction'") in comp.notes, comp.notes

    done = run_process("recommend", "--ratings", str(path), "--user", "3", "-k", "2", "--min-support", "1")
    assert (
        done.returncode == 0
        and f"note: ease learns from ratings ≥ 4, which {cli}" in done.stderr.splitlines()
    )
    done = run_process(
        "compare", "--ratings", str(path), "--models", "baseline", "--protocols", "full-ranking",
        "--rank-by", "prediction",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()  # 200 columns: the scale note on one line; the ranking note on two
    assert f"note: relevance ≥ 4 {cli}" in lines, done.stdout
    assert " ".join(done.stdout.split()).endswith(f"note: {ranked.format('--rank-by prediction')}"), (
        done.stdout
    )
    assert "in Python" not in done.stdout + done.stderr and "rank_by=" not in done.stdout


def test_data_without_ratings_names_pythons_threshold_in_python(tmp_path: Path) -> None:
    """A log without ratings: its note said 'the implicit threshold defaults to 1: threshold= in Python,
    --implicit-threshold in the CLI' in a notebook (the CLI's own line names its flag alone,
    tests/test_data_without_ratings.py)."""
    import pandas as pd

    ds = movierec.load(pd.read_csv(_tens(tmp_path)).drop(columns="rating"), rating_col=None)
    note = "no ratings: each row is a positive (threshold= defaults to 1)"
    assert note in ds.notes, ds.notes
    assert movierec.compare(ds, ["popularity"], protocols="full-ranking", progress=False).notes == [note]
    assert [getattr(n, "cli", None) for n in ds.notes if n == note] == [
        "no ratings: each row is a positive (--implicit-threshold defaults to 1)"
    ]


def test_a_warning_raised_during_a_command_is_said_in_the_clis_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CLI prints a Python warning as ``warning: TEXT``; one raised with a :class:`Doors` text gives
    the CLI's words there (Python's own display shows the string)."""
    import warnings

    from movierec.cli import _show_warning

    text = Doors(
        "set a threshold for this scale (threshold=)", "set a threshold for this scale (--implicit-threshold)"
    )
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        warnings.warn(text, UserWarning, stacklevel=1)
    assert str(said[0].message) == "set a threshold for this scale (threshold=)"
    _show_warning(said[0].message, UserWarning, "f.py", 1)
    assert capsys.readouterr().err == "warning: set a threshold for this scale (--implicit-threshold)\n"
    _show_warning(UserWarning("plain words"), UserWarning, "f.py", 1)
    assert capsys.readouterr().err == "warning: plain words\n"


def _report_into_someones_folder(home: Path) -> Any:
    from movierec.viz.report import build_report

    (home / "DIR").mkdir()
    (home / "DIR" / "results.json").write_text('{"mine": 1}\n')
    return build_report("ml-latest-small", "popularity", home / "DIR", projection="pca", force=True)


#: the report's and the map's refusals that said "(models= in Python, --models in the CLI)" and the like
_NO_MAP = (
    ": learns item-to-item weights, not item vectors, so there is no map; the models with item vectors are "
    "svd, svdpp, nmf, bayesian-fm, als, ials, mult-vae, recvae, bpr, warp, logistic, warp-kos, sasrec, gru4rec; "
)
#: the command line names three of them (all 14 made a line of 300 characters, four rows of 80 columns)
_NO_MAP_CLI = (
    ": learns item-to-item weights, not item vectors, so there is no map; als, svd, bpr and 11 more have item "
    "vectors; "
)
_NOT_A_REPORT = (
    ": holds files movierec did not write (results.json), which {} never replaces; nothing was changed — "
)
_NOT_A_REPORT += "choose a new or empty folder"
REPORT_CASES = [
    pytest.param(
        lambda home: __import__("movierec.viz.report").viz.report.build_map("ml-latest-small", "ease"),
        ["embed", "-m", "ease"],
        f"model='ease'{_NO_MAP}movierec.Recommender(ds, 'ease').fit().similar(TITLE) lists its nearest movies",
        f"--model ease{_NO_MAP_CLI}'movierec similar TITLE --model ease' lists its nearest movies",
        id="no-map",
    ),
    pytest.param(
        lambda home: __import__("movierec.viz.report").viz.report.build_map(projection="tsn"),
        ["embed", "--projection", "tsn"],
        "projection='tsn': did you mean 'tsne'? choose one of tsne, umap, pca",
        "--projection 'tsn': did you mean 'tsne'? choose one of tsne, umap, pca",
        id="projection",
    ),
    pytest.param(
        lambda home: __import__("movierec.viz.report").viz.report.parse_models("svd,svd"),
        ["report", "--models", "svd,svd"],
        "'svd' is listed twice (models=)",
        "'svd' is listed twice (--models)",
        id="listed-twice",
    ),
    pytest.param(
        lambda home: __import__("movierec.viz.report").viz.report.parse_models("svd+"),
        ["report", "--models", "svd+"],
        "models='svd+': expected NAME or NAME+feature+feature (e.g. warp+genres+tags)",
        "--models 'svd+': expected NAME or NAME+feature+feature (e.g. warp+genres+tags)",
        id="malformed-spec",
    ),
    pytest.param(
        _report_into_someones_folder,
        ["report", "-m", "popularity", "--projection", "pca", "--out", "DIR", "--force"],
        "out='DIR'" + _NOT_A_REPORT.format("force=True"),
        "--out DIR" + _NOT_A_REPORT.format("--force"),
        id="not-a-report",
    ),
]


@pytest.mark.parametrize(("python", "args", "in_python", "in_cli"), REPORT_CASES)
def test_a_report_or_map_refusal_names_each_doors_setting(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    python: Callable[[Path], Any],
    args: list[str],
    in_python: str,
    in_cli: str,
) -> None:
    """The report's and embed's refusals named both doors in one line ("ease (model= in Python, --model in
    the CLI): …", "(force=True in Python, --force in the CLI)"), and embed's told a notebook to run
    'movierec similar TITLE --model ease'. Each door's line now names what it can type. Nothing is written:
    each is refused before a model is fitted (the folder of someone's results.json is left as it was)."""
    monkeypatch.chdir(tmp_path)
    _said_at_both_doors(lambda: python(tmp_path), args, capsys, (in_python, in_cli), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["DIR"] if "DIR" in args else [])


def test_models_name_lists_a_reference_librarys_names_in_the_clis_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``movierec models baseline`` listed LensKit's damping as 'baseline(reg_i=d, reg_u=d, epochs=1)' and
    ``movierec models warp`` (LightFM's loss) as 'Recommender(ds, 'bpr')', Python's words in a terminal, where
    the refusal of the same name gives the CLI's."""
    for name, said in [
        (
            "baseline",
            "damping: LensKit's BiasScorer(damping=d) is baseline with --params reg_i=d,reg_u=d,epochs=1",
        ),
        ("warp", "loss: LightFM's loss is the model here: loss='bpr' is --model bpr (and warp, logistic,"),
    ]:
        code, out, _err = run_cli(["models", name], capsys)
        assert code == 0 and said in " ".join(out.split()), out
        assert "Recommender(ds" not in out and "baseline(reg_i" not in out, out


# CLI-only refusals (no Python door) that were longer than two rows: each line whole, and <= TWO_ROWS
_EXP = 'protocols = ["full-ranking"]\n\n[split]\ntrain = "train.csv"\ntest = "test.csv"\n\n[[models]]\nname = "popularity"\n'
CLI_ONLY = [
    *(
        pytest.param(  # was 266 columns, and said 'cannot export' to a person who asked for a list
            [*command, "-m", "normal-predictor"],
            "normal-predictor draws random ratings, so it has no list: use -m svd, or score it with "
            "compare -m normal-predictor --protocols rating",
            id=f"{command[0]}-normal-predictor",
        )
        for command in (["recommend", "--user", "1"], ["similar", "--movie-id", "1"])
    ),
    pytest.param(  # was 198 columns
        ["report", "--config", "exp.toml", "--test-size", "0.3"],
        "--test-size and the experiment's [split] train/test exclude each other: the files are the data, already "
        "split (a [dataset] name gives titles)",
        id="report-files-test-size",
    ),
    pytest.param(  # was 174 columns
        ["export", "--config", "exp.toml", "--holdout", "--out", "art"],
        "--holdout and [split] train/test exclude each other: export trains on every file; "
        "compare --config exp.toml scores the test file",
        id="export-files-holdout",
    ),
    pytest.param(  # was 251 columns: the twelve names a front can be of are tune --help's (--pareto) now
        ["tune", "-m", "ease", "--pareto", "ndcg@10,foo@10", "--out", "art"],
        "--pareto: foo@10 is unknown; a front is of two metrics --help lists, at one K (ndcg@10,arp@10)",
        id="tune-pareto-unknown",
    ),
    pytest.param(  # was 242 columns
        ["tune", "-m", "ease", "--pareto", "ndcg@10,rmse", "--out", "art"],
        "--pareto: rmse is a rating metric; a front is of two metrics --help lists, at one K (ndcg@10,arp@10)",
        id="tune-pareto-rating-metric",
    ),
    pytest.param(  # was 308 columns; the longest name with the longest suggestion, and the pair not said again
        ["tune", "-m", "ease", "--pareto", "ndcg@10,calibration_kll@10", "--out", "art"],
        "--pareto: calibration_kll@10 is unknown (did you mean 'calibration_kl'?); a front is of two metrics "
        "--help lists, at one K (ndcg@10,arp@10)",
        id="tune-pareto-suggested",
    ),
    pytest.param(  # was 257 columns: the piece it stopped at, not every term
        ["tune", "-m", "ease", "--metric", "ndcg@10--arp@10", "--out", "art"],
        "--metric: cannot read '--arp@10' in the objective; write terms like ndcg@10-0.1*arp@10, of metrics "
        "--help lists",
        id="tune-objective-unreadable",
    ),
    pytest.param(  # was 257 columns, and said only 'cannot read it at'
        ["tune", "-m", "ease", "--metric", "ndcg@10-0.1*arp", "--out", "art"],
        "--metric: '-0.1*arp' has no cut-off: every term is metric@K, all at one K (ndcg@10-0.1*arp@10)",
        id="tune-objective-term-without-k",
    ),
    pytest.param(  # was 245 columns; the longest term name with the longest suggestion
        ["tune", "-m", "ease", "--metric", "ndcg@10-0.1*calibration_kll@10", "--out", "art"],
        "--metric: calibration_kll@10 is unknown (did you mean 'calibration_kl'?); an objective weighs metrics "
        "--help lists (ndcg@10-0.1*arp@10)",
        id="tune-objective-suggested",
    ),
    pytest.param(  # was 217 columns and "unknown metric 'mrr'": a ranking metric, but no term (as --pareto says)
        ["tune", "-m", "ease", "--metric", "ndcg@10+mrr@10", "--out", "art"],
        "--metric: mrr@10 cannot be a term of an objective; an objective weighs metrics --help lists "
        "(ndcg@10-0.1*arp@10)",
        id="tune-objective-mrr",
    ),
    pytest.param(  # was 'needs a --metric at a cut-off', which mrr@10 is
        ["tune", "-m", "ease", "--metric", "mrr@10", "--pareto", "ndcg@10,arp@10", "--out", "art"],
        "--pareto records its metrics as terms of an objective with --metric's; mrr@10 cannot be one: give "
        "--metric ndcg@10, or leave --pareto out",
        id="tune-pareto-beside-mrr",
    ),
    pytest.param(  # was two lines (Optuna's "Trial 0 failed" warning first) and quoted the whole objective
        [*"tune -m ease --ratings train.csv --out art --metric".split(), "ndcg@10-0.1*ild_genres@10"],
        "ild_genres@10 needs movie genres, and this data has none: drop it; nothing was written (art was not "
        "created)",
        id="tune-objective-without-genres",
    ),
    pytest.param(  # was 177 columns: the ending named tune's own folder, tuning/ease-ndcg-10-0.1-ild_genres-10
        [*"tune -m ease --ratings train.csv --metric".split(), "ndcg@10-0.1*ild_genres@10"],
        "ild_genres@10 needs movie genres, and this data has none: drop it; nothing was written",
        id="tune-objective-without-genres-default-folder",
    ),
    pytest.param(  # the longest tunable name without item vectors, K=1000: 159 columns
        ["tune", "-m", "itemknn-explicit", "--metric", "ndcg@1000-0.1*ild_vectors@1000", "--out", "art"],
        "ild_vectors@1000 needs item vectors, which itemknn-explicit lacks: drop it, or tune als, svd or bpr; "
        "nothing was written (art was not created)",
        id="tune-objective-vectors-longest",
    ),
]


@pytest.mark.parametrize(("args", "in_cli"), CLI_ONLY)
def test_a_cli_only_refusal_is_one_line_of_two_rows(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    in_cli: str,
) -> None:
    rows = "userId,movieId,rating,timestamp\n1,1,4,1\n1,2,3,2\n2,1,5,3\n2,3,2,4\n"
    for name, text in (("train.csv", rows), ("test.csv", rows), ("exp.toml", _EXP)):
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    code, _out, err = run_cli(args, capsys)
    assert code == 2 and err == f"movierec: error: {in_cli}\n", err
    assert len(err.rstrip("\n")) <= TWO_ROWS, (len(err), err)
    assert not (tmp_path / "art").exists()


def test_localhost_with_its_ipv6_port_taken_is_one_line_of_two_rows() -> None:
    """serve --host localhost binds 127.0.0.1 and ::1 on one port; ::1's port held by another socket is
    refused in one line (it was 185 columns for port 8000), naming the two fixes."""
    import socket

    from movierec.cli.serve import listen_sockets

    try:
        other = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        other.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    other.listen(1)
    port = other.getsockname()[1]
    try:
        with pytest.raises(ConfigError) as exc:
            for sock in listen_sockets("localhost", port):
                sock.close()
    finally:
        other.close()
    line = f"movierec: error: {exc.value}"
    assert line.startswith(
        f"movierec: error: --host localhost: port {port} is free on 127.0.0.1, not on ::1 ("
    )
    assert line.endswith("); choose another --port, or --host 127.0.0.1") and len(line) <= TWO_ROWS, line


def test_a_table_too_large_to_export_is_one_line_of_two_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model served as a table of every user's scores (user-based knn-means) on 20,000 users × 15,000 items
    (1.1 GiB, above the 1 GiB limit) is refused before training in one line naming what exports instead (it
    was 249 columns)."""
    lines = ["userId,movieId,rating,timestamp"]
    lines += [
        f"{u},{i},{r},{u}" for u in range(20_000) for i, r in ((u % 15_000, 4), ((u * 7 + 1) % 15_000, 3))
    ]
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    args = ["export", "--ratings", "big.csv", "-m", "knn-means", "-p", "user_based=true", "--out", "art"]
    code, _out, err = run_cli(args, capsys)
    assert code == 2 and err == (
        "movierec: error: cannot export 'knn-means' for 20,000 users × 15,000 items: its table of scores would "
        "be 1.1 GiB (limit 1); export svd, ease, itemknn or als\n"
    ), err
    assert len(err.rstrip("\n")) <= TWO_ROWS, (len(err), err)
    assert not (tmp_path / "art").exists()
