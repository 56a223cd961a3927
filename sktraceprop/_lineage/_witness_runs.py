"""The loaded values of the lines around some of a large load's witness rows (a run of
adjacent rows of the frame loaded), kept so that an operation over rows run on the load
in its order can be recomputed at a witness row whatever the data holds since: a random
subset (``train_test_split``, ``sample``, a boolean mask) keeps a witness row but not,
in general, the rows before it (see :mod:`._over_rows_file_order`).

One witness row in ``RUN_EVERY`` (the hash of its id again, at a stride ``RUN_EVERY``
times the load's, so a subset of the witness rows: 32 to 64 expected) keeps, per numeric
column, the values of the ``BEFORE`` rows before it and the ``AFTER`` rows after it in
the frame (a moving window of up to ``BEFORE + 1`` rows, centred or not), the ids of
those rows, and the number of values missing before it in the column (an expanding
mean's count). A line held by several runs is kept once, and the runs of a load keep
at most one line in :data:`SHARE` of its rows (a wide load of a few thousand rows held
more in its runs than in the frame) where that is more than :data:`VALUES` values (a
narrow load keeps its runs): the witness rows past that keep none, and are not
checked in the file's order. Kept in this process only, as the witness rows are; rows an unlearner
removes take the runs that hold them with them (:meth:`Runs.without`). A load of fewer
than 512 rows keeps every row and needs none; a read in chunks, a merge or an aggregate
keeps none (a chunk's frame is not the read's).
"""

import numpy as np
import pandas as pd

#: Rows before (and after) a run's witness row kept: ``rolling(30)``, centred or not.
BEFORE, AFTER = 29, 14
#: One witness row in ``RUN_EVERY`` keeps a run.
RUN_EVERY = 8
#: The lines the runs of a load keep, together, are at most one in ``SHARE`` of its rows:
#: in a load of a few thousand rows the runs would overlap and, per column, hold more
#: values than the frame. The runs past the cap (in the order of their witness rows'
#: ids) are not kept, and their witness rows are not checked in the file's order
#: (``Runs.left_out`` counts them).
SHARE = 4
#: ... unless the lines of a narrow load hold fewer values than this (1 MiB of float64)
#: in its numeric columns: there the cap left a narrow load of a few thousand rows about
#: a third of its runs, and a subset of a quarter of its rows then too few to check in
#: the file's order, to save less than a megabyte. The runs of a load hold at most
#: ``max(frame / SHARE, VALUES)`` values.
VALUES = 2**17


class Runs:
    """Runs of one load: ``ids`` (k,) of their witness rows, sorted; ``start`` (k,) each
    witness row's position in the frame; ``line_ids`` (u,) the ids of the frame's rows
    the runs hold, in the frame's order, each once (runs overlap), and ``index`` (k,
    ``BEFORE + 1 + AFTER``) each run's rows as positions in ``line_ids`` (-1 beyond the
    frame), the witness row at column ``BEFORE``; ``kept``: numeric column ->
    ``(loaded values at lines, NaN where missing; values missing before each witness
    row in the frame)``; ``left_out``: runs the cap (:data:`SHARE`) did not keep.

    ``around`` and ``values`` give them per run, as matrices (k, ``BEFORE + 1 +
    AFTER``), made when asked: kept once per line, the values are at most the frame's."""

    __slots__ = ("ids", "index", "kept", "left_out", "line_ids", "start")

    def __init__(self, ids, start, line_ids, index, kept, left_out=0):
        self.ids, self.start, self.line_ids = ids, start, line_ids
        self.index, self.kept, self.left_out = index, kept, left_out

    @classmethod
    def of(cls, frame, frame_ids, positions, every):
        """The runs of ``frame`` (row ids ``frame_ids``) around those of its witness rows
        (``positions``, sorted by id) the hash picks at stride ``every * RUN_EVERY``,
        as many as :data:`SHARE` allows."""
        from ._witness_loads import is_witness  # (it keeps these)

        at = positions[is_witness(frame_ids[positions], every * RUN_EVERY)]
        at = at[np.argsort(frame_ids[at], kind="stable")]
        n = len(frame)
        numeric = [j for j, dtype in enumerate(frame.dtypes) if _numeric(dtype)]
        at, left_out = _capped(at, n, len(numeric))
        grid = at[:, None] + np.arange(-BEFORE, AFTER + 1)
        inside = (grid >= 0) & (grid < n)
        lines = np.unique(grid[inside])
        index = np.where(inside, np.searchsorted(lines, np.clip(grid, 0, n - 1)), -1)
        index = index.astype(np.int32)
        kept = {}
        for j in numeric:
            name, series = frame.columns[j], frame.iloc[:, j]
            try:
                values = series.iloc[lines].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):  # (a numeric extension dtype of no float)
                continue
            missing = np.flatnonzero(np.asarray(series.isna(), dtype=bool))
            kept[str(name)] = (values, np.searchsorted(missing, at))
        return cls(frame_ids[at], at.astype(np.int64), frame_ids[lines], index, kept, left_out)

    @property
    def around(self):
        """(k, ``BEFORE + 1 + AFTER``) the ids of the frame's rows around each witness
        row (-1 beyond the frame)."""
        return np.where(self.index >= 0, self.line_ids[np.maximum(self.index, 0)], -1)

    @property
    def values(self):
        """Numeric column -> ``(values around, NaN where missing or beyond the frame;
        values missing before the witness row in the frame)``, each made when asked."""
        return _Around(self)

    def taking(self, keep):
        """The runs at positions ``keep`` (the lines no run left holds dropped)."""
        index = self.index[keep]
        used = np.unique(index[index >= 0])
        renum = np.full(self.line_ids.size, -1, dtype=np.int32)
        renum[used] = np.arange(used.size, dtype=np.int32)
        index = np.where(index >= 0, renum[np.maximum(index, 0)], -1).astype(np.int32)
        kept = {k: (v[used], gaps[keep]) for k, (v, gaps) in self.kept.items()}
        return Runs(
            self.ids[keep],
            self.start[keep],
            self.line_ids[used],
            index,
            kept,
            self.left_out,
        )

    def without(self, ids):
        """These runs less those holding any of ``ids`` (sorted), or self if none does."""
        hit = np.isin(self.around, ids).any(axis=1)
        return self.taking(np.flatnonzero(~hit)) if hit.any() else self

    def digest_bytes(self):
        """The bytes a load's digest adds for its runs."""
        parts = [self.around.tobytes()]
        for name, (near, gaps) in sorted(self.values.items()):
            parts += [name.encode() + b"\0", near.tobytes(), gaps.tobytes()]
        return b"".join(parts)

    @property
    def nbytes(self):
        """Memory held by the arrays."""
        held = self.ids.nbytes + self.start.nbytes + self.line_ids.nbytes + self.index.nbytes
        return held + sum(v.nbytes + g.nbytes for v, g in self.kept.values())


def _numeric(dtype):
    """Whether a column of ``dtype`` keeps its values in runs (a number, not a flag, a
    category or a complex number)."""
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not isinstance(dtype, pd.CategoricalDtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def _capped(at, n, columns=1):
    """The witness rows ``at`` (in the order of their ids) whose runs, from the first,
    hold together at most ``n // SHARE`` lines of the frame's ``n``, or more where
    those lines' values of its ``columns`` numeric columns are fewer than
    :data:`VALUES` (:data:`SHARE`), and how many were left out."""
    if not at.size:
        return at, 0
    width = BEFORE + 1 + AFTER
    budget = max(n // SHARE, VALUES // max(columns, 1), width)
    held = np.zeros(n, dtype=bool)
    total = 0
    for k, p in enumerate(at.tolist()):
        lo, hi = max(p - BEFORE, 0), min(p + AFTER + 1, n)
        more = (hi - lo) - int(held[lo:hi].sum())
        if total + more > budget:
            return at[:k], int(at.size - k)
        held[lo:hi] = True
        total += more
    return at, 0


class _Around:
    """:attr:`Runs.values`: a mapping made per column when asked."""

    __slots__ = ("_runs",)

    def __init__(self, runs):
        self._runs = runs

    def get(self, name, default=None):
        return self[name] if name in self._runs.kept else default

    def __getitem__(self, name):
        values, gaps = self._runs.kept[name]
        index = self._runs.index
        near = np.where(index >= 0, values[np.maximum(index, 0)], np.nan)
        return near, gaps

    def __contains__(self, name):
        return name in self._runs.kept

    def items(self):
        return ((name, self[name]) for name in self._runs.kept)
