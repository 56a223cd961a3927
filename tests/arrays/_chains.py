"""Random chains of array operations, applied to traced arrays and, by hand, to an
explicit id column: the independent truth the row lineage is checked against.

The truth of an array is one ``(direct, pooled)`` pair of frozensets of
``(source_id, line)`` per row: the rows the output row is made of, and the rows it
depends on through an operation that mixes rows (a mean over rows). Every operation
below says, in a few lines of plain Python on that list, what it does to rows; the
library is not consulted.
"""

import numpy as np

import sktraceprop as stp


def source_truth(source_id, n):
    return [(frozenset({(source_id, k + 1)}), frozenset()) for k in range(n)]


def everything(truth):
    out = set()
    for direct, pooled in truth:
        out |= direct | pooled
    return frozenset(out)


def reported(x, n):
    """``[(direct, pooled)]`` per row, as ``provenance(x).rows`` tells it."""
    frame = stp.provenance(x).rows(np.arange(n))
    # each source row once per output row among the rows it is made of, once among
    # those pooled into it (with every operation that pooled it in)
    keys = frame[["row", "row_id"]].assign(pooled=frame["through"].notna())
    twice = frame[keys.duplicated(keep=False)]
    assert twice.empty, f"source rows listed more than once:\n{twice}"
    out = [(set(), set()) for _ in range(n)]
    for row, source_id, line, through in zip(
        frame["row"], frame["source_id"], frame["line"], frame["through"]
    ):
        out[row][0 if through is None else 1].add((source_id, int(line)))
    return [(frozenset(d), frozenset(p)) for d, p in out]


class NumpyBackend:
    name = "numpy"

    def make(self, values, source_id):
        return stp.array(values, source_id=source_id)

    def value(self, x):
        return np.asarray(x)

    def plain(self, values):
        return np.asarray(values)

    def mean0(self, x):
        return x.mean(axis=0)

    def std0(self, x):
        return x.std(axis=0)

    def mean1(self, x):
        return x.mean(axis=1, keepdims=True)

    def concat(self, xs):
        return np.concatenate(xs)

    def hstack(self, xs):
        return np.hstack(xs)

    def stack(self, xs):
        return np.stack(xs)

    def where(self, c, a, b):
        return np.where(c, a, b)

    def index(self, x, idx):
        return x[idx]

    def flip(self, x):
        return x[::-1]

    def reshape_round_trip(self, x):
        n, d = x.shape
        return x.reshape(n, 1, d).reshape(n, d)

    def astype(self, x):
        return x.astype(np.float32).astype(np.float64)

    def matmul(self, x, w):
        return x @ w

    def set_row(self, x, i, j):
        y = x.copy()
        y[i] = x[j]
        return y

    def sort0(self, x):
        return np.sort(x, axis=0)

    #: Operations of ``OPS`` this backend does not run (no such operation, or lineage
    #: that is right but coarser than the truth below: pooled instead of direct).
    skip = ()

    def block(self, x):
        return np.block([[x[:, :1], x[::-1, 1:]]])

    def roll(self, x, k):
        return np.roll(x, k, axis=0)

    def set_cells(self, x, i, js):
        y = x.copy()
        y[[i] * len(js), np.arange(len(js))] = x[js, 0]
        return y

    def pad_odd(self, x, before, after):
        return np.pad(x, ((before, after), (0, 0)), mode="reflect", reflect_type="odd")

    def set_element(self, x, i, j, k, m):
        y = x.copy()
        y[i, j] = x[k, m]
        return y

    def shuffle(self, x, seed, legacy):
        y = x.copy()
        (np.random.RandomState(seed) if legacy else np.random.default_rng(seed)).shuffle(y)
        return y


def _ops():
    """``name -> (apply(backend, x, y, p), truth(t, ty, p), params(draw, n))``."""

    def center(b, x, y, p):
        return x - b.mean0(x)

    def center_truth(t, ty, p):
        pool = everything(t)
        return [(d, q | pool) for d, q in t]

    def scale(b, x, y, p):
        return x / (b.std0(x) + 1.0)

    def affine(b, x, y, p):
        return x * 2.0 + 1.0

    def same(t, ty, p):
        return list(t)

    def row_center(b, x, y, p):
        return x - b.mean1(x)

    def center_all(b, x, y, p):
        # the mean of every element (no axis: a 0-d result): every row of it
        return x - x.mean()

    def scaled_pair(b, x, y, p):
        # a number on the left, then two traced arrays of the same rows
        return 2.0 * x - x * 0.5

    def fancy(b, x, y, p):
        return b.index(x, np.asarray(p, dtype=np.int64))

    def fancy_truth(t, ty, p):
        return [t[k] for k in p]

    def mask(b, x, y, p):
        return b.index(x, np.asarray(p, dtype=bool))

    def mask_truth(t, ty, p):
        return [row for row, keep in zip(t, p) if keep]

    def cut(b, x, y, p):
        return b.index(x, slice(*p))

    def cut_truth(t, ty, p):
        return t[slice(*p)]

    def concat(b, x, y, p):
        return b.concat([x, y])

    def concat_truth(t, ty, p):
        return list(t) + list(ty)

    def mirror(b, x, y, p):
        # first column of row i, the other columns of row n-1-i
        left = b.index(x, (slice(None), slice(0, 1)))
        right = b.index(b.flip(x), (slice(None), slice(1, None)))
        return b.hstack([left, right])

    def mirror_truth(t, ty, p):
        return [(d | dr, q | qr) for (d, q), (dr, qr) in zip(t, t[::-1])]

    def choose(b, x, y, p):
        return b.where(x > 0.5, x, b.flip(x))

    def reshape(b, x, y, p):
        return b.reshape_round_trip(x)

    def astype(b, x, y, p):
        return b.astype(x)

    def weights(b, x, y, p):
        d = x.shape[1]
        return b.matmul(x, b.plain(np.linspace(-1.0, 1.0, d * d).reshape(d, d)))

    def set_row(b, x, y, p):
        return b.set_row(x, p[0], p[1])

    def set_row_truth(t, ty, p):
        out = list(t)
        out[p[0]] = t[p[1]]
        return out

    def pair(b, x, y, p):
        return b.stack([b.index(x, p[0]), b.index(x, p[1])])

    def pair_truth(t, ty, p):
        # each row is taken out whole (its row axis removed), then stacked
        return [(t[p[0]][0], t[p[0]][1]), (t[p[1]][0], t[p[1]][1])]

    def block(b, x, y, p):
        return b.block(x)

    def roll(b, x, y, p):
        return b.roll(x, p[0])

    def roll_truth(t, ty, p):
        n = len(t)
        return [t[(i - p[0]) % n] for i in range(n)]

    def set_cells(b, x, y, p):
        # row p[0] written cell by cell, from several rows: it is made of all of them
        return b.set_cells(x, p[0], list(p[1:]))

    def set_cells_truth(t, ty, p):
        out = list(t)
        out[p[0]] = (
            frozenset().union(*(t[j][0] for j in p[1:])),
            frozenset().union(*(t[j][1] for j in p[1:])),
        )
        return out

    def pad_odd(b, x, y, p):
        return b.pad_odd(x, p[0], p[1])

    def pad_odd_truth(t, ty, p):
        # a padded row is 2 * (edge row) - (mirrored row)
        n, (before, after) = len(t), p
        out = []
        for j in range(-before, n + after):
            if 0 <= j < n:
                out.append(t[j])
                continue
            edge, mirror = (0, -j) if j < 0 else (n - 1, 2 * (n - 1) - j)
            out.append((t[edge][0] | t[mirror][0], t[edge][1] | t[mirror][1]))
        return out

    def minus_element(b, x, y, p):
        # one element (a 0-d result) broadcast to every row: each row also depends on it
        return x - b.index(x, (p[0], p[1]))

    def minus_element_truth(t, ty, p):
        d0, q0 = t[p[0]]
        return [(d | d0, q | q0) for d, q in t]

    def set_element(b, x, y, p):
        return b.set_element(x, p[0], p[1], p[2], p[3])

    def set_element_truth(t, ty, p):
        # one element of row p[0] written: the row keeps its parents and gains p[2]'s
        out = list(t)
        out[p[0]] = (t[p[0]][0] | t[p[2]][0], t[p[0]][1] | t[p[2]][1])
        return out

    def shuffle(b, x, y, p):
        return b.shuffle(x, p[0], p[1])

    def shuffle_truth(t, ty, p):
        # the same generator shuffles the row positions the same way
        order = np.arange(len(t))
        (np.random.RandomState(p[0]) if p[1] else np.random.default_rng(p[0])).shuffle(order)
        return [t[k] for k in order]

    return {
        "minus_element": (minus_element, minus_element_truth, "element"),
        "set_element": (set_element, set_element_truth, "elements"),
        "shuffle": (shuffle, shuffle_truth, "shuffle"),
        "block": (block, mirror_truth, None),
        "roll": (roll, roll_truth, "shift"),
        "set_cells": (set_cells, set_cells_truth, "cells"),
        "pad_odd": (pad_odd, pad_odd_truth, "pad"),
        "affine": (affine, same, None),
        "center": (center, center_truth, None),
        "scale": (scale, center_truth, None),
        "row_center": (row_center, same, None),
        "center_all": (center_all, center_truth, None),
        "scaled_pair": (scaled_pair, same, None),
        "fancy": (fancy, fancy_truth, "fancy"),
        "mask": (mask, mask_truth, "mask"),
        "cut": (cut, cut_truth, "cut"),
        "concat": (concat, concat_truth, None),
        "mirror": (mirror, mirror_truth, None),
        "choose": (choose, mirror_truth, None),
        "reshape": (reshape, same, None),
        "astype": (astype, same, None),
        "weights": (weights, same, None),
        "set_row": (set_row, set_row_truth, "pair"),
        "pair": (pair, pair_truth, "pair"),
    }


OPS = _ops()


class HypothesisChoices:
    """Choices drawn by hypothesis (shrinkable)."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def integer(self, lo, hi):
        return self.data.draw(self.st.integers(lo, hi))

    def choice(self, options):
        return self.data.draw(self.st.sampled_from(options))

    def booleans(self, n):
        return self.data.draw(self.st.lists(self.st.booleans(), min_size=n, max_size=n))

    def indices(self, n):
        return self.data.draw(
            self.st.lists(self.st.integers(0, n - 1), min_size=1, max_size=2 * n)
        )


class SeededChoices:
    """The same choices on every replay (a seeded generator)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def integer(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]

    def booleans(self, n):
        return [bool(v) for v in self.rng.integers(0, 2, n)]

    def indices(self, n):
        return [int(v) for v in self.rng.integers(0, n, int(self.rng.integers(1, 2 * n + 1)))]


def draw_params(kind, n, choices):
    """Parameters of one operation for an array of ``n`` rows."""
    if kind is None:
        return None
    if kind == "fancy":
        return choices.indices(n)
    if kind == "mask":
        mask = choices.booleans(n)
        if not any(mask):
            mask[0] = True
        return mask
    if kind == "cut":
        start = choices.integer(0, n - 1)
        step = choices.choice([1, 2, 3, -1])
        return (None, None, step) if step < 0 else (start, None, step)
    if kind == "pair":
        return (choices.integer(0, n - 1), choices.integer(0, n - 1))
    if kind == "shift":
        return (choices.integer(-n, 2 * n),)
    if kind == "cells":
        # a target row and, for each of the 3 columns, the row it is copied from
        return tuple(choices.integer(0, n - 1) for _ in range(4))
    if kind == "pad":
        # one mirror deep: at most n - 2 rows on each side
        return (choices.integer(0, max(n - 2, 0)), choices.integer(0, max(n - 2, 0)))
    if kind == "element":
        return (choices.integer(0, n - 1), choices.integer(0, 2))
    if kind == "elements":
        # row, column written; row, column read
        return tuple(choices.integer(0, hi) for hi in (n - 1, 2, n - 1, 2))
    if kind == "shuffle":
        return (choices.integer(0, 2**16), choices.choice([False, True]))
    raise ValueError(kind)


def run_chain(backend, choices, n_ops, values=None, ops=None):
    """Two sources and ``n_ops`` random operations: ``(x, truth, names)``.

    ``values`` replaces the sources' data (same shapes), for perturbation studies.
    """
    ops = sorted(set(OPS) - set(backend.skip)) if ops is None else ops
    rng = np.random.default_rng(choices.integer(0, 2**16))
    n_a = choices.integer(2, 7)
    n_b = choices.integer(1, 5)
    data_a, data_b = (rng.random((n_a, 3)), rng.random((n_b, 3))) if values is None else values
    x = backend.make(data_a, "lab_a")
    y = backend.make(data_b, "lab_b")
    truth = source_truth("lab_a", n_a)
    truth_y = source_truth("lab_b", n_b)
    names = []
    for _ in range(n_ops):
        name = choices.choice(ops)
        apply, carry, kind = OPS[name]
        p = draw_params(kind, len(truth), choices)
        x = apply(backend, x, y, p)
        truth = carry(truth, truth_y, p)
        names.append(name)
    return x, truth, names, (data_a, data_b)
