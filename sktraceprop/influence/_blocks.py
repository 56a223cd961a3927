"""Scores in blocks: a block of test rows against every block of training rows.

:meth:`InfluenceExplainer.explain` and :meth:`InfluenceExplainer.influence_sums` hand
each block of test rows to a joblib worker (:func:`~sktraceprop.utils._progress.map_blocks`);
the worker walks the training rows in blocks (``InfluenceExplainer._blocks``), so at
most ``block_size ** 2`` scores are held at once, and keeps what the explanation needs:
the running top and bottom ``k`` rows of each test row, the per-source sums, and the
full score matrix only when asked.
"""

import numbers

import numpy as np
from scipy import sparse

from .._lineage._labels import source_labels

__all__ = [
    "check_masks",
    "check_top_k",
    "explain_block",
    "influence_sums_block",
    "merge_top",
    "source_incidence",
]


def check_top_k(top_k):
    """``top_k`` (training rows kept per test row) as an int; refuse anything but a
    positive integer."""
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1:
        raise ValueError(
            f"top_k must be a positive integer (training rows kept per test row), got {top_k!r}"
        )
    return int(top_k)


def check_masks(masks, n_train):
    """``masks`` (one row of training rows per subset) as float64 0/1; refuse any other
    shape or values.

    Summed by a matrix product, a mask with more columns than training rows was cut to
    the first ``n_train`` and values other than 0/1 (row indices, weights) counted as
    weights, with nothing said.
    """
    given = np.asarray(masks)
    if given.ndim != 2 or given.shape[1] != n_train:
        raise ValueError(
            f"masks must be a 2-D boolean array of shape (n_subsets, {n_train}), one column "
            f"per training row of the explainer (train_row_ids_), got shape {given.shape}"
        )
    if given.dtype != np.bool_:
        if not np.issubdtype(given.dtype, np.number) or not np.isin(given, (0, 1)).all():
            raise ValueError(
                "masks must be boolean (or hold only 0 and 1): True where the subset has "
                "the training row; to select rows by index, set those columns of a "
                "False mask to True"
            )
    return given.astype(np.float64)


def influence_sums_block(block, explainer, masks):
    """Summed scores of every subset (rows of ``masks``) for one block of test rows."""
    margins, _, A = explainer._test_gradients(*block)
    out = np.zeros((margins.shape[0], masks.shape[0]))
    for tr, te, S in explainer._blocks(A):
        out[te] += S @ masks[:, tr].T
    return out


def source_incidence(leaf_rows, groups, n_train):
    """Sources and a sparse ``(n_train, n_sources)`` 0/1 matrix: which sources each
    training row has a line in (a merged row: every source of its parents, once).

    A source is one content (see :func:`sktraceprop._lineage._labels.content_key`), not
    a name: two files read under one ``source_id``, or two contents of one file, are two
    columns. Returns the labels of the columns (the source id, widened where several
    sources share it), the :class:`Source` of each, and the matrix. ``groups``: the
    source of each line of ``leaf_rows`` and the sources, as :func:`row_groups` gives
    them (at fit, see :meth:`InfluenceExplainer._locate_train_rows`).
    """
    which, sources = groups
    rows = leaf_rows["train_index"].to_numpy().astype(np.int64)
    if "via" in leaf_rows:  # a merged row has a line per parent: one entry per source
        pair = np.unique(rows * len(sources) + which)
        rows, which = np.divmod(pair, len(sources))
    incidence = sparse.csr_matrix(
        (np.ones(rows.size), (rows, which)), shape=(n_train, len(sources))
    )
    return source_labels(sources), sources, incidence


def explain_block(block, explainer, k, keep_scores, incidence):
    """Everything :meth:`InfluenceExplainer.explain` keeps, for one block of test rows.

    Returns margins, explained classes, scores (or None), per-source sums, and the
    indices and scores of the top and bottom ``k`` training rows of each test row.
    """
    n_sources = incidence.shape[1]
    margins, y_exp, A = explainer._test_gradients(*block)
    n_test, n_train = margins.shape[0], explainer.n_train_
    scores = np.empty((n_test, n_train)) if keep_scores else None
    src_sums = np.zeros((n_test, n_sources))
    top_i = np.full((n_test, k), -1, dtype=np.int64)
    top_v = np.full((n_test, k), -np.inf)
    bot_i, bot_v = top_i.copy(), np.full((n_test, k), np.inf)
    for tr, te, S in explainer._blocks(A):
        if scores is not None:
            scores[te, tr] = S
        src_sums[te] += np.asarray((incidence[tr].T @ S.T).T)
        # Merge each block into the running top-k of its test rows: memory stays
        # a few blocks whatever the number of training rows.
        cols = np.arange(tr.start, tr.stop)
        top_i[te], top_v[te] = merge_top(top_i[te], top_v[te], S, cols, k, largest=True)
        bot_i[te], bot_v[te] = merge_top(bot_i[te], bot_v[te], S, cols, k, largest=False)
    return margins, y_exp, scores, src_sums, top_i, top_v, bot_i, bot_v


def merge_top(idx, val, S, cols, k, largest):
    """Merge block scores ``S`` (columns ``cols``) into the running top-k per row.

    Equal scores are ranked by training position, lowest first, so which of several
    tied rows (copies of one row) are kept does not depend on ``block_size``."""
    all_v = np.hstack([val, S])
    all_i = np.hstack([idx, np.broadcast_to(cols, S.shape)])
    key = -all_v if largest else all_v
    kk = min(k, all_v.shape[1])
    part = np.argpartition(key, kk - 1, axis=1)[:, :kk]
    rows = np.arange(S.shape[0])[:, None]
    # argpartition keeps an arbitrary few of the scores tied at the k-th: where it left
    # some out, take the tied ones of lowest position (rare: a loop over those rows)
    kth = key[rows, part].max(axis=1, keepdims=True)
    short = np.flatnonzero((key == kth).sum(axis=1) > (key[rows, part] == kth).sum(axis=1))
    for r in short:
        better = np.flatnonzero(key[r] < kth[r])
        tied = np.flatnonzero(key[r] == kth[r])
        tied = tied[np.argsort(all_i[r, tied], kind="stable")][: kk - better.size]
        part[r] = np.concatenate([better, tied])
    order = np.lexsort((all_i[rows, part], key[rows, part]), axis=1)
    sel = part[rows, order]
    return all_i[rows, sel], all_v[rows, sel]
