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
mean's count). Kept in this process only, as the witness rows are; rows an unlearner
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


class Runs:
    """Runs of one load: ``ids`` (k,) of their witness rows, sorted; ``around`` (k,
    ``BEFORE + 1 + AFTER``) the ids of the frame's rows around each (-1 beyond the
    frame), the witness row at column ``BEFORE``; ``start`` (k,) each witness row's
    position in the frame; ``values``: numeric column -> ``(values around, NaN where
    missing or beyond the frame; values missing before the witness row in the frame)``."""

    __slots__ = ("around", "ids", "start", "values")

    def __init__(self, ids, around, start, values):
        self.ids, self.around, self.start, self.values = ids, around, start, values

    @classmethod
    def of(cls, frame, frame_ids, positions, every):
        """The runs of ``frame`` (row ids ``frame_ids``) around those of its witness rows
        (``positions``, sorted by id) the hash picks at stride ``every * RUN_EVERY``."""
        from ._witness_loads import is_witness  # (it keeps these)

        at = positions[is_witness(frame_ids[positions], every * RUN_EVERY)]
        at = at[np.argsort(frame_ids[at], kind="stable")]
        n = len(frame)
        grid = at[:, None] + np.arange(-BEFORE, AFTER + 1)
        inside = (grid >= 0) & (grid < n)
        flat = np.clip(grid, 0, n - 1).ravel()
        around = np.where(inside, frame_ids[flat].reshape(grid.shape), -1)
        values = {}
        for j, name in enumerate(frame.columns):
            series = frame.iloc[:, j]
            dtype = series.dtype
            if (
                not pd.api.types.is_numeric_dtype(dtype)
                or pd.api.types.is_bool_dtype(dtype)
                or isinstance(dtype, pd.CategoricalDtype)
                or pd.api.types.is_complex_dtype(dtype)
            ):
                continue
            try:
                near = series.iloc[flat].to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError):  # (a numeric extension dtype of no float)
                continue
            near = np.where(inside, near.reshape(grid.shape), np.nan)
            missing = np.flatnonzero(np.asarray(series.isna(), dtype=bool))
            values[str(name)] = (near, np.searchsorted(missing, at))
        return cls(frame_ids[at], around, at.astype(np.int64), values)

    def taking(self, keep):
        """The runs at positions ``keep``."""
        values = {k: (v[keep], gaps[keep]) for k, (v, gaps) in self.values.items()}
        return Runs(self.ids[keep], self.around[keep], self.start[keep], values)

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
        held = self.ids.nbytes + self.around.nbytes + self.start.nbytes
        return held + sum(v.nbytes + g.nbytes for v, g in self.values.values())
