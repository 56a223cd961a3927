"""One removal as an audit record, printed as a summary of the rows it removed.

A request can remove tens of thousands of rows. The event keeps every removed row id
(``event["row_ids"]``, a :class:`RemovedRows`: an int64 array underneath) so that an
auditor can check exactly what went, but printing it shows per source the training rows
removed (``sources``) and the distinct rows of it behind them (``source_rows``: fewer
where merged rows share a parent row or a row was given to fit more than once), the
line range per source and a SHA-256 digest of the ids, not the ids themselves. What
goes to a store is :meth:`UnlearningEvent.payload`: the same fields, JSON-safe, the ids
as a list.
"""

import hashlib

import numpy as np

from .._state_format import constructed, record_of

__all__ = ["RemovedRows", "UnlearningEvent", "row_ids_digest"]

#: Fields shown first when an event is printed, in this order.
_LEAD = (
    "time_utc",
    "method",
    "n_removed",
    "n_retained",
    "sources",
    "source_rows",
    "counts_note",
    "row_ids",
)
#: Lists longer than this are summarised when printed.
_SHOWN_ITEMS = 8


def row_ids_digest(ids):
    """SHA-256 of the sorted row ids as little-endian int64 (independent of their order)."""
    ordered = np.sort(np.asarray(ids, dtype=np.int64)).astype("<i8")
    return hashlib.sha256(ordered.tobytes()).hexdigest()


class RemovedRows:
    """The row ids a removal removed: a read-only int64 array, printed as a summary.

    Iterating gives the ids as ``int``; ``np.asarray(rows)`` the array; ``rows == other``
    is True when ``other`` holds the same ids in the same order.

    Parameters
    ----------
    ids : array-like of int64
    lines : dict of str to (int, int), default=None
        First and last line removed per source, for the summary.
    """

    # (its pickle passes sktraceprop._state_format.constructed its record: see there why
    # one from before records were written is not warned about)
    _state_format = 1
    _state_upgrades = {}

    def __init__(self, ids, lines=None):
        self._ids = np.array(ids, dtype=np.int64)
        self._ids.setflags(write=False)
        self.lines = dict(lines or {})

    @property
    def sha256(self):
        """:func:`row_ids_digest` of the ids."""
        return row_ids_digest(self._ids)

    def __array__(self, dtype=None, copy=None):
        if copy:
            return self._ids.astype(dtype or np.int64, copy=True)
        return self._ids if dtype is None else self._ids.astype(dtype)

    def __len__(self):
        return self._ids.shape[0]

    def __iter__(self):
        return iter(self._ids.tolist())

    def __getitem__(self, index):
        return self._ids[index]

    def tolist(self):
        """The ids as a list of ``int``."""
        return self._ids.tolist()

    def __eq__(self, other):
        try:
            theirs = np.asarray(other)
        except (TypeError, ValueError):
            return NotImplemented
        return bool(theirs.shape == self._ids.shape and np.array_equal(theirs, self._ids))

    __hash__ = None

    def __repr__(self):
        where = ", ".join(
            f"{source} lines {lo} to {hi}, first and last" if lo != hi else f"{source} line {lo}"
            for source, (lo, hi) in self.lines.items()
        )
        where = f": {where}" if where else ""
        return f"<{len(self)} row ids{where}; sha256 {self.sha256[:16]}...>"

    def __reduce__(self):
        return (constructed, (type(self), record_of(type(self)), (self._ids, self.lines)))


def _short(value):
    if isinstance(value, list | tuple) and len(value) > _SHOWN_ITEMS:
        head = ", ".join(repr(v) for v in value[:3])
        return f"[{head}, ... {len(value)} items]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


class UnlearningEvent(dict):
    """The record of one removal: a ``dict``, printed as a summary.

    ``event["row_ids"]`` holds every removed row id (:class:`RemovedRows`),
    ``event["row_ids_sha256"]`` their :func:`row_ids_digest` and ``event["lines"]``
    the first and last line removed per source. ``repr`` and ``print`` show the count
    per source, those line ranges and the digest instead of the ids.
    """

    # (as RemovedRows')
    _state_format = 1
    _state_upgrades = {}

    def __init__(self, fields):
        rows = fields["row_ids"]
        if not isinstance(rows, RemovedRows):
            rows = RemovedRows(rows, fields.get("lines"))
        super().__init__({**fields, "row_ids": rows})

    def payload(self):
        """The event as JSON-safe values (row ids as a list of int), for a store."""
        return {k: (v.tolist() if k == "row_ids" else v) for k, v in self.items()}

    def __repr__(self):
        keys = [k for k in _LEAD if k in self] + [
            k for k in self if k not in _LEAD and k not in ("lines", "row_ids_sha256")
        ]
        return f"UnlearningEvent({', '.join(f'{k}={_short(self[k])}' for k in keys)})"

    __str__ = __repr__

    def _repr_pretty_(self, printer, cycle):
        printer.text(repr(self))

    def __reduce__(self):
        return (constructed, (type(self), record_of(type(self)), (dict(self),)))
