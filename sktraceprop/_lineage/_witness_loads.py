"""Which rows are a load's witness rows (a hash of their ids, or the rows a merge or
aggregate chose), and what this process keeps of them: :data:`WITNESSES`, the
thread-safe map of each source's loads (see :mod:`._witness`)."""

import hashlib
import pickle
import threading

import numpy as np

from ..utils._hashing import GOLDEN as _GOLDEN
from ._ids import codes_of
from ._witness_runs import Runs
from ._witness_values import _take_columns

#: Rows kept per load: 256 to 512 expected (a hash of the id picks them).
N_WITNESS = 256
#: Loads of one source with different values (say, read with other ``dtype=``) kept;
#: beyond that the source's rows are no longer compared (never a false alarm).
MAX_LOADS = 8

_CHUNK = 1 << 16


def stride(n_rows):
    """One row in ``stride`` (a power of two) is a witness: 256 to 512 rows expected."""
    return 1 << max(0, int(n_rows // N_WITNESS).bit_length() - 1)


def is_witness(ids, every):
    """Whether each row id is a witness of a load with ``stride(n) == every``.

    A multiplicative hash of the id, so witnesses are spread over the rows, any subset
    of rows (a fold, a filter) holds its share of them, and testing a million ids is
    one multiplication and one comparison each (no search).
    """
    if every == 1:
        return np.ones(len(ids), dtype=bool)
    ids = np.ascontiguousarray(ids, dtype=np.int64).view(np.uint64)
    out = np.empty(ids.size, dtype=bool)
    limit = np.uint64((1 << 64) // every)
    mixed = np.empty(min(ids.size, _CHUNK), dtype=np.uint64)
    for start in range(0, ids.size, _CHUNK):  # in chunks: no id-sized temporary
        part = mixed[: min(_CHUNK, ids.size - start)]
        with np.errstate(over="ignore"):
            np.multiply(ids[start : start + part.size], _GOLDEN, out=part)
        # the top bits of the product are its best mixed: zero with probability 1/every
        np.less(part, limit, out=out[start : start + part.size])
    return out


class Chosen:
    """The witness rows of a load chosen by the load, not by the hash of their ids (a
    merge's or aggregate's: :mod:`._derived_witness`): ``ids``, sorted, of one source."""

    __slots__ = ("ids",)

    def __init__(self, ids):
        self.ids = ids

    def holds(self, ids):
        """Whether each row id is one of these: a look-up in a table over the lines
        they span (one byte per line, made for the call), in chunks, as
        :func:`is_witness` (a search of a million ids among the chosen would cost a
        hundred times more)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros(ids.size, dtype=bool)
        if not self.ids.size:
            return out
        below = self.ids[0] - 1  # (a valid id's line is at least 1: no overflow)
        table = np.zeros(int(self.ids[-1] - below) + 2, dtype=bool)
        table[self.ids - below] = True  # (entries 0 and -1 stay False: ids outside)
        at = np.empty(min(ids.size, _CHUNK), dtype=np.int64)
        for start in range(0, ids.size, _CHUNK):
            part = at[: min(_CHUNK, ids.size - start)]
            np.subtract(ids[start : start + part.size], below, out=part)
            np.take(table, part, mode="clip", out=out[start : start + part.size])
        return out


def selector(load):
    """What picks ``load``'s witness rows: its stride (the hash of the ids), or its
    :class:`Chosen` rows. Loads with equal selectors have the same witness rows."""
    return load.stride if load.chosen is None else load.chosen


def witness_mask(ids, loads, tested=None):
    """Whether each row id is a witness row of one of ``loads`` (of one source).

    ``tested``: selector (:func:`selector`) -> its answer for these ``ids``, kept
    across calls for the same ``ids`` (several sources share a stride).
    """
    tested = {} if tested is None else tested
    out = np.zeros(len(ids), dtype=bool)
    for key in {selector(w) for w in loads}:
        if key not in tested:
            tested[key] = selected(ids, key)
        out |= tested[key]
    return out


def selected(ids, key):
    """Whether each row id is a witness row of the loads with selector ``key``."""
    return key.holds(ids) if isinstance(key, Chosen) else is_witness(ids, key)


class _Load:
    """The witness rows of one load: sorted ids, columns, stride (or the rows chosen),
    inherited changes, and for a merge the sides its columns came from."""

    __slots__ = (
        "_digest",
        "chosen",
        "columns",
        "dtypes",
        "frame_positions",
        "frame_rows",
        "group",
        "ids",
        "inherited",
        "runs",
        "sides",
        "stride",
        "unchecked",
    )

    def __init__(
        self,
        frame,
        positions,
        ids,
        every,
        inherited,
        group=None,
        sides=None,
        chosen=False,
        unchecked=frozenset(),
    ):
        order = np.argsort(ids, kind="stable")
        self.ids = ids[order]
        # where each witness row was in the frame loaded, of how many rows: a plain
        # array of one of its columns, in its order, is recognised by them
        # (:mod:`._loaded_labels`)
        self.frame_positions = np.asarray(positions, dtype=np.intp)[order]
        self.frame_rows = len(frame)
        self.stride = every
        # the rows chosen (a merge's or aggregate's), or None: those the hash picks
        self.chosen = Chosen(self.ids) if chosen else None
        # a merge's or aggregate's: the ancestor codes whose values given to it were
        # not compared with what was loaded (:func:`._derived_witness.unchecked_codes`)
        self.unchecked = frozenset(unchecked)
        self.group = group
        # column -> (differs, filled, known): per witness row, whether the value this load
        # holds differs from the files' (its inputs had changed), was missing there, and
        # whether that is known (the inputs' rows it was made from were compared)
        self.inherited = {
            str(k): tuple(np.asarray(m, dtype=bool)[positions[order]] for m in masks)
            for k, masks in (inherited or {}).items()
        }
        self.sides = sides
        names = (str(c) for c in frame.columns)
        self.columns = dict(zip(names, _take_columns(frame, positions[order])))
        self.dtypes = [str(t) for t in frame.dtypes]
        # the values around some witness rows (:mod:`._witness_runs`), set by add
        self.runs = None
        self._digest = None

    @property
    def digest(self):
        """SHA-256 of the rows and values kept: computed when a second load of the same
        source needs comparing (a re-read of unchanged values is kept once)."""
        if self._digest is None:
            h = hashlib.sha256(self.ids.tobytes())
            h.update(repr(sorted(self.unchecked)).encode())
            for name, masks in sorted(self.inherited.items()):
                h.update(name.encode() + b"\0" + b"".join(m.tobytes() for m in masks))
            if self.runs is not None:
                h.update(self.runs.digest_bytes())
            for (name, col), dtype in zip(self.columns.items(), self.dtypes):
                h.update(name.encode() + b"\0" + dtype.encode() + b"\0")
                h.update(col.missing.tobytes())
                if col.numeric:
                    h.update(col.values.tobytes())
                    continue
                try:  # (a few hundred cells: their pickle, exact, also lists and arrays)
                    h.update(pickle.dumps(col.values.tolist(), protocol=5))
                except Exception:  # noqa: BLE001 - unpicklable: never equal to another
                    h.update(str(id(col)).encode())
            self._digest = h.hexdigest()
        return self._digest

    def taking(self, keep):
        """A new load of the witness rows at positions ``keep`` of this one."""
        new = object.__new__(_Load)
        for name in self.__slots__:
            setattr(new, name, getattr(self, name))
        new.ids = self.ids[keep]
        new.frame_positions = self.frame_positions[keep]
        if self.chosen is not None:  # (a new selector: no stale answer)
            new.chosen = Chosen(new.ids)
        new.columns = {k: c.take(keep) for k, c in self.columns.items()}
        new.inherited = {k: tuple(m[keep] for m in masks) for k, masks in self.inherited.items()}
        if self.runs is not None:  # (a run goes with its witness row)
            new.runs = self.runs.taking(np.flatnonzero(np.isin(self.runs.ids, new.ids)))
        new._digest = None
        return new

    def positions(self, ids):
        """Position of each id among this load's rows, ``-1`` where it is not one."""
        return positions_in(self.ids, ids)


def positions_in(sorted_ids, ids):
    """Position of each of ``ids`` in ``sorted_ids``, ``-1`` where absent."""
    if not sorted_ids.size:  # (an op's kept rows, all unlearned)
        return np.full(np.shape(ids), -1, dtype=np.intp)
    at = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return np.where(sorted_ids[at] == ids, at, -1)


class _Witnesses:
    """Thread-safe map: source code -> the witness rows of its loads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._by_code = {}
        self._overflow = set()
        self._version = 0
        self._followers = []

    def follow(self, store):
        """Have ``store`` (with ``forget(ids)`` and ``clear()``) forget and clear with
        the witnesses: it keeps values of witness rows too."""
        self._followers.append(store)

    def add(
        self,
        code,
        sha256,
        frame,
        inherited=None,
        ids=None,
        every=None,
        group=None,
        sides=None,
        chosen=None,
        unchecked=frozenset(),
    ):
        """Keep the witness rows of ``frame`` (indexed by row ids; see :func:`stride`).

        ``inherited``: for a merge or aggregate, its columns whose inputs had changed
        after loading (column -> ``(differs, filled, known)``, bool arrays over the rows
        of ``frame``: the rows whose value was made from an input value that differs
        from the files', of those the rows whose value was missing there, and the rows
        whose input values were compared, for which this is known; see
        :attr:`ChangedColumns.rows`). ``ids``: the frame's row ids, when the caller has
        them as an array. ``every``: the stride (default: ``stride(len(frame))``).
        ``group``: the loads of one read in chunks share it (and the stride of the whole
        read), and count as one load. ``sides``:
        for a merge, what :mod:`._misplaced_merge` needs to name its rows by their
        parents' values (column -> sides and parent columns, each side's codes).
        ``chosen``: the positions of the witness rows, where the caller chooses them
        (a merge's or aggregate's, :mod:`._derived_witness`), not the hash of their ids.
        ``unchecked``: for a merge or aggregate, the codes of its ancestors whose values
        given to it were not compared with what was loaded.
        """
        n = len(frame)
        if n == 0 or frame.columns.has_duplicates:
            return
        if ids is None:
            ids = np.asarray(frame.index.get_level_values(-1), dtype=np.int64)
        every = stride(n) if every is None else every
        if chosen is None:
            pos = np.flatnonzero(is_witness(ids, every))
        else:
            pos = np.unique(np.asarray(chosen, dtype=np.intp))
        if not pos.size or np.unique(ids[pos]).size != pos.size:
            return
        load = _Load(
            frame, pos, ids[pos], every, inherited, group, sides, chosen is not None, unchecked
        )
        if chosen is None and group is None and every > 1:
            load.runs = Runs.of(frame, ids, pos, every)
        with self._lock:
            if code in self._overflow:
                return
            known = self._by_code.setdefault(code, [sha256, []])
            if known[0] != sha256:
                # another source under this code (the registry probes codes within a
                # process, so this is a cleared registry): compare against neither
                self._overflow.add(code)
                del self._by_code[code]
                return
            loads = known[1]
            if any(w.digest == load.digest for w in loads):
                return
            reads = {id(w) if w.group is None else w.group for w in loads}
            if (group is None or group not in reads) and len(reads) >= MAX_LOADS:
                self._overflow.add(code)
                del self._by_code[code]
                return
            loads.append(load)
            self._version += 1

    def loads(self, code, sha256):
        return self.loads_at(code, sha256)[1]

    def loads_at(self, code, sha256):
        """``(version, loads)``: the loads of source ``code`` (content ``sha256``) and
        the :attr:`version` they are the loads of, read together (a cache of what they
        hold is keyed by it: read apart, a load added in another thread between the two
        would leave an index of fewer loads under the newer version)."""
        with self._lock:
            known = self._by_code.get(int(code))
            kept = [] if known is None or known[0] != sha256 else list(known[1])
            return self._version, kept

    def forget(self, ids):
        """Drop the witness rows with these ids (rows an unlearner removed): their
        values stay nowhere in this process."""
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        with self._lock:
            self._version += 1
            for code in np.unique(codes_of(ids)).tolist():
                known = self._by_code.get(int(code))
                if known is None:
                    continue
                kept = []
                for load in known[1]:
                    keep = np.flatnonzero(~np.isin(load.ids, ids))
                    runs = load.runs.without(ids) if load.runs is not None else None
                    if keep.size < load.ids.size or runs is not load.runs:
                        # a new load, not this one changed: a fit in another thread
                        # reading it would see the ids of one and the values of the other
                        load = load.taking(keep)
                        if runs is not None:  # (and the runs holding a row removed)
                            load.runs = runs.taking(np.flatnonzero(np.isin(runs.ids, load.ids)))
                    if load.ids.size:
                        kept.append(load)
                known[1] = kept
        for store in self._followers:
            store.forget(ids)

    def unchecked(self, codes):
        """Of ``codes``, those whose loads are no longer kept (read more than
        ``MAX_LOADS`` ways in this process, or a code reused by a cleared registry): their
        values cannot be compared with what was loaded."""
        with self._lock:
            return sorted(int(c) for c in codes if int(c) in self._overflow)

    @property
    def version(self):
        """A number that changes whenever the loads kept do."""
        with self._lock:
            return self._version

    def every_load(self):
        """``(version, [(code, load), ...])``: every load kept, in no particular order,
        and a number that changes whenever the loads kept do."""
        with self._lock:
            loads = [(code, w) for code, (_, kept) in self._by_code.items() for w in kept]
            return self._version, loads

    def clear(self):
        with self._lock:
            self._version += 1
            self._by_code.clear()
            self._overflow.clear()
        for store in self._followers:
            store.clear()


WITNESSES = _Witnesses()
