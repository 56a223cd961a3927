"""Label balance per source of the rows given to a traced fit (for :mod:`._stats`):
class counts, or a continuous target's count, mean, std, min and max."""

import numpy as np
import pandas as pd

from ._stats_index import _per_source_sum

#: Classes listed one by one up to this many; above, the record says how many there are.
MAX_CLASSES = 1000

#: Integer labels spanning fewer values than this (one source) are counted by comparisons.
FEW_LABELS = 4

#: ``classes`` for a semi-supervised classifier: its target -1 marks an unlabelled row.
SEMI_SUPERVISED = "semi-supervised"


def _class_counts(y, index, n_sources):
    """``(labels, counts (n_sources, n_labels), missing per source)`` of class labels."""
    # (uint64 labels above the int64 range would wrap in the cast: counted as values)
    # (no rows: every one unlabelled for a semi-supervised fit; counted by factorize)
    if y.dtype.kind in "iub" and y.size and not (y.dtype == np.uint64 and int(y.max()) >= 2**63):
        y64 = y.astype(np.int64, copy=False)
        lo, hi = int(y64.min()), int(y64.max())
        if index is None and hi - lo < FEW_LABELS:
            # a few labels, one source (binary ones): a comparison per label but the last
            # (counted as the rest) is several times cheaper than bincount's scattered adds
            span = np.arange(lo, hi + 1, dtype=np.int64)
            counts = np.empty((1, span.size), dtype=np.int64)
            for j, v in enumerate(span[:-1].tolist()):
                counts[0, j] = np.count_nonzero(y64 == v)
            counts[0, -1] = y64.size - counts[0, :-1].sum()
            present = np.flatnonzero(counts[0])
            labels = span[present]
            if y.dtype.kind == "b":
                labels = labels.astype(bool)
            return labels, counts[:, present], np.zeros(n_sources, dtype=np.int64)
        if hi - lo < 65536:
            # small integer range: bincount beats a hash or sort on large arrays
            lo = min(lo, 0) if hi < 65536 else lo  # labels 0..k need no shifted copy
            values = y64 - lo if lo else y64
            width = hi - lo + 1
            if index is None:
                counts = np.bincount(values, minlength=width)[None, :]
            else:
                counts = np.bincount(index * width + values, minlength=n_sources * width).reshape(
                    n_sources, width
                )
            present = np.flatnonzero(counts.sum(axis=0))
            labels = present + lo
            if y.dtype.kind == "b":
                labels = labels.astype(bool)
            return labels, counts[:, present], np.zeros(n_sources, dtype=np.int64)
    codes, uniques = pd.factorize(y, sort=True, use_na_sentinel=True)
    missing = codes < 0
    width = max(len(uniques), 1)
    rows = codes[~missing]
    if index is None:
        counts = np.bincount(rows, minlength=width)[None, :]
    else:
        counts = np.bincount(index[~missing] * width + rows, minlength=n_sources * width).reshape(
            n_sources, width
        )
    return (
        np.asarray(uniques),
        counts[:, : len(uniques)],
        _per_source_sum(missing, index, n_sources),
    )


def _label_stats(y, index, n_sources, classes):
    """One label record per source."""
    if y is None:
        return [{"kind": "none"}] * n_sources
    y = np.asarray(y)
    if y.ndim != 1:
        reason = f"the target has shape {y.shape} (several outputs): balance not recorded"
        return [{"kind": "not recorded", "reason": reason}] * n_sources
    if not classes and (y.dtype.kind == "f" or (classes is False and y.dtype.kind in "iub")):
        return _continuous(y, index, n_sources)  # (a regressor's integer target too)
    if y.dtype.kind not in "iubfOUST":
        reason = f"target dtype {y.dtype} is not supported: balance not recorded"
        return [{"kind": "not recorded", "reason": reason}] * n_sources
    unlabelled = None
    if classes == SEMI_SUPERVISED:
        # scikit-learn's semi-supervised classifiers: -1 is "no label", not a class
        marked = _unlabelled(y)
        if marked is not None:
            unlabelled = _per_source_sum(marked, index, n_sources)
            y, index = y[~marked], None if index is None else index[~marked]
    try:
        labels, counts, missing = _class_counts(y, index, n_sources)
    except TypeError as exc:  # objects that cannot be hashed or ordered (the fit says why)
        reason = f"target values cannot be counted as classes ({exc}): balance not recorded"
        return [{"kind": "not recorded", "reason": reason}] * n_sources
    out = []
    for s in range(n_sources):
        record = {"kind": "classes", "n_classes": int(len(labels)), "missing": int(missing[s])}
        if unlabelled is not None:
            record["unlabelled"] = int(unlabelled[s])
        if len(labels) <= MAX_CLASSES:
            record["counts"] = {str(k): int(c) for k, c in zip(labels.tolist(), counts[s])}
        else:
            record["note"] = f"{len(labels)} classes: too many to list"
        out.append(record)
    return out


def _unlabelled(y):
    """Rows whose target is -1 (unlabelled for a semi-supervised classifier), as a
    mask; None for targets that cannot hold -1 (text labels)."""
    if y.dtype.kind in "iuf":
        return y == -1
    if y.dtype.kind == "O":
        return np.array([isinstance(v, int | float | np.number) and v == -1 for v in y])
    return None


def _continuous(y, index, n_sources):
    y = y.astype(np.float64, copy=False)
    present = ~np.isnan(y)
    frame = pd.DataFrame({"y": y[present]})
    group = np.zeros(int(present.sum()), dtype=np.int64) if index is None else index[present]
    stats = frame.groupby(group)["y"].agg(["count", "mean", "std", "min", "max"])
    missing = _per_source_sum(~present, index, n_sources)
    out = []
    for s in range(n_sources):
        record = {"kind": "continuous", "missing": int(missing[s]), "count": 0}
        if s in stats.index:
            row = stats.loc[s]
            record["count"] = int(row["count"])
            for key in ("mean", "std", "min", "max"):
                value = float(row[key])
                record[key] = value if np.isfinite(value) else None
        out.append(record)
    return out
