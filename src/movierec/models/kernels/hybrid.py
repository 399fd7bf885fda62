"""The hybrid (LightFM-style) and LearnBPR kernels: the compiled ``_native`` epochs, called with numpy arrays.

``bpr``, ``warp``, ``warp-kos`` and ``logistic`` fits (with or without side features) call these
names; they run the Cython kernels of ``_native.pyx`` and never import numba, so a fresh install's
first fit pays no JIT (measured on ml-latest-small with an empty numba cache, load ~9, when these
were numba: warp's first fit 11.5 s against 0.7 s warm, bpr's ~6 s of compiling). Importing this
module without the built extension raises :mod:`~movierec.models.kernels.accel`'s ImportError.

Arguments are those of the kernels, in the same order (documented in ``_native.pyx``); the wrappers
only convert the example and feature arrays to the kernels' dtypes where they differ (index
pointers int64, indices int32, weights float32): a no-op for what ``models/bpr.py`` passes.
"""

from __future__ import annotations

from typing import Any

from movierec.models.kernels.accel import _f32, _i32, _i64, _native

__all__ = [
    "BPR",
    "LOGISTIC",
    "WARP",
    "WARP_KOS",
    "learn_bpr_block",
    "logistic_epoch",
    "pairwise_epoch",
    "pairwise_epoch_identity",
]

BPR, WARP, LOGISTIC, WARP_KOS = 0, 1, 2, 3  # loss codes of the epochs' ``loss_kind``
_NO_FEATURES = (None,) * 6  # identity features only: hybrid_epoch's fused identity path


def _examples(loss_kind, order, ex_users, ex_items, ex_weights, pos_indptr, pos_indices) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    """The seven leading arguments of every epoch: loss, example order, examples, sorted positives."""
    return (
        int(loss_kind), _i64(order), _i32(ex_users), _i32(ex_items), _f32(ex_weights), _i64(pos_indptr),
        _i32(pos_indices),
    )  # fmt: skip


def _features(if_indptr, if_indices, if_data, uf_indptr, uf_indices, uf_data) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    """The item and user feature rows (CSR: indptr, indices, weights) of the feature-sum epochs."""
    return _i64(if_indptr), _i32(if_indices), _f32(if_data), _i64(uf_indptr), _i32(uf_indices), _f32(uf_data)


def learn_bpr_block(  # type: ignore[no-untyped-def]
    ex_users, ex_items, ex_weights, pos_indptr, pos_indices, item_w, user_w, lr, reg_item, reg_user,
    state, losses, skipped, first, last,
):  # fmt: skip
    """Blocks ``first..last-1`` of one LearnBPR epoch (``_native.learn_bpr_block``)."""
    return _native.learn_bpr_block(
        _i32(ex_users), _i32(ex_items), _f32(ex_weights), _i64(pos_indptr), _i32(pos_indices), item_w, user_w,
        float(lr), float(reg_item), float(reg_user), state, losses, skipped, int(first), int(last),
    )  # fmt: skip


def pairwise_epoch_identity(*args):  # type: ignore[no-untyped-def]
    """BPR, WARP or k-OS WARP blocks when every user and item has only its identity feature
    (``_native.hybrid_epoch`` without feature rows): the seven example arguments, then the weights,
    optimiser state, hyperparameters, random streams, losses and block range."""
    return _native.hybrid_epoch(*_examples(*args[:7]), *_NO_FEATURES, *args[7:])


def pairwise_epoch(*args):  # type: ignore[no-untyped-def]
    """Blocks of any loss with representations summed over side features (``_native.hybrid_epoch``):
    the arguments of :func:`pairwise_epoch_identity` with the six feature-row arrays after the examples."""
    return _native.hybrid_epoch(*_examples(*args[:7]), *_features(*args[7:13]), *args[13:])


logistic_epoch = pairwise_epoch  # LightFM's pointwise loss: the same entry, with loss_kind LOGISTIC
