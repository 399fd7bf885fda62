"""The front door for people: a model bound to its dataset, raw ids in, titles out.

The model API (:mod:`movierec.models`) works on dense indices, for speed; a notebook user thinks in
``userId`` and ``movieId`` as they appear in ``ratings.csv``. :class:`Recommender` maps ids once at
this boundary (STYLE: "ids are mapped once, at the boundary") so ``rec.predict(1, 1)`` is the
prediction for user 1 and *Toy Story*, not for whichever user and movie happen to sit at index 1::

    import movierec
    rec = movierec.Recommender("ml-latest-small", "svd").fit()
    rec.predict(1, 1)                 # ≈ 4.4: user 1, movie 1 (Toy Story)
    rec.recommend(1, k=5)             # DataFrame: movieId, title, genres, score, predicted_rating
    rec.similar("Toy Story")          # DataFrame: movieId, title, genres, similarity
"""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TextIO

import numpy as np
import pandas as pd

from movierec.datasets import Dataset, load_given
from movierec.display import ABOUT, fallback_score, score_count, score_meaning, similarity_meaning
from movierec.errors import (
    ConfigError,
    DataError,
    NotFittedError,
    UnknownIdError,
    is_seed,
    refuses_foreign_keywords,
)
from movierec.interactions import (
    Interactions,
    rating_model_without_ratings,
    rating_step,
    refused_rating,
    resolve_threshold,
)
from movierec.models.base import Recommender as ModelContract
from movierec.models.base import (
    check_positive,
    default_threshold_note,
    fit_options,
    rated_beyond_training,
    reason_order,
    uses_item_features,
)
from movierec.titles import outside_movierec as _outside_movierec

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["Recommender"]


class _Default(str):
    """The default model's name, told apart from the same name given (``Recommender(ds, "svd")``) by identity."""

    __slots__ = ()


_SVD = _Default("svd")


_LENGTH = "k= is the list's length"
#: other libraries' keywords for what :meth:`Recommender.recommend` spells otherwise: one ConfigError naming
#: ours where Python's was "TypeError: Recommender.recommend() got an unexpected keyword argument 'n'"
RECOMMEND_MISNAMED = {
    "n": f"{_LENGTH} (LensKit's n=)",
    "N": f"{_LENGTH} (implicit's N=)",
    **dict.fromkeys(("top_k", "topk", "top_n", "topn"), _LENGTH),  # the papers', RecBole's, get_top_n's
    "filter_already_liked_items": "exclude_seen= leaves out the movies the user rated (implicit's name)",
    "filter_items": "exclude= takes the movies never to list (implicit's filter_items)",
    **dict.fromkeys(
        ("items", "candidates"),
        "an allow-list is the model's: rec.model.recommend(user_indices, k, candidates=item_indices); "
        "exclude= takes a deny-list of movieIds here",
    ),
}

#: other libraries' keywords for :meth:`Recommender.similar` and ``similar_users`` (implicit's
#: ``similar_items(itemid, N=10)``): TypeError "unexpected keyword argument 'N'" before
SIMILAR_MISNAMED = {
    "n": RECOMMEND_MISNAMED["n"],
    "N": RECOMMEND_MISNAMED["N"],
    **dict.fromkeys(("top_k", "topk", "top_n", "topn"), _LENGTH),
    **dict.fromkeys(
        ("item", "itemid", "item_id", "iid", "movie_id", "title"),
        "the movie is the first argument, a title or a raw movieId: similar('Toy Story') or similar(1)",
    ),
}

#: Surprise's ``algo.predict(uid, iid, r_ui=None, clip=True, verbose=False)`` and ``algo.test(testset,
#: verbose=False)`` keywords, each said where it lives here (they were Python's bare TypeError)
PREDICT_MISNAMED = {
    "r_ui": "predict returns the estimate alone; Surprise's Prediction with its r_ui is a row of "
    "rec.test(pd.DataFrame({'userId': [uid], 'movieId': [iid], 'rating': [r_ui]}))",
    "clip": "predict clips to the rating scale, as Surprise's default; the unclipped estimate is "
    "rec.model.predict([rec.user_index(uid)], [rec.movie_index(iid)], clip=False)",
    "verbose": "nothing is printed; print what it returns",
}


def _load_dataset(dataset: str | Path | pd.DataFrame, model: object) -> Dataset:
    """``load(dataset)``, where a model's name in the dataset's place (``Recommender("ease")``, the model
    first as in Surprise's ``SVD()``) says so: it read "ease: no such dataset name or folder"."""
    from movierec.models.registry import MODELS

    try:
        return load_given(dataset, "Recommender")
    except DataError:
        name = dataset.strip().lower() if isinstance(dataset, str) else None
        if name not in MODELS:
            raise
        if isinstance(model, Dataset):  # the two swapped
            raise ConfigError(
                f"Recommender({dataset!r}, ds): the dataset comes first: Recommender(ds, {name!r})"
            ) from None
        given = "" if model is _SVD else f", {model!r}"
        raise ConfigError(
            f"Recommender({dataset!r}{given}): {dataset!r} is a model name, and the dataset comes first: "
            f"Recommender(ds, {name!r}) with ds = movierec.load('ml-latest-small'), or "
            f"Recommender(model={name!r}) for the bundled data"
        ) from None


class Recommender:
    """A recommender bound to a dataset: train it, then ask with raw ``userId``/``movieId`` or titles.

    Parameters
    ----------
    dataset:
        A :class:`~movierec.datasets.Dataset`, a registered dataset name, a MovieLens-layout folder, a
        ratings file, or a ratings DataFrame with ``userId, movieId, rating[, timestamp]`` columns
        (other column names: ``movierec.load(frame, user_col=…)`` first).
    model:
        A registry name (``"svd"``, ``"ease"``, ``"warp"``, see ``movierec models``) or an unfitted
        model instance. Default: ``"svd"``; on data without ratings (every rating one value, as
        ``rating_col=None`` loads a log), ``"ease"``, with a warning: svd would learn nothing from it (asked
        for by name, it is trained, with a warning saying so). svd stays the default here, unlike
        ``movierec recommend``'s ease, because this object also predicts ratings (:meth:`predict`,
        the notebook's first step), which a top-N model cannot; for lists alone, ``model="ease"`` found
        far more of what people went on to like (docs/models.md, "Which model recommend uses").
    threshold:
        Ratings ≥ this are the positives implicit models train on (explicit and sequence models
        train on every rating). Default: 4, MovieLens' 4 stars of 5; on data without ratings, its one
        value (every row a positive; ``ds.notes`` says so).
    item_features:
        Side features for hybrid models (``"genres,tags,year"``), built from the dataset.
    user_features:
        User side features for the models that learn from them (bpr, warp, logistic, warp-kos,
        segment-popularity): ``"demographics"`` (ml-100k's and ml-1m's user files), a
        ``userId,feature[,weight]`` CSV, or both comma-separated, as ``compare`` and
        ``movierec export --user-features`` take them; built for the training users at :meth:`fit`.
    seed:
        Seeds the model unless ``params`` carries its own ``random_state``.
    **params:
        Hyperparameters of the model (see ``movierec models <name>``).
    """

    def __init__(
        self,
        dataset: Dataset | str | Path | pd.DataFrame = "ml-latest-small",
        model: str | ModelContract = _SVD,
        *,
        threshold: float | None = None,
        item_features: str | Sequence[str] | None = None,
        user_features: str | None = None,
        seed: int = 42,
        **params: Any,
    ) -> None:
        from movierec.models.registry import create, idle_notes

        if seed is not None and not is_seed(seed):  # seed='1' was "svd: random_state must be …", unpassed
            raise ConfigError(f"seed must be a whole number in 0 … 2**32 - 1, got {seed!r}")
        self.dataset = dataset if isinstance(dataset, Dataset) else _load_dataset(dataset, model)
        self.model: Any  # a registered model or the caller's own object following the contract
        model = _model_for(self.dataset, model)
        if isinstance(model, str):
            self.model = create(model, **params)
            for text in idle_notes(model, params):  # a notebook hears it too, as a warning
                warnings.warn(text, UserWarning, stacklevel=_outside_movierec())
            if "random_state" in self.model.get_params() and "random_state" not in params:
                self.model.set_params(random_state=seed)
        else:
            _check_model_instance(model)
            if params:
                raise ConfigError("pass hyperparameters to the model instance, not to Recommender")
            self.model = model
        if self.dataset.interactions.interactions_only and getattr(self.model, "kind", "") == "explicit":
            warnings.warn(
                rating_model_without_ratings(self.name, self.dataset.interactions),
                UserWarning,
                stacklevel=_outside_movierec(),
            )
        self.threshold = resolve_threshold(self.dataset.interactions, threshold)
        self._warn_scale(threshold)
        self.item_features = item_features
        if item_features and not uses_item_features(self.model):  # compare and the CLI note it
            warnings.warn(
                f"{self.name} ignores item features (item_features={item_features!r}): it trains without them",
                UserWarning,
                stacklevel=_outside_movierec(),
            )
        self.user_features = _check_user_features(self.model, self.name, user_features)
        self.seed = seed
        self.train_: Interactions | None = None
        self._items: pd.DataFrame | None = None
        # reason_order of the training data it was computed for: explain reuses it (120 ms on ml-latest-small)
        self._reasons: tuple[Interactions, tuple[np.ndarray, np.ndarray]] | None = None
        # a k-NN rating model's serving scorer over the training ratings, with what it was built from
        # (training data, neighbour lists): a known user's reasons read it (:meth:`_known_rating_reasons`)
        self._known_scorer: tuple[Interactions, object, Any] | None = None
        # per item of the training data it was computed for: year, training count, links (:meth:`_facts`)
        self._facts_cache: tuple[Interactions, pd.DataFrame] | None = None

    # --- facts -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The model's registry name (``"svd"``, ``"ease"``: what ``movierec models`` lists and the lists'
        headers say), or its class name for a model instance that has none."""
        return str(getattr(self.model, "name", type(self.model).__name__))

    @property
    def explicit(self) -> bool:
        """True for rating predictors (``predict`` returns ratings on the dataset's scale)."""
        return getattr(self.model, "kind", "implicit") == "explicit" and hasattr(self.model, "predict")

    @property
    def items(self) -> pd.DataFrame:
        """Movie metadata, row ``i`` = item index ``i``: ``movieId, title, year, genres``."""
        if self._items is None:
            self._items = self.dataset.item_table()
        return self._items

    if not TYPE_CHECKING:  # a type checker keeps flagging misspelt attributes

        def __getattr__(self, name: str) -> Any:
            """Only for names that are not attributes: ``rec.save`` (what LightFM's pickle and Surprise's
            ``dump.dump`` users type first) says where saving lives instead of Python's bare AttributeError,
            and Surprise's ``get_neighbors`` where a movie's neighbours are."""
            if name in _SAVE_WORDS:
                raise AttributeError(
                    f"'Recommender' object has no attribute {name!r}; rec.export(folder) saves the fitted model "
                    "with its ids and titles and movierec.load_artifact(folder) loads it (recommend, similar, "
                    "serve), or rec.model.save(folder) the bare model (movierec.models.load_model(folder))",
                    name=name,
                    obj=self,
                )
            if name == "get_neighbors":  # Surprise's algo.get_neighbors(inner_id, k)
                raise AttributeError(
                    f"'Recommender' object has no attribute {name!r}; rec.similar(movie, k=10, by='model') lists "
                    "a movie's nearest movies by the model's own similarity, with titles (a title or a movieId), "
                    "and rec.model.similar_items(rec.movie_index(movie_id), k) gives the dense indices",
                    name=name,
                    obj=self,
                )
            return object.__getattribute__(self, name)  # Python's own error, a property's inner one too

    def __repr__(self) -> str:
        state = "fitted" if self.train_ is not None else "not fitted"
        return f"Recommender({self.model!r} on {self.dataset.name!r}, {state})"

    def _repr_html_(self) -> str:
        from movierec.display import frame_html

        params = pd.DataFrame([{k: repr(v) for k, v in self.model.get_params().items()}])
        state = "fitted" if self.train_ is not None else "not fitted: call .fit()"
        return (
            f"<div><b>Recommender</b> {self.name} on {self.dataset.name} ({state}){frame_html(params)}</div>"
        )

    # --- training ----------------------------------------------------------------------
    def training_data(self, interactions: Interactions | None = None) -> Interactions:
        """What the model trains on: every rating (explicit and sequence models) or the positives ≥ threshold."""
        if isinstance(interactions, (Dataset, pd.DataFrame)):
            # rec.fit(ds) or rec.fit(frame) failed on "'DataFrame' object has no attribute 'to_implicit'"
            given = type(interactions).__name__
            fix = (
                f"movierec.Recommender(movierec.load(frame), {self.name!r}).fit() for a ratings frame"
                if isinstance(interactions, pd.DataFrame)
                else "rec.fit() for every rating of its dataset"
            )
            raise ConfigError(
                f"fit() takes nothing (every rating) or a split's train part (Interactions from "
                f"movierec.make_split), not a {given}: {fix}"
            )
        inter = self.dataset.interactions if interactions is None else interactions
        if getattr(self.model, "kind", "implicit") == "explicit" or getattr(self.model, "sequential", False):
            return inter
        return inter.to_implicit(self.threshold)

    def _warn_scale(self, threshold: float | None) -> None:
        """The default threshold, 4 (MovieLens' 4 stars of 5), on ratings that top out elsewhere: a model
        that learns from positives counted a 4 of 10 as liked without a word (the CLI's recommend notes it)."""
        note = (
            default_threshold_note(self.model, self.name, self.dataset.interactions)
            if threshold is None
            else None
        )
        if note is not None:
            warnings.warn(note, UserWarning, stacklevel=_outside_movierec())

    def fit(self, interactions: Interactions | None = None, **fit_kwargs: Any) -> Self:
        """Train on the whole dataset (or on ``interactions``, e.g. a training split); returns ``self``.

        ``fit_kwargs`` go to the model's ``fit`` (``on_epoch=`` for a training-curve callback). Item
        features built from a training split leave out the tags on the dataset's ratings the split
        does not hold (its test part: a user's tag on a movie tells the model that pair).
        """
        train = self.training_data(interactions)
        if self.item_features:
            from movierec.features import build_item_features

            held_out = None if interactions is None else self._not_given(interactions)
            fit_kwargs.setdefault(
                "item_features",
                build_item_features(self.dataset, train.item_map, self.item_features, held_out=held_out),
            )
        if self.user_features is not None:  # for train's users, as compare builds them per fold
            from movierec.demographics import resolve_user_features

            fit_kwargs.setdefault(
                "user_features", resolve_user_features(self.user_features, self.dataset, train)
            )
        self._refuse_fit_keywords(fit_kwargs)
        from movierec.evaluation import default_progress

        line = default_progress(1)  # a person watching (Jupyter, a terminal) sees the fit, not silence
        if line is not None:
            line({"event": "fit-start", "model": self.name, "fold": 0, "folds": 1})
        tic = time.perf_counter()
        for message, category in _holding_own_warnings(lambda: self.model.fit(train, **fit_kwargs)):
            warnings.warn(message, category, stacklevel=_outside_movierec())  # the caller's line
        if line is not None:
            line({"event": "fit-end", "model": self.name, "fold": 0, "seconds": time.perf_counter() - tic})
        from movierec.stopping import time_budget_note

        stopped = time_budget_note(self.model, self.name)  # the clock, not training, ended the fit
        if stopped is not None:
            warnings.warn(stopped, UserWarning, stacklevel=_outside_movierec())
        self.train_ = train
        return self

    def _not_given(self, interactions: Interactions) -> Interactions:
        """The dataset's ratings that ``interactions`` (a training split) does not hold: its test part."""
        from movierec.features import pairs_in

        whole = self.dataset.interactions
        users, items = whole.user_map.to_raw(whole.users), whole.item_map.to_raw(whole.items)
        return whole.subset(~pairs_in(interactions, users, items))

    def _refuse_fit_keywords(self, fit_kwargs: dict[str, Any]) -> None:
        """A keyword the model's training does not take is one ConfigError naming it and what it takes.
        A model's ``fit`` passes its keywords on to ``_fit``, so ``rec.fit(trainset=train)`` (Surprise's
        ``algo.fit(trainset)`` with the name spelt out) ended in "TypeError: SVD._fit() got an unexpected
        keyword argument 'trainset'", a private method and no way forward."""
        fit = getattr(self.model, "_fit", self.model.fit)
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(fit).parameters.values()):
            return
        takes = fit_options(self.model) | {
            "item_features",
            "user_features",
        }  # side features: dropped if unused
        unknown = [k for k in fit_kwargs if k not in takes]
        if not unknown:
            return
        data = (
            " (the training data goes first, unnamed: rec.fit(train))"
            if {"trainset", "train"} & set(unknown)
            else ""
        )
        options = ", ".join(sorted(fit_options(self.model)))
        takes_text = f"its options: {options}" if options else "it takes no keyword options"
        raise ConfigError(f"{self.name}.fit() takes no {', '.join(unknown)}{data}; {takes_text}")

    def _check_fitted(self) -> Interactions:
        if self.train_ is None:
            raise NotFittedError(f"{self.name} is not fitted yet: call .fit() first")
        return self.train_

    def _check_lists(self) -> Interactions:
        """:meth:`_check_fitted`, and a model with no list refused as the CLI refuses it: normal-predictor's
        scores are random draws, which :meth:`recommend` listed as 'the predicted rating, shrunk'."""
        from movierec.serving.artifact import unservable_words

        if unservable := getattr(self.model, "unservable", None):
            raise ConfigError(unservable_words(self.name, str(unservable), lists=True))
        return self._check_fitted()

    # --- ids -----------------------------------------------------------------------------
    def user_index(self, user_id: object) -> int:
        """Dense index of a raw ``userId`` (UnknownIdError when the dataset has no ratings from them)."""
        users = self.dataset.interactions.user_map
        idx = users.get(_plain_id(user_id, "user"))
        if idx is None:
            from movierec.titles import unknown_user

            fix = "give their movies to recommend_for({movie: rating, …})"
            raise UnknownIdError(unknown_user(user_id, self.dataset.name, users.ids, fix))
        return int(idx)

    def movie_index(self, movie: object) -> int:
        """Dense index of a movie given by raw ``movieId`` (an int, or the text id of a dataset with text
        ids) or by title (a string, fuzzy), read by :func:`movierec.titles.movie_from_text`, the rules an
        exported artifact's Python methods read it by too."""
        if not isinstance(movie, str):
            return self._id_index(movie, titles=True)
        from movierec.titles import movie_from_text, unrated_movie

        ds = self.dataset
        return movie_from_text(
            movie,
            [str(t) for t in self.items["title"]],
            ds.interactions.item_map,
            ds.interactions.item_counts(),  # candidates most-rated first, as the CLI's
            titled=ds.has_titles,
            no_titles=self._no_titles,
            unrated=lambda text: unrated_movie(text, ds.catalog, ds.interactions.item_map, ds.name),
            unknown=self._unknown_movie,
        )

    def _id_index(self, movie: object, titles: bool) -> int:
        """Dense index of a movieId that is not text; ``titles``: whether the caller also takes a title."""
        idx = self.dataset.interactions.item_map.get(_plain_id(movie, "movie"))
        if idx is None:
            if isinstance(movie, (int, np.integer)):
                self._refuse_unrated(str(movie))
            raise UnknownIdError(self._unknown_movie(movie, titles=titles))
        return int(idx)

    def _unknown_movie(self, movie: object, titles: bool = True) -> str:
        """The one line for a movieId the data has no ratings of, with the ids there are and where to find
        them, worded as the artifact's and the CLI's (:func:`movierec.titles.unknown_movie_id`) with the
        notebook's pointer (ds.movies): it said only "unknown movie id 99999999: ml-latest-small has no
        ratings of it", where the user's message names the ids there are and what to do instead."""
        from movierec.titles import known_users

        title = " or a title ('Toy Story')" if titles and self.dataset.has_titles else ""
        ids = known_users(self.dataset.interactions.item_map.ids, "movies")
        return (
            f"unknown movie id {movie!r} in {self.dataset.name} ({ids}); give a movieId from ds.movies{title}"
        )

    def _no_titles(self, movie: str) -> UnknownIdError:
        """A title asked of data loaded without titles: where titles come from (``movies=``), and the raw
        id to give instead (:func:`movierec.titles.no_titles`)."""
        from movierec.titles import no_titles

        ds = self.dataset
        hint = "movies= a file or DataFrame with movieId,title[,genres] to movierec.load"
        return no_titles(
            movie,
            ds.interactions.item_map,
            repr(ds.most_rated_id()),
            movies_hint=hint,
            id_hint="the raw movie id",
        )

    def _refuse_unrated(self, movie: str) -> None:
        """A movie of the catalogue that nobody rated: say so (UnknownIdError), not "no title matches"."""
        from movierec.titles import unrated_movie

        said = unrated_movie(
            movie, self.dataset.catalog, self.dataset.interactions.item_map, self.dataset.name
        )
        if said is not None:
            raise UnknownIdError(said) from None

    # --- asking --------------------------------------------------------------------------
    @refuses_foreign_keywords(PREDICT_MISNAMED)
    def predict(self, user_id: object, movie_id: object) -> float | np.ndarray:
        """Predicted rating of raw user ``user_id`` for raw movie ``movie_id`` (sequences in, array out).

        Only for rating predictors (``svd``, ``knn-baseline``, …); implicit models rank, they do not
        predict ratings (use :meth:`recommend` or :meth:`score`).
        """
        self._check_fitted()
        if not self.explicit:
            raise ConfigError(
                f"{self.name} ranks items but does not predict ratings; use recommend() or score()"
            )
        many = _is_sequence(user_id) or _is_sequence(movie_id)
        users = [self.user_index(u) for u in _as_list(user_id)]
        items = [self.movie_index(m) for m in _as_list(movie_id)]
        if len(users) == 1 and len(items) > 1:
            users = users * len(items)
        if len(items) == 1 and len(users) > 1:
            items = items * len(users)
        if len(users) != len(items):
            raise ConfigError(
                f"{len(users)} users and {len(items)} movies: give one of each, or equal numbers"
            )
        out = np.asarray(self.model.predict(np.asarray(users), np.asarray(items)), dtype=np.float64)
        return out if many else float(out[0])

    @refuses_foreign_keywords(PREDICT_MISNAMED)
    def test(self, testset: Interactions | pd.DataFrame) -> pd.DataFrame:
        """Predict every row of a test set: Surprise's ``algo.test(testset)``, as one DataFrame
        ``userId, movieId, rating, est, was_impossible`` in the test set's row order.

        ``testset`` is a split's test part (``make_split``'s second value) or a DataFrame with raw
        ``userId`` and ``movieId`` columns (``rating`` kept when present, Surprise's ``r_ui``). ``est``
        is :meth:`predict`'s clipped rating; ``was_impossible`` is True where the model fell back to its
        baseline: a k-NN model with fewer than ``min_k`` neighbours, or a user or movie without training
        ratings (svd and baseline give μ plus the known bias there, as Surprise does, which does not
        flag it for them). ``movierec.metrics.rmse(p.est, p.rating)`` is ``accuracy.rmse(predictions)``.
        """
        self._check_fitted()
        if not self.explicit:
            raise ConfigError(
                f"{self.name} ranks items but does not predict ratings; use recommend() or score()"
            )
        if isinstance(testset, Interactions):
            frame = testset.to_frame()
        elif isinstance(testset, pd.DataFrame):
            missing = [c for c in ("userId", "movieId") if c not in testset.columns]
            if missing:
                raise ConfigError(
                    f"test() reads raw ids from columns userId and movieId; missing {', '.join(missing)} "
                    f"(found: {', '.join(map(str, testset.columns))}): {_renamed(testset, missing)}"
                )
            frame = testset.reset_index(drop=True)
        else:
            # Surprise's testset, a list of (uid, iid, r_ui) tuples, was "not list" with no way on
            surprise = (
                "; a testset of (uid, iid, r_ui) tuples is "
                "rec.test(pd.DataFrame(testset, columns=['userId', 'movieId', 'rating']))"
                if isinstance(testset, (list, tuple))
                else ""
            )
            raise ConfigError(
                f"test() takes a split's test part (make_split) or a DataFrame, not {type(testset).__name__}{surprise}"
            )
        users = self._indices(testset, frame, "userId")
        items = self._indices(testset, frame, "movieId")
        est, flags = self.model.predict_with_flags(users, items)
        out = pd.DataFrame({"userId": frame["userId"].to_numpy(), "movieId": frame["movieId"].to_numpy()})
        if "rating" in frame.columns:
            out["rating"] = frame["rating"].to_numpy(dtype=np.float64)
        out["est"] = np.asarray(est, dtype=np.float64)
        out["was_impossible"] = np.asarray(flags, dtype=bool)
        return out

    def _indices(self, testset: Interactions | pd.DataFrame, frame: pd.DataFrame, column: str) -> np.ndarray:
        """Dense indices of a test set's users or movies: a split of this dataset carries them already;
        raw ids (a DataFrame, another dataset's split) are mapped one by one, unknown ones refused."""
        ours = self.dataset.interactions
        if isinstance(testset, Interactions):
            mine, theirs = (
                (ours.user_map, testset.user_map) if column == "userId" else (ours.item_map, testset.item_map)
            )
            if mine is theirs or np.array_equal(np.asarray(mine.ids), np.asarray(theirs.ids)):
                return np.asarray(testset.users if column == "userId" else testset.items, dtype=np.int64)
        lookup = self.user_index if column == "userId" else self._movie_id_index
        return np.fromiter((lookup(_plain_id(x, column[:-2])) for x in frame[column]), dtype=np.int64)

    def _movie_id_index(self, raw: object) -> int:
        """Dense index of a value of a ``movieId`` column: an id, never a title (``"300"`` is movieId 300)."""
        if not isinstance(raw, str):
            return self._id_index(raw, titles=False)
        idx = self.dataset.interactions.item_map.get(raw)
        if idx is None:
            raise UnknownIdError(self._unknown_movie(raw, titles=False))
        return int(idx)

    @refuses_foreign_keywords({"items": "movie_ids= takes raw movieIds or titles"})
    def score(self, user_id: object, movie_ids: Sequence[object] | None = None) -> pd.Series:
        """The model's scores for one raw user over ``movie_ids`` (default: every item), indexed by movieId."""
        self._check_fitted()
        u = self.user_index(user_id)
        items = None if movie_ids is None else np.asarray([self.movie_index(m) for m in movie_ids])
        scores = np.asarray(self.model.score(np.array([u]), items))[0]
        ids = self.items["movieId"].to_numpy() if items is None else self.items["movieId"].to_numpy()[items]
        return pd.Series(scores, index=pd.Index(ids, name="movieId"), name="score")

    # dup-ok: Artifact.recommend_index's options on purpose (one vocabulary for Python and the API); the two
    # rank different things (this fitted model's scores, an artifact's scorer with its support floor)
    @refuses_foreign_keywords(RECOMMEND_MISNAMED)
    def recommend(
        self,
        user_id: object,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        genres: str | Sequence[str] | None = None,
        rerank: str | None = None,
        min_support: int | None = None,
        explain: bool = False,
        exclude: Iterable[object] | None = None,
    ) -> pd.DataFrame:
        """Top-``k`` movies for raw user ``user_id``: a DataFrame ``movieId, title, genres, score`` (rating
        models add ``predicted_rating``), index ``rank`` from 1.

        ``user_id`` may be a list of users (:meth:`predict` takes lists too): the answer is then one frame,
        each user's own list in turn with a ``userId`` column first (ranks 1…k per user). For every user of a large dataset, export the model and rank with
        :func:`movierec.serving.batch.recommend_all_users` (``movierec recommend --all-users``).

        ``score`` is the model's ranking score (the number the CLI, the artifact and the API show;
        for rating models the support-shrunk predicted rating; the list says which under its table, from
        ``frame.attrs["about"]``), and rating models add ``predicted_rating`` (clipped to the scale);
        movies the user already rated are left out unless ``exclude_seen=False``; ``genres`` keeps
        movies having any of those genres (a list, or a string: ``"Comedy"``, ``"Comedy,Animation"``, as
        the CLI's ``--genre``); ``rerank`` (``"mmr:0.3"``, ``"calibrated:0.5"``,
        ``"xquad:0.5"``, docs/beyond-accuracy.md) re-orders the list for diversity, calibration or
        the long tail (scores stay the model's). Like the CLI, the artifact and the API, the list draws
        only movies with at least ``min_support`` training ratings (default
        :func:`movierec.scoring.support.default_min_support`: 5, lowered on small data; ``0`` lifts
        the floor), so a movie rated once or twice never tops it on the strength of one opinion.
        ``explain=True`` adds ``because``: the user's movies each one depends on most (leave-one-out),
        for item-based models (ease, itemknn, rp3beta, slim), whose score of a user is the sum over
        the movies they rated, and k-NN rating models (knn-basic, knn-means, knn-zscore, knn-baseline),
        whose prediction is the baseline plus each rated neighbour's share, s_ij (r_uj − b_uj) / Σ s (the
        liked ones above 0.045 stars name a row; a warning says why rows have none); a factor model's
        trained user vector is no such sum, so it is refused there.
        ``exclude``: movies never to list (a deny-list, implicit's ``filter_items``: say, films not licensed
        in a region), raw movieIds or titles; each must be a movie of the data (:meth:`movie_index`'s error
        otherwise), and the list is filled from the next best.
        """
        train = self._check_lists()
        k = _check_k(k, train.n_items)
        if _is_sequence(user_id):
            return self._recommend_many(
                _as_list(user_id), k, exclude_seen=exclude_seen, genres=genres, rerank=rerank,
                min_support=min_support, explain=explain, exclude=exclude,
            )  # fmt: skip
        u = self.user_index(user_id)
        if explain:
            self._check_explainable()
        mask = self._candidate_mask(train, min_support, genres, exclude)
        if exclude_seen:  # every movie the user rated, also those an implicit model did not train on (< 4)
            mask[self._rated_items(train, u)] = False
        candidates = None if mask.all() else np.flatnonzero(mask)
        nothing_learned = not self.explicit and train.csr()[u].nnz == 0  # the cached CSR's row
        if nothing_learned:  # no training positive: the model's scores say nothing (ease's are all 0)
            warnings.warn(
                f"user {user_id!r} has no rating of {self.threshold:g} or more in the training data, the ratings "
                f"{self.name} learns from: the list is the most-liked movies, as for a visitor without a liked "
                "movie (the CLI and the API show the same)",
                UserWarning,
                stacklevel=_outside_movierec(),  # the caller's, also for a list (recommend per user)
            )
            pop = train.item_counts().astype(np.float64)
            pop[~mask] = -np.inf
            top = np.argsort(-pop, kind="stable")[:k]
            top = top[np.isfinite(pop[top])]
            idx, scores = top[None, :], pop[top][None, :]
        elif rerank:
            idx, scores = self._reranked(train, u, k, exclude_seen, candidates, rerank)
        else:
            idx, scores = self.model.recommend(
                np.array([u]), k, exclude_seen=exclude_seen, candidates=candidates
            )
        keep = idx[0] >= 0
        items, scores = idx[0][keep], scores[0][keep].astype(np.float64)
        if not len(items):
            seen = self._every_rated(train, u) if exclude_seen else np.zeros(0, dtype=np.int64)
            self._say_why_empty(train, min_support, genres, seen, f"user {user_id!r}")
        about = fallback_score(self.count_column) if nothing_learned else ""  # popularity's counts, said so
        frame = self._frame(items, scores, "score", about, reranked=rerank, user=(u, user_id))
        if self.explicit:  # the rating on the dataset's scale, as Surprise's predict would say
            self._with_predicted(frame, self.model.predict(np.full(len(items), u), items))
        if explain and nothing_learned:  # popularity's list: no movie of theirs led to it
            frame["because"] = ""
            return frame
        if explain:
            if self._reasons is None or self._reasons[0] is not train:
                self._reasons = (train, reason_order(train, self.dataset.interactions))
            indptr, order = self._reasons[1]
            rated = order[indptr[u] : indptr[u + 1]].astype(np.int64)
            if self.explicit:  # a k-NN rating model (_check_explainable): its neighbours' shares
                frame["because"] = self._known_rating_reasons(train, u, rated, items)
                return frame
            full = np.asarray(self.model.score(np.array([u])), dtype=np.float64)[0]
            # every training movie is liked (the model's training view); equal values keep reason_order's order
            liked = np.full(len(rated), max(self.threshold, 1.0))
            frame["because"] = self._because(rated, liked, items, full, fold_values=False)
        return frame

    def _recommend_many(self, users: list[object], k: int, **options: Any) -> pd.DataFrame:
        """:meth:`recommend` for each of ``users``, one frame with a ``userId`` column first; every id is
        checked before any list is ranked, so a typo late in the list costs no work."""
        from movierec.display import lists_by_user

        if not users:
            raise ConfigError("user_id: an empty list; give a user id or a list of them")
        for user in users:
            self.user_index(user)
        return lists_by_user(users, [self.recommend(user, k, **options) for user in users])

    def _check_explainable(self) -> None:
        """Reasons for a known user's list are exact only where the score is a sum over their movies."""
        from movierec.scoring import family_of
        from movierec.scoring.explain import known_user_refusal, visitor_reasons
        from movierec.serving.artifact import explains_known_users

        family = family_of(self.model)
        if not explains_known_users("explicit" if self.explicit else "implicit", family):
            visitor = (
                ", or recommend_for(ratings, explain=True)" if visitor_reasons(self.name, family) else ""
            )
            raise ConfigError(
                known_user_refusal(self.name, f"use Recommender(ds, 'ease') or 'knn-baseline'{visitor}")
            )

    @refuses_foreign_keywords(RECOMMEND_MISNAMED)
    def recommend_for(
        self,
        ratings: Mapping[object, float] | Sequence[object] | None = None,
        k: int = 10,
        *,
        features: Mapping[str, Any] | None = None,
        genres: str | Sequence[str] | None = None,
        min_support: int | None = None,
        explain: bool = False,
        exclude: Iterable[object] | None = None,
    ) -> pd.DataFrame:
        """Top-``k`` for a person who is not in the dataset, from what they rated and/or who they are: the
        same DataFrame as :meth:`recommend`, the movies given left out.

        ``ratings``: ``{movie: rating}`` or ``[(movie, rating), …]``, a movie being a raw ``movieId``
        or a title (fuzzy), each movie once; or a plain list of movies, each taken as liked (the top of
        the rating scale for a rating model). Sequence models read the movies in the order given, oldest first.
        The model folds the person in without refitting, with the code an exported artifact runs for
        ``POST /recommendations`` (``score_new_user``). An implicit model counts ratings ≥ the
        threshold as liked; when none is, the list is the most-liked movies (the most ratings ≥ the
        threshold, the API's ``fallback``) and a warning says so.
        ``explain=True`` adds ``because``: the (up to two) movies given that each recommendation
        depends on most, by leave-one-out on the fold-in, the API's ``explain`` (sequence models: the
        last movie).

        ``features``: the person's user features, for a model fitted with
        ``user_features="demographics"`` (bpr, warp, logistic, warp-kos, segment-popularity): any of
        ``{"age": 31, "gender": "F", "occupation": "engineer", "zip": "94043"}``; user features from a
        ``userId,feature[,weight]`` file: the file's column and value, ``{"feature": "heavy"}``, or
        feature names with weights, ``{"feature:heavy": 1.0}`` (``model.user_feature_names_``), or a
        1 × n sparse row over those names; with or without ``ratings``. A hybrid model's visitor
        vector is the normalised sum of those features' embeddings, counted as one more liked movie
        beside the liked ones given; segment-popularity lists the features' segment. With
        demographics this is :meth:`movierec.serving.artifact.Artifact.recommend_for_visitor`'s
        list (the API's ``POST /recommendations`` with ``features``) for the same fitted model. A
        model without user features, an unknown field or a value its training users never had is a
        ``ConfigError`` naming it; ``explain=True`` is refused with features (the list rests on them too,
        and leave-one-out over the movies cannot weigh them). ``exclude``: movies never to list, as in
        :meth:`recommend`.
        """
        train = self._check_lists()
        k = _check_k(k, train.n_items)
        if features is not None:
            self._check_visitor_features(features, explain)
        items, values = self._given(ratings, features is not None)
        fallback = (  # the model's fold-in lists the most-liked movies, scored by their counts
            features is None
            and values is not None
            and not self.explicit
            and not getattr(self.model, "sequential", False)
            and not (values >= self.threshold).any()
        )
        if fallback:
            warnings.warn(
                f"none of these ratings reaches {self.threshold:g}, the rating {self.name} counts as liked, "
                f"so the list is the most-liked movies (the most ratings ≥ {self.threshold:g})",
                UserWarning,
                stacklevel=_outside_movierec(),
            )
        extra = {} if features is None else {"features": features}
        scores = np.array(
            self.model.score_new_user(items, values, threshold=self.threshold, **extra), dtype=np.float64
        )
        mask = self._candidate_mask(train, min_support, genres, exclude)
        mask[items] = False
        scores[~mask] = -np.inf
        from movierec.models.base import topk

        idx, vals = topk(scores[None, :], min(k, int(mask.sum())) or 1)
        keep = (idx[0] >= 0) & np.isfinite(vals[0])
        top = idx[0][keep]
        if not len(top):
            self._say_why_empty(train, min_support, genres, items, "this person")
        about = fallback_score(self.count_column) if fallback else ""  # the fold-in's popularity counts
        frame = self._frame(top, vals[0][keep], "score", about)
        if self.explicit and hasattr(self.model, "predict_new_user"):
            self._with_predicted(frame, np.asarray(self.model.predict_new_user(items, values))[top])
        if explain:
            frame["because"] = self._because(items, values, top, scores)
        return frame

    def _given(
        self, ratings: Mapping[object, float] | Sequence[object] | None, with_features: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(items, values)`` of the ratings a new person gives :meth:`recommend_for`: item indices and
        their ratings (``None``: a list of liked movies; a rating model takes them as the top of the
        scale). ``with_features``: the person's features carry the list, so no rating is needed."""
        empty = isinstance(ratings, Mapping | list | tuple) and not ratings
        if with_features and (ratings is None or empty):
            return np.zeros(0, dtype=np.int64), None
        if ratings is None:
            raise ConfigError(
                "ratings: give {movie: rating}, [(movie, rating), …] or a list of movies, "
                "or the person's features= (for a model fitted with user_features)"
            )
        pairs = _rating_pairs(ratings)
        items = np.asarray([self.movie_index(m) for m, _ in pairs], dtype=np.int64)
        given = [r for _, r in pairs]
        values: np.ndarray | None
        if all(r is None for r in given):
            values = (
                None if not self.explicit else np.full(len(items), self.dataset.interactions.rating_scale[1])
            )
        elif any(r is None for r in given):
            raise ConfigError("ratings: give a rating for every movie, or for none (a list of liked movies)")
        else:
            values = np.asarray([_rating_value(m, r) for m, r in pairs], dtype=np.float32)
            self._refuse_given(pairs, values)
        _check_given_once(items, [m for m, _ in pairs], self._named)
        return items, values

    def _refuse_given(self, pairs: list[tuple[object, object]], values: np.ndarray) -> None:
        """Refuse a given rating the data could not hold, with the words of POST /recommendations, POST
        /feedback and ``recommend --rated`` (:func:`~movierec.interactions.refused_rating`): outside the
        scale, or between two of its levels (3.7 on half stars, which the data never holds and a retrain
        with it could not learn from)."""
        inter = self.dataset.interactions
        scale = inter.rating_scale
        step = rating_step(inter.ratings, scale)
        for (movie, _), value in zip(pairs, values.tolist(), strict=True):
            why = refused_rating(value, scale, step)
            if why is not None:
                raise ConfigError(f"rating {value:g} for movie {movie!r}: {why}")

    def _check_visitor_features(self, features: object, explain: bool) -> None:
        """Refuse ``features=`` where the model cannot use them: a model that does not learn from user
        features (naming those that do), or one fitted without them (saying how to fit with them); and
        features that are neither a mapping nor a ready 1 × n feature row (what the model's
        ``score_new_user`` takes for user features that are not demographics)."""
        import scipy.sparse as sp

        if not isinstance(features, Mapping) and not sp.issparse(features):
            raise ConfigError(
                'features: give a mapping such as {"age": 31, "gender": "F", "occupation": "engineer"}, '
                f"got {type(features).__name__}"
            )
        if not getattr(self.model, "uses_user_features", False):
            from movierec.models.registry import user_feature_models

            raise ConfigError(
                f"{self.name} does not learn from user features, so it cannot use a person's features=; "
                f"models that do, fitted with user_features='demographics': {', '.join(user_feature_models())}"
            )
        if not list(getattr(self.model, "user_feature_names_", None) or []):
            raise ConfigError(
                f"{self.name} was fitted without user features, so it cannot use a person's features=; "
                f"fit Recommender(dataset, {self.name!r}, user_features='demographics') to use them"
            )
        if explain:
            raise ConfigError(
                "explain=True explains a list by the movies given, and a list from features= rests on the "
                "features too; ask without explain, or without features for reasons"
            )

    def _because(
        self,
        items: np.ndarray,
        values: np.ndarray | None,
        top: np.ndarray,
        full: np.ndarray,
        *,
        fold_values: bool = True,
    ) -> list[str]:
        """Each listed movie's reasons as "Title; Title" (:func:`movierec.scoring.explain.because`).
        ``fold_values=False``: ``values`` only order the candidates (a known user's ratings), and the
        fold-in takes every movie as liked, as the model's training view did. A rating predictor's
        reasons are read on its raw predicted ratings (:meth:`_rating_reasons`). A sequence model's reason is
        the last movie given, on every row, and a warning says so once
        (:func:`~movierec.scoring.explain.sequence_note`); a model with one list for everyone (popularity,
        sequential-popularity) has none, and a warning says why (:func:`~movierec.scoring.explain.one_list_note`)."""
        from movierec.scoring import family_of
        from movierec.scoring.explain import because, one_list_note, sequence_note

        titles = self.items["title"].to_numpy(dtype=object)
        # sequential-popularity reads histories in time order but gives them no part: before the sequence
        # models, whose reason (the last movie) its list never followed
        if family_of(self.model) == "scores":  # one list for everyone: no movie given is a reason
            note = one_list_note(self.model.name, self.model.get_params())
            warnings.warn(f"explain: {note}", UserWarning, stacklevel=_outside_movierec())
            return [""] * len(top)
        if getattr(self.model, "sequential", False):  # what comes next after the last movie
            # every row names the last movie whatever its rating: said once, as the CLI's note and the page's
            warnings.warn(f"explain: {sequence_note(self.name)}", UserWarning, stacklevel=_outside_movierec())
            return [str(titles[items[-1]])] * len(top)
        rated = np.full(len(items), max(self.threshold, 1.0)) if values is None else np.asarray(values)
        if fold_values and hasattr(self.model, "raw_new_user"):
            return self._rating_reasons(items, rated, top)

        def without(keep: np.ndarray) -> np.ndarray | None:
            if not self.explicit and not (rated[keep] >= self.threshold).any():
                return None  # nothing liked is left: the fold-in would answer with popularity
            kept = None if values is None or not fold_values else rated[keep].astype(np.float32)
            return np.asarray(
                self.model.score_new_user(items[keep], kept, threshold=self.threshold), dtype=np.float64
            )

        finite = np.where(np.isfinite(full), full, 0.0)
        reasons = because(rated, self.threshold, top, finite, without)
        return ["; ".join(str(titles[items[b]]) for b in r) for r in reasons]

    def _rating_reasons(self, items: np.ndarray, rated: np.ndarray, top: np.ndarray) -> list[str]:
        """A rating predictor's reasons: leave-one-out on the raw predicted rating, beyond the drop every
        movie shares (``because(..., shared=)``), as the artifact's ``_explain``; rows no rated movie
        explains have none, and a warning says why once (:func:`~movierec.scoring.explain.because_note`)."""
        from movierec.scoring.explain import LIKED_BY_MOST, because, because_note, rating_tolerance

        titles = self.items["title"].to_numpy(dtype=object)
        model: Any = self.model
        given = rated.astype(np.float32)
        full = model.raw_new_user(items, given, threshold=self.threshold)
        if full is None:  # no fold-in to read (none of the rating models returns none)
            return [""] * len(top)

        def without(keep: np.ndarray) -> np.ndarray | None:
            return model.raw_new_user(items[keep], given[keep], threshold=self.threshold)  # type: ignore[no-any-return]

        tol = rating_tolerance(self.dataset.interactions.rating_scale)
        terms = None  # k-NN: each rated neighbour's term in the prediction, read instead of leave-one-out
        if hasattr(model, "new_user_terms"):
            terms = model.new_user_terms(items, given, top, threshold=self.threshold)
        general: list[bool] = []  # rows on the list for how highly viewers rate them (item biases)
        reasons = because(rated, self.threshold, top, full, without, shared=tol, terms=terms, general=general)
        note = because_note(self.name, reasons, shares=terms is not None, general=sum(general))
        if note is not None:
            warnings.warn(f"explain: {note}", UserWarning, stacklevel=_outside_movierec())
        named = ["; ".join(str(titles[items[b]]) for b in r) for r in reasons]
        return [f"({LIKED_BY_MOST})" if g else text for text, g in zip(named, general, strict=True)]

    def _known_rating_reasons(
        self, train: Interactions, u: int, order: np.ndarray, top: np.ndarray
    ) -> list[str]:
        """A known user's reasons under a k-NN rating model (knn-basic, knn-means, knn-zscore, knn-baseline):
        each training movie's share of a listed movie's prediction (:func:`~movierec.scoring.explain.known_because`,
        the artifact's call too), read on the model's serving scorer over the training ratings (the one an
        export writes); rows none explains have none, and a warning says why once, as for a visitor."""
        from movierec.scoring import export_family, make_scorer
        from movierec.scoring.explain import because_note, known_because, rating_tolerance

        lists = getattr(self.model, "neighbours_", None)
        cached = self._known_scorer
        if cached is None or cached[0] is not train or cached[1] is not lists:
            family, arrays, spec = export_family(self.model, train.n_users, train.n_items, self.threshold)
            seen = train.csr().astype(np.float32)  # the ratings, as seen.npz holds them (the model's are 1s)
            seen.sort_indices()
            cached = self._known_scorer = (train, lists, make_scorer(family, arrays, seen, spec))
        tol = rating_tolerance(self.dataset.interactions.rating_scale)
        reasons = known_because(cached[2], u, order, top, self.threshold, tol)
        note = because_note(self.name, reasons, shares=True)
        if note is not None:
            warnings.warn(f"explain: {note}", UserWarning, stacklevel=_outside_movierec())
        titles = self.items["title"].to_numpy(dtype=object)
        return ["; ".join(str(titles[b]) for b in r) for r in reasons]

    def _candidate_mask(
        self,
        train: Interactions,
        min_support: int | None,
        genres: str | Sequence[str] | None,
        exclude: Iterable[object] | None = None,
    ) -> np.ndarray:
        """Movies a list may draw: enough training ratings (the serving floor), and any of ``genres`` (a
        list, or one string: ``"Comedy"`` or ``"Comedy,Animation"``, as the CLI's ``--genre``), none of
        ``exclude`` (a deny-list of movies)."""
        from movierec.titles import check_genres, genre_list, genre_spellings

        denied = self._denied(exclude)  # an unknown movie fails before any work
        mask = self._support_mask(train, min_support)
        mask[denied] = False
        asked = [g.strip() for g in genre_list(genres) if g.strip()]
        if asked:
            # an unknown genre names where Python lists them: the CLI's --genre is checked before it trains
            spellings = genre_spellings(self.items["genres"])
            wanted = set(check_genres(asked, spellings, "rec.dataset.genre_counts()"))
            mask &= self.items["genres"].map(lambda gs: any(g.casefold() in wanted for g in gs)).to_numpy()
            if not mask.any():
                raise ConfigError(f"no movie with enough ratings has any of the genres {asked}")
        return mask

    def _denied(self, exclude: Iterable[object] | None) -> np.ndarray:
        """Dense indices of a deny-list: an iterable of raw movieIds or titles (one id or title alone is
        read as one movie, not as characters); an unknown movie is :meth:`movie_index`'s error."""
        if exclude is None:
            return np.zeros(0, dtype=np.int64)
        if isinstance(exclude, (str, bytes, int, np.integer)):
            exclude = [exclude]
        if isinstance(exclude, Mapping) or not isinstance(exclude, Iterable):
            raise ConfigError(
                f"exclude: give the movies never to list as a list of movieIds, got {type(exclude).__name__}"
            )
        return np.asarray([self.movie_index(m) for m in exclude], dtype=np.int64)

    def _say_why_empty(
        self,
        train: Interactions,
        min_support: int | None,
        genres: str | Sequence[str] | None,
        seen: np.ndarray,
        whom: str,
    ) -> None:
        """Why a list came out empty, as a ``UserWarning`` (the empty frame alone reads as "nothing suits
        you"; :meth:`similar` warns the same way): the support floor hid every movie left, and the largest
        ``min_support`` that lists some (the CLI's ``--min-support`` note names the same), or ``whom``
        rated every movie there is, or the model scores none."""
        from movierec.beyond import train_pairs
        from movierec.scoring.support import default_min_support

        support = np.bincount(train_pairs(train).indices, minlength=train.n_items)
        floor = default_min_support(support) if min_support is None else int(min_support)
        open_ = self._candidate_mask(train, 0, genres)
        open_[seen] = False
        if open_.any() and (support[open_] < floor).any():
            largest = int(support[open_].max())
            why = (
                f"min_support={floor} leaves nothing to list for {whom}: the most-rated movie it could list "
                f"has {largest} training ratings (min_support={largest} or lower lists movies)"
            )
        elif open_.any():
            why = f"nothing left to list: {self.name} scores no movie {whom} has not rated"
        else:
            why = f"nothing left to list: {whom} rated every movie there is"
        warnings.warn(why, UserWarning, stacklevel=_outside_movierec())

    def _every_rated(self, train: Interactions, u: int) -> np.ndarray:
        """Every movie user ``u`` rated: their training movies and those an implicit model left out (< 4)."""
        from movierec.beyond import train_pairs

        pairs = train_pairs(train)
        return np.union1d(pairs.indices[pairs.indptr[u] : pairs.indptr[u + 1]], self._rated_items(train, u))

    def _rated_items(self, train: Interactions, u: int) -> np.ndarray:
        """Every movie user ``u`` rated in the dataset: an implicit model trains on ratings ≥ 4 only, and
        its own ``exclude_seen`` would let a movie rated 3 back into the list (the artifact and the API
        leave those out too, from ``seen.npz``'s ``rated_*`` arrays)."""
        rated = rated_beyond_training(self.dataset.interactions, train)
        if rated is None:  # the model's own exclude_seen covers everything the user rated
            return np.zeros(0, dtype=np.int64)
        return np.asarray(rated.indices[rated.indptr[u] : rated.indptr[u + 1]], dtype=np.int64)

    def _support_mask(self, train: Interactions, min_support: int | None, pairs: Any = None) -> np.ndarray:
        """Movies with at least ``min_support`` training ratings (the serving floor; None = its default),
        counted in ``pairs`` (binary users × items; default: every training pair)."""
        from movierec.beyond import train_pairs
        from movierec.scoring.support import default_min_support

        pairs = train_pairs(train) if pairs is None else pairs
        support = np.bincount(pairs.indices, minlength=train.n_items)  # users per movie
        if min_support is None:
            min_support = default_min_support(support)
        elif (
            isinstance(min_support, bool) or not isinstance(min_support, (int, np.integer)) or min_support < 0
        ):
            raise ConfigError(f"min_support must be a whole number ≥ 0, got {min_support!r}")
        return np.asarray(support >= min_support)

    def _reranked(
        self, train: Interactions, u: int, k: int, exclude_seen: bool, candidates: Any, spec: str
    ) -> tuple[np.ndarray, np.ndarray]:
        from movierec.beyond import item_info, train_pairs
        from movierec.evaluation import _genre_matrix
        from movierec.rerank import parse_rerank

        reranker = parse_rerank(spec)
        assert reranker is not None  # a non-empty spec parses to a re-ranker or raises
        seen = train_pairs(train)[[u]]
        s = np.array(self.model.score(np.array([u])), dtype=np.float32)
        if exclude_seen:
            s[0, seen.indices] = -np.inf
        if candidates is not None:
            keep = np.zeros(s.shape[1], dtype=bool)
            keep[candidates] = True
            s[0, ~keep] = -np.inf
        idx = reranker.rerank(s, k, seen, item_info(self.model, train, _genre_matrix(self.dataset)))
        return idx, np.where(idx >= 0, s[0, np.maximum(idx, 0)], -np.inf)

    @refuses_foreign_keywords(SIMILAR_MISNAMED)
    def similar(
        self, movie: object, k: int = 10, min_support: int | None = None, *, by: str = "lift"
    ) -> pd.DataFrame:
        """Movies like ``movie`` (a title, fuzzy, or a raw ``movieId``): ``movieId, title, genres, similarity``.

        ``by="lift"`` (the default): the movies liked together with it more often than chance says, from
        the training positives, whatever the model (:func:`movierec.models.itemknn.lift_neighbours`:
        popular films do not crowd every list, as they do under cosine or EASE's weights). ``by="model"``:
        the model's own similarity, cosine of its item vectors or a neighbour or linear model's weights (a
        model with neither, such as baseline or popularity, refuses in ``movierec similar -m``'s words).
        normal-predictor refuses both, as ``movierec similar`` does: random draws make no list. Either is
        shrunk by co-support and drawn from movies with at least ``min_support`` training ratings (default
        as in :meth:`recommend`; ``0`` lifts the floor): the list ``movierec similar`` and the API give
        (:func:`movierec.scoring.support.shrunk_similarities`). An empty list comes with a ``UserWarning``
        saying why (say, an implicit model that never saw the movie rated ≥ 4).
        """
        from movierec.beyond import train_pairs
        from movierec.models.base import topk
        from movierec.scoring.support import (
            default_min_support,
            empty_lift_reason,
            empty_similar_reason,
            shrunk_similarities,
        )

        if by not in ("lift", "model"):
            raise ConfigError(f"by={by!r}: expected 'lift' (liked together more than chance) or 'model'")
        # normal-predictor is refused by lift too, as by movierec similar: its lift list was the one every
        # model gives, listed under a model that did not make it
        train = self._check_lists()
        k = _check_k(k, train.n_items)
        i = self.movie_index(movie)
        n = train.n_items
        raw = np.full(n, -np.inf, dtype=np.float32)
        if by == "lift":  # co-support and the floor count on the positives lift came from
            table, pairs = self._lift_table(train)
            row = table[i]
            raw[row.indices] = row.data
        else:
            items, sims = self.model.similar_items(i, n)  # every item's raw similarity, best first
            raw[items[items >= 0]] = sims[items >= 0]
            pairs = train_pairs(train)
        scores = shrunk_similarities(raw, pairs, i)
        scores[i] = -np.inf
        linked = bool(np.isfinite(scores).any())
        scores[~self._support_mask(train, min_support, pairs)] = -np.inf
        idx, vals = topk(scores[None, :], k)
        keep = (idx[0] >= 0) & np.isfinite(vals[0])
        if not keep.any():
            support = np.bincount(pairs.indices, minlength=n)
            floor = default_min_support(support) if min_support is None else int(min_support)
            title = self._named(i)
            reason = (
                empty_lift_reason(title, self.threshold, 'by="model"')
                if by == "lift" and not linked
                else empty_similar_reason(
                    self.name if by == "model" else "lift", title, int(support[i]),
                    threshold=None if self.explicit else self.threshold, floor=floor,
                    floor_hid=linked and floor > 0, lower="min_support=0",
                )
            )  # fmt: skip
            warnings.warn(reason, UserWarning, stacklevel=_outside_movierec())
        elif by == "lift":  # one or two people's likes: said as the CLI and the API say it
            self._warn_thin(i, pairs)
        else:  # a model that learned from one or two people: its list is the floor's rare films
            self._warn_thin_model(i, pairs)
        about = similarity_meaning(by, self.dataset.interactions.interactions_only)
        return self._frame(idx[0][keep], vals[0][keep].astype(np.float64), "similarity", about)

    def _warn_thin(self, i: int, positives: Any) -> None:
        """Warn, at the caller's line, that a list by lift rests on the one or two people who liked movie
        ``i`` (:func:`movierec.serving.artifact.thin_note`: ``movierec similar``'s note, the API's ``note``)."""
        from movierec.serving.artifact import thin_note

        likes = int(np.count_nonzero(positives.indices == i))
        threshold = None if self.dataset.interactions.interactions_only else self.threshold
        note = thin_note(self._named(i), likes, threshold)
        if note is not None:
            warnings.warn(note, UserWarning, stacklevel=_outside_movierec())

    def _warn_thin_model(self, i: int, pairs: Any) -> None:
        """Warn, at the caller's line, that the model learned movie ``i`` from one or two people's ratings
        (:func:`movierec.serving.artifact.thin_model_note`: ``movierec similar -m``'s note, the API's)."""
        from movierec.display import count_kind
        from movierec.serving.artifact import thin_model_note

        count = int(np.count_nonzero(pairs.indices == i))
        liked = self.threshold if self.count_column == "n_liked" else None
        kind = count_kind(liked, self.dataset.interactions.interactions_only)
        note = thin_model_note(self._named(i), count, self.name, kind, liked)
        if note is not None:
            warnings.warn(note, UserWarning, stacklevel=_outside_movierec())

    def _named(self, i: int) -> str:
        """How a warning names movie ``i`` (:func:`movierec.titles.movie_named`): its title, or ``movieId
        tt0100003`` for data without titles, as ``movierec similar``'s notes and the API's do."""
        from movierec.titles import movie_named

        raw = self.dataset.interactions.item_map.to_raw(i)
        return movie_named(self.items["title"].iloc[i], raw, titled=self.dataset.has_titles)

    @refuses_foreign_keywords(SIMILAR_MISNAMED)
    def similar_users(self, user_id: object, k: int = 10) -> pd.DataFrame:
        """The ``k`` training users most like raw user ``user_id``: ``userId, similarity``, index ``rank`` from 1.

        Similarity is the cosine of the model's user vectors (``user_factors_``), as implicit's
        ``similar_users`` computes it; the user is left out (implicit lists the user first, at 1.0). Only
        models that learn one vector per user have it (als, ials, bpr, warp, svd, …: the ``ConfigError`` of
        any other names them all); neighbour and linear models (ease, itemknn, …) score from the items
        alone. Raw ids in and out, as :meth:`recommend`. Printed, the frame says under its table what the
        similarity is (``frame.attrs["about"]``), as the movie lists do.
        """
        train = self._check_fitted()
        k = _check_k(k, train.n_users)
        u = self.user_index(user_id)
        idx, sims = self.model.similar_users(u, k)
        keep = (idx >= 0) & np.isfinite(sims)
        if not keep.any():
            warnings.warn(
                f"user {user_id!r} has an all-zero vector in {self.name} (no positive in its training data?), "
                "so no user is like them",
                UserWarning,
                stacklevel=_outside_movierec(),
            )
        from movierec.display import Recommendations

        ids = train.user_map.to_raw(idx[keep])
        frame = Recommendations({"userId": ids, "similarity": sims[keep].astype(np.float64)})
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="rank")
        # the number said under the table, as under every movie list: 0.297 alone read as a share or a score
        frame.attrs[ABOUT] = {
            "similarity": f"cosine of {self.name}'s user vectors (1: the same taste, 0: unrelated)"
        }
        return frame

    def _lift_table(self, train: Interactions) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Each movie's lift neighbours from ``train``'s positives and those positives (binary users ×
        items, for co-support and the floor), computed once per training data."""
        import scipy.sparse as sp

        from movierec.models.itemknn import lift_neighbours, train_positives

        cached = getattr(self, "_lift", None)
        if cached is None or cached[0] is not train:
            positives = train_positives(
                train, self.threshold
            )  # the table's, and co-support's and the floor's
            table = lift_neighbours(train, self.threshold, positives=positives)
            empty = sp.csr_matrix((train.n_items, train.n_items), dtype=np.float32)
            self._lift = (train, empty if table is None else table, positives)
        return self._lift[1], self._lift[2]

    @property
    def count_column(self) -> str:
        """What a list calls a movie's training count, by what it counts (``n_liked``: ratings ≥ the
        threshold, what an implicit model learned from; ``n_ratings``: every rating), as an exported
        artifact's lists do (:func:`movierec.serving.artifact.count_column`)."""
        from movierec.serving.artifact import count_column

        model = self.model  # training_data's rule: every rating for rating and sequence models
        liked = getattr(model, "kind", "implicit") != "explicit" and not getattr(model, "sequential", False)
        return count_column(self.threshold if liked else None, self.dataset.interactions.interactions_only)

    def _facts(self, train: Interactions) -> pd.DataFrame:
        """Per item (row ``i`` = item ``i``): ``year``, the training count the support floor counts, and
        ``imdbId, tmdbId`` where the data has a links.csv: the columns an artifact's lists carry, computed
        once per training set."""
        if self._facts_cache is None or self._facts_cache[0] is not train:
            from movierec.beyond import train_pairs
            from movierec.serving.artifact import links_table

            facts = pd.DataFrame({"year": pd.array(self.items["year"], dtype="Int64")})
            facts[self.count_column] = np.bincount(train_pairs(train).indices, minlength=train.n_items)
            links = links_table(self.dataset)
            if links is not None:
                ids = pd.DataFrame({"movieId": [str(m) for m in self.items["movieId"]]})
                joined = ids.merge(links, on="movieId", how="left")
                for col in ("imdbId", "tmdbId"):
                    facts[col] = pd.array(joined[col], dtype="string")
            self._facts_cache = (train, facts)
        return self._facts_cache[1]

    def _frame(
        self,
        items: np.ndarray,
        values: np.ndarray,
        column: str,
        about: str = "",
        *,
        reranked: str | None = None,
        user: tuple[int, object] | None = None,
    ) -> pd.DataFrame:
        """A list's DataFrame: ``movieId, title, year, genres,`` ``column`` (score or similarity), the
        count (:attr:`count_column`), ``imdbId, tmdbId`` where the data has links: the columns, in order,
        of an exported artifact's ``recommend`` and ``similar``. ``attrs["about"]`` says what ``column``
        means (``about``, else a score's meaning for this model, which says a ``reranked`` list's scores
        are the model's, out of order), and the list prints it under its table. ``user``: (index, raw id)
        of the training user whose list it is, for a markov chain's rows note (:meth:`_note_back_off`)."""
        from movierec.display import Recommendations

        meta = self.items.iloc[items]
        facts = self._facts(self._check_fitted()).iloc[items]
        data: dict[str, Any] = {
            "movieId": meta["movieId"].to_numpy(),
            "title": meta["title"].to_numpy(dtype=object),
            "year": facts["year"].to_numpy(),
            "genres": ["|".join(g) for g in meta["genres"]],
            column: values,
        }
        data.update({c: facts[c].to_numpy() for c in facts.columns if c != "year"})
        frame = Recommendations(data, index=pd.RangeIndex(1, len(items) + 1, name="rank"))
        inter = self.dataset.interactions  # popularity's score is a count of positives: said as one
        counted = score_count(
            self.model.name, self.model.get_params(), self.threshold, inter.interactions_only
        )
        frame.attrs[ABOUT] = {column: about or score_meaning(self.explicit, counted, reranked)}
        if user is not None:  # markov's rows no one rated next after the user's latest movie, said so
            self._note_back_off(frame, *user, items)
        return frame

    def _note_back_off(self, frame: pd.DataFrame, u: int, user_id: object, items: np.ndarray) -> None:
        """A markov list's rows whose movies no one rated next after the user's latest, in training: their
        scores are the popularity back-off (0.00045 under row 1's 0.14289 for user 1), said under the list
        in the CLI's words (:func:`movierec.scoring.markov.back_off_note`, ``attrs["rows_note"]``)."""
        from movierec.display import ROWS
        from movierec.scoring import family_of
        from movierec.scoring.markov import back_off_note, followed

        if family_of(self.model) != "markov" or not len(items):
            return
        last = int(self.model.last_item_[u])
        if last < 0:
            return
        counts = self.model.transitions_
        reached = followed(counts.indptr, counts.indices, last, items).tolist()
        note = back_off_note(reached, str(self.items.iloc[last]["title"]), f"user {user_id}'s")
        if note:
            frame.attrs[ROWS] = {"note": note, "rows": len(items)}

    def _with_predicted(self, frame: pd.DataFrame, ratings: Any) -> None:
        """Add ``predicted_rating`` after the count, where an artifact's frame has it (before the links)."""
        values = np.asarray(ratings, dtype=np.float64)
        frame.insert(frame.columns.get_loc(self.count_column) + 1, "predicted_rating", values)

    # --- the rest of the workflow --------------------------------------------------------
    @refuses_foreign_keywords({})
    def map(self, method: str = "tsne", *, sample: int | None = 500, title: str = "") -> Any:
        """The model's item embeddings as an interactive plotly Figure (one colour per main genre).

        ``method``: ``"tsne"``, ``"umap"`` or ``"pca"`` (the vectors are L2-normalised and reduced to 50
        dimensions by PCA first). ``sample``: how many of the movies rated in training to map, drawn
        uniformly with the recommender's seed (``None``: every one; t-SNE then takes longer). ``title``:
        the figure's title (default: the model and the method). A model without item vectors (ease,
        the neighbour models) is a ConfigError naming those that have them."""
        from movierec.viz.embeddings import item_frame, map_figure, project

        train = self._check_fitted()
        emb = self.model.item_embeddings()
        if emb is None:  # the reason and the models that have vectors, as movierec embed says them
            from movierec.viz.report import _no_vectors, vector_models

            why, _hint = _no_vectors(type(self.model), self.name, self.model)
            raise ConfigError(
                f"{self.name} {why}, so there is no map; the models with item vectors are "
                f"{', '.join(vector_models())} (Recommender(dataset, 'svd').fit().map()); "
                f".similar(movie) lists {self.name}'s nearest movies"
            )
        counts = np.bincount(train.items, minlength=train.n_items)
        frame = item_frame(self.items, counts)
        proj = project(emb, method, self.seed, sample, items=np.flatnonzero(counts > 0))
        return map_figure(frame, proj, title=title or f"{self.name} item embeddings ({method})")

    def export(self, path: str | Path, *, force: bool = False) -> Any:
        """Write the fitted model as a serving artifact folder and load it back (``movierec serve`` reads it)."""
        from movierec.serving.artifact import export_artifact, load_artifact

        train = self._check_fitted()
        out = export_artifact(
            self.model, self.dataset, train, path, force=force, implicit_threshold=self.threshold
        )
        return load_artifact(out)


def _model_for(dataset: Dataset, model: str | ModelContract) -> str | ModelContract:
    """The model to bind: ``model``, or the default, svd, whose ratings are what MovieLens holds. On data
    without ratings (:attr:`~movierec.interactions.Interactions.interactions_only`) svd learns nothing, its
    every prediction the one rating: the default is then ease (itemknn past ease's ``max_items``), with a
    warning saying so."""
    inter = dataset.interactions
    if model is not _SVD or not inter.interactions_only:
        return str(model) if model is _SVD else model
    from movierec.models.ease import EASE

    chosen = "ease" if int(np.unique(inter.items).size) <= EASE().max_items else "itemknn"
    warnings.warn(
        f"no model given: {chosen}, which learns from positives ({dataset.name} has no ratings; svd, the "
        "default on rated data, would learn nothing from it)",
        UserWarning,
        stacklevel=_outside_movierec(),
    )
    return chosen


def _check_model_instance(model: object) -> None:
    """Refuse, at construction, what is neither a registry name nor a model: ``None``, a number or a model
    class would otherwise pass until ``fit()`` failed with an AttributeError far from the mistake."""
    if isinstance(model, type):
        raise ConfigError(
            f"model: pass an instance ({model.__name__}()) or a registry name, not the class {model.__name__}"
        )
    missing = [m for m in ("fit", "score", "recommend") if not callable(getattr(model, m, None))]
    if missing:
        raise ConfigError(
            f"model must be a registry name (such as 'svd' or 'ease'; movierec.models.available() lists them) or a "
            f"model instance, got {model!r} (no {', '.join(missing)})"
        )


_PACKAGE = Path(__file__).resolve().parent
#: what a Surprise or LightFM user types to save a model (Recommender.__getattr__ points to export)
_SAVE_WORDS = frozenset({"save", "dump", "load"})


def _holding_own_warnings(call: Callable[[], object]) -> list[tuple[Warning | str, type[Warning]]]:
    """Run ``call``; the warnings movierec shows during it are held back and returned, for the caller to
    raise at its user's line. A model's warning is set for ``model.fit`` called directly (bpr's
    stacklevel=3), so through Recommender.fit it named recommender.py's line. Only what the filters let
    through is held (``warnings.showwarning``, no filter change), so a warning shown once stays once;
    another library's is shown where it was raised, as before."""
    held: list[tuple[Warning | str, type[Warning]]] = []
    shown = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if Path(filename).resolve().is_relative_to(_PACKAGE):
            held.append((message, category))
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        call()
    finally:
        warnings.showwarning = shown
    return held


def _check_user_features(model: object, name: str, spec: str | None) -> str | None:
    """``user_features`` as :meth:`Recommender.fit` builds them (a blank spec is none); a model that does not
    learn from user features is refused at once, naming those that do, rather than training without them."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    if not getattr(model, "uses_user_features", False):
        from movierec.models.registry import user_feature_models

        raise ConfigError(
            f"{name} does not learn from user features (user_features={spec!r}); "
            f"models that do: {', '.join(user_feature_models())}"
        )
    return spec


def _check_given_once(items: np.ndarray, given: Sequence[object], named: Callable[[int], str]) -> None:
    """Refuse a movie given twice (by id and title, or two titles): which of its ratings should count is
    a guess, and the CLI's ``--rated`` refuses it with the same words; ``named`` names the movie (its
    title, or ``movieId tt…`` for data without titles)."""
    from movierec.titles import first_repeat

    repeat = first_repeat(items.tolist())
    if repeat is not None:
        a, b = repeat
        raise ConfigError(
            f"ratings: {named(int(items[b]))} is given twice (as {given[a]!r} and {given[b]!r}); "
            "give each movie once"
        )


def _check_k(k: int, n: int) -> int:
    """A list length as ``recommend`` and the CLI take it: a whole number ≥ 1. A list is at most ``k`` long,
    at every door: one longer than the catalogue is every movie that qualifies, as the artifact, the API
    and the CLI give it (they did; Python and the CLI refused, so ``recommend(1)`` on a 3-movie file failed
    with a k nobody typed), and the rated movies, the support floor and ``genres`` shorten a list anyway.
    No warning says so, at either Python door (the artifact never warned): ``len(frame)`` does.
    Returns ``k`` cut to the ``n`` the list can hold: the rankers allocate ``k`` places per list."""
    check_positive("k", k, integer=True)
    return min(int(k), n)


def _is_sequence(x: object) -> bool:
    return isinstance(x, (list, tuple, np.ndarray, pd.Series, pd.Index))


def _as_list(x: object) -> list[object]:
    return list(x) if _is_sequence(x) else [x]  # type: ignore[call-overload]


def _plain_id(raw: object, what: str) -> object:
    """A raw id as the id map expects it; floats and bools are refused (1.0 is not movieId 1 by accident)."""
    if isinstance(raw, (bool, np.bool_)) or isinstance(raw, (float, np.floating)):
        raise ConfigError(f"{what} ids are whole numbers or strings as in the ratings file, got {raw!r}")
    if isinstance(raw, np.integer):
        return int(raw)
    return raw


def _rating_pairs(ratings: object) -> list[tuple[object, object]]:
    """``(movie, rating or None)`` pairs from a mapping, a list of pairs or a list of movies (all liked)."""
    if isinstance(ratings, Mapping):
        pairs = list(ratings.items())
    elif isinstance(ratings, (str, bytes)) or not _is_sequence(ratings):
        raise ConfigError(
            "ratings: give {movie: rating}, [(movie, rating), …] or a list of movies, "
            f"got {type(ratings).__name__}"
        )
    else:
        pairs = [
            (x[0], x[1]) if isinstance(x, tuple) and len(x) == 2 else (x, None) for x in _as_list(ratings)
        ]
    if not pairs:
        raise ConfigError("ratings: at least one movie is needed")
    return pairs


def _rating_value(movie: object, rating: object) -> float:
    if isinstance(rating, bool) or not isinstance(rating, (int, float, np.integer, np.floating)):
        raise ConfigError(f"ratings: the rating of {movie!r} must be a number, got {rating!r}")
    if not np.isfinite(float(rating)):
        raise ConfigError(f"ratings: the rating of {movie!r} must be a finite number, got {rating!r}")
    return float(rating)


def _renamed(frame: pd.DataFrame, missing: list[str]) -> str:
    """The rename that gives ``test()`` its columns: ``uid``/``iid`` (Surprise's names) or the frame's own
    columns other than the rating and time, in order, when there are as many as are missing
    (``user, item, rating`` → ``{'user': 'userId', 'item': 'movieId'}``), else a placeholder per column;
    Surprise's ``r_ui`` is named ``rating`` too, so the predictions keep it."""
    known = {"userId", "movieId", "rating", "timestamp", "r_ui"}
    own = [c for c in frame.columns if c not in known]
    if {"uid", "iid"} <= set(frame.columns):
        own = [c for c in ("uid", "iid") if {"uid": "userId", "iid": "movieId"}[c] in missing]
    pairs = (
        dict(zip(own, missing, strict=True))
        if len(own) == len(missing)
        else {f"YOUR_{m.removesuffix('Id').upper()}_COLUMN": m for m in missing}
    )
    if "r_ui" in frame.columns and "rating" not in frame.columns:
        pairs["r_ui"] = "rating"
    return f"frame.rename(columns={pairs!r})"
