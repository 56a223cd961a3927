"""Rows of the data given to a traced fit grouped by source: each row's source among
the distinct ones, and per-source counts (for :mod:`._stats`)."""

import numpy as np

from ._ids import codes_of, distinct_codes


def _source_index(ids):
    """``(codes, index)``: the distinct source codes and each row's position among them."""
    codes = distinct_codes(ids)
    if codes.size == 1:
        return codes, None
    uniq, index = np.unique(codes_of(ids), return_inverse=True)
    return uniq, index


def _per_source_sum(mask, index, n_sources):
    """Count of True per source."""
    if index is None:
        return np.array([np.count_nonzero(mask)])
    return np.bincount(index[mask], minlength=n_sources)
