"""The rows of a fit that each removal event of a store names, matched for all events at once.

The refit check (:mod:`._removed_in_store`) reads, for every unlearning and erasure event
a store holds, the lines of the fit's sources the event removed (or every line of a
source). Matching them to the fit's rows one event at a time took a few numpy calls an
event, each a pass over the fit's rows of that source (0.29 ms an event: 2.9 s added to
every fit writing to a store of 10,000 erasures). Here the events' lines are packed and
matched to the fit's rows in one pass, then split by event: each event's rows are the
same set as matched alone (sorted, each once).
"""

from itertools import chain

import numpy as np

from ._lineage._ids import LINE_BITS, codes_of, pack

__all__ = ["EventLines"]

_EMPTY = np.zeros(0, np.int64)


class EventLines:
    """The lines each removal event names, by source, gathered to be matched at once.

    Parameters
    ----------
    ids : ndarray of int64
        The fit's row ids.
    keys : dict
        ``{(source_id, sha256): code}`` of the sources of ``ids``.
    """

    def __init__(self, ids, keys):
        self._ids, self._keys = ids, keys
        self._listed = []  # (event, code, list of lines) as an event's payload gives them
        self._arrays = []  # (event, code, int64 array of lines)
        self._whole = []  # (event, code): every row of the source

    def add(self, event, found):
        """Take what event number ``event`` removed: ``{key: lines}``, where lines are
        None (every line of the source), an array of lines, or a list of such parts (a
        payload's lists of ints among them)."""
        for key, lines in found.items():
            code = self._keys[key]
            if lines is None:
                self._whole.append((event, code))
                continue
            for part in lines if isinstance(lines, list) else [lines]:
                if type(part) is list and all(type(v) is int for v in part):
                    self._listed.append((event, code, part))
                else:
                    self._arrays.append((event, code, np.asarray(part, dtype=np.int64).ravel()))

    def _packed(self):
        """``(event of each named row, its packed id)``, every part's lines checked as
        :func:`~._lineage._ids.pack` checks them."""
        listed, arrays = self._listed, self._arrays
        counts = [len(p) for _, _, p in listed] + [p.size for _, _, p in arrays]
        if not sum(counts):
            return _EMPTY, _EMPTY
        events = np.repeat(np.asarray([e for e, _, _ in listed + arrays], np.int64), counts)
        codes = np.repeat(np.asarray([c for _, c, _ in listed + arrays], np.int64), counts)
        flat = np.asarray(list(chain.from_iterable(p for _, _, p in listed)), dtype=np.int64)
        lines = np.concatenate([flat, *(p for _, _, p in arrays)])
        packed = np.empty_like(lines)
        for code in np.unique(codes).tolist():
            at = codes == code
            packed[at] = pack(code, lines[at])
        return events, packed

    def rows(self):
        """``[(event, its rows of the fit (sorted, each once), their codes)]`` of the
        events that named any, in the order of the events."""
        events, packed = self._packed()
        named = np.isin(packed, self._ids)
        events, found = [events[named]], [packed[named]]
        if self._whole:
            codes = codes_of(self._ids)
            every = {c: np.unique(self._ids[codes == c]) for _, c in self._whole}
            for event, code in self._whole:
                found.append(every[code])
                events.append(np.full(every[code].size, event, np.int64))
        events, found = np.concatenate(events), np.concatenate(found)
        order = np.lexsort((found, events))
        events, found = events[order], found[order]
        new = np.ones(events.size, bool)
        new[1:] = (events[1:] != events[:-1]) | (found[1:] != found[:-1])
        events, found = events[new], found[new]
        # each event's distinct codes: where the code changes within it (sorted by id)
        codes = found >> np.int64(LINE_BITS)
        first = np.ones(events.size, bool)
        first[1:] = (events[1:] != events[:-1]) | (codes[1:] != codes[:-1])
        code_events, code_values = events[first], codes[first].tolist()
        starts = np.flatnonzero(np.r_[True, events[1:] != events[:-1]] if events.size else [])
        bounds = np.r_[starts, events.size].tolist()
        code_bounds = np.searchsorted(code_events, events[starts]).tolist() + [len(code_values)]
        return [
            (int(events[a]), found[a:b], code_values[c:d])
            for a, b, c, d in zip(bounds, bounds[1:], code_bounds, code_bounds[1:])
        ]
