"""The hybrid (LightFM-style) and LearnBPR kernels: compiled at install time (``_native``), numba where no build exists.

``bpr``, ``warp`` and ``warp-kos`` fits (with or without side features) call these names; with the
extension built they run the Cython ports in ``_native.pyx`` and never import numba, so a fresh
install's first fit pays no JIT (measured on ml-latest-small with an empty numba cache, load ~9:
warp's first fit 11.5 s against 0.7 s warm, bpr's ~6 s of compiling). Without a build they are the
numba kernels of ``lightfm_like.py`` and ``learn_bpr.py``, the reference the parity tests compare
the ports against. ``logistic`` (LightFM's pointwise loss) is compiled the same way.

Arguments are those of the numba kernels, in the same order; the wrappers only convert dtypes
(index pointers to int64) where they differ from what the compiled kernels take.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from movierec.models.kernels import accel

_KERNELS = ("learn_bpr_block", "pairwise_epoch", "pairwise_epoch_identity", "logistic_epoch")
# a build older than these kernels (in-place, not redone after a pull) counts as none: numba runs them
_native = accel._native if all(accel.has_native(k) for k in _KERNELS) else None

__all__ = [
    "BACKEND",
    "BPR",
    "LOGISTIC",
    "WARP",
    "WARP_KOS",
    "learn_bpr_block",
    "logistic_epoch",
    "pairwise_epoch",
    "pairwise_epoch_identity",
]

BPR, WARP, LOGISTIC, WARP_KOS = 0, 1, 2, 3  # loss codes, as in lightfm_like
BACKEND = "native" if _native is not None else "numba"


def _i64(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _i32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int32)


def _f32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def learn_bpr_block(  # type: ignore[no-untyped-def]
    ex_users, ex_items, ex_weights, pos_indptr, pos_indices, item_w, user_w, lr, reg_item, reg_user,
    state, losses, skipped, first, last,
):  # fmt: skip
    """Blocks ``first..last-1`` of one LearnBPR epoch (``learn_bpr.learn_bpr_block``)."""
    if _native is None:
        from movierec.models.kernels import learn_bpr

        return learn_bpr.learn_bpr_block(
            ex_users, ex_items, ex_weights, pos_indptr, pos_indices, item_w, user_w, lr, reg_item, reg_user,
            state, losses, skipped, first, last,
        )  # fmt: skip
    return _native.learn_bpr_block(
        _i32(ex_users), _i32(ex_items), _f32(ex_weights), _i64(pos_indptr), _i32(pos_indices), item_w, user_w,
        float(lr), float(reg_item), float(reg_user), state, losses, skipped, int(first), int(last),
    )  # fmt: skip


def pairwise_epoch_identity(  # type: ignore[no-untyped-def]
    loss_kind, order, ex_users, ex_items, ex_weights, pos_indptr, pos_indices, *rest
):
    """``lightfm_like.pairwise_epoch_identity`` (identity features only); ``rest`` as there."""
    if _native is None:
        from movierec.models.kernels import lightfm_like

        return lightfm_like.pairwise_epoch_identity(
            loss_kind, order, ex_users, ex_items, ex_weights, pos_indptr, pos_indices, *rest
        )
    return _native.pairwise_epoch_identity(
        int(loss_kind), _i64(order), _i32(ex_users), _i32(ex_items), _f32(ex_weights), _i64(pos_indptr),
        _i32(pos_indices), *rest,
    )  # fmt: skip


def pairwise_epoch(  # type: ignore[no-untyped-def]
    loss_kind, order, ex_users, ex_items, ex_weights, pos_indptr, pos_indices,
    if_indptr, if_indices, if_data, uf_indptr, uf_indices, uf_data, *rest,
):  # fmt: skip
    """``lightfm_like.pairwise_epoch`` (representations summed over side features); ``rest`` as there."""
    if _native is None:
        from movierec.models.kernels import lightfm_like

        return lightfm_like.pairwise_epoch(
            loss_kind, order, ex_users, ex_items, ex_weights, pos_indptr, pos_indices,
            if_indptr, if_indices, if_data, uf_indptr, uf_indices, uf_data, *rest,
        )  # fmt: skip
    return _native.pairwise_epoch(
        int(loss_kind), _i64(order), _i32(ex_users), _i32(ex_items), _f32(ex_weights), _i64(pos_indptr),
        _i32(pos_indices), _i64(if_indptr), _i32(if_indices), _f32(if_data), _i64(uf_indptr),
        _i32(uf_indices), _f32(uf_data), *rest,
    )  # fmt: skip


def logistic_epoch(  # type: ignore[no-untyped-def]
    loss_kind, order, ex_users, ex_items, ex_weights, pos_indptr, pos_indices,
    if_indptr, if_indices, if_data, uf_indptr, uf_indices, uf_data, *rest,
):  # fmt: skip
    """``lightfm_like.logistic_epoch`` (LightFM's pointwise loss); arguments as :func:`pairwise_epoch`."""
    if _native is None:
        from movierec.models.kernels import lightfm_like

        return lightfm_like.logistic_epoch(
            loss_kind, order, ex_users, ex_items, ex_weights, pos_indptr, pos_indices,
            if_indptr, if_indices, if_data, uf_indptr, uf_indices, uf_data, *rest,
        )  # fmt: skip
    return _native.logistic_epoch(
        int(loss_kind), _i64(order), _i32(ex_users), _i32(ex_items), _f32(ex_weights), _i64(pos_indptr),
        _i32(pos_indices), _i64(if_indptr), _i32(if_indices), _f32(if_data), _i64(uf_indptr),
        _i32(uf_indices), _f32(uf_data), *rest,
    )  # fmt: skip
