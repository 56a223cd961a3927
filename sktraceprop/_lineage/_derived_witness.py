"""The witness rows of a merge or aggregate made from inputs changed after loading.

Each load keeps the rows that a hash of their ids picks (:func:`._witness.is_witness`).
A merge's rows have ids of their own, and the rows that hash picks among them are not
those made from its inputs' witness rows: in a merge that keeps an input's order, the
hash (a golden-ratio sequence over lines) picks two disjoint sets. A column changed
before the merge was compared on its input's witness rows only, so each of the merge's
witness rows held a value made from a row nothing compared: past 512 rows, nearly every
row was counted as not known, and no change was found.

Where :func:`._record.changes` found an input changed (a column differing, or not known,
on its witness rows), the merge chooses its witness rows instead
(:func:`merge_witnesses`): the rows made from a witness row of a changed input that was
compared when merging, and, among rows with no parent on that side (left, right and
outer joins: gaps, which later fills are compared on), the rows the hash of their own
ids picks, as often as that side's rows were compared. A row is so known on the side it
was chosen for; on another changed side it is known only where its parent there was
compared too (:func:`._derive._inherited`), and counted as not known elsewhere. An
aggregate (:func:`aggregate_witnesses`) chooses the groups holding a row compared: a
group holding a changed row is known to differ.

A fit's rows of a merge are witness rows where they are among those chosen (a look-up
of their ids, :class:`._witness.Chosen`): a part of the rows (a fold, a filter) holds its
share of them, as with the hash. Beyond ``MAX_CHOSEN`` rows, those with the lowest hash
of their ids are kept; below ``N_WITNESS`` (inputs that are small parts of their files),
the rows the hash picks are added, so changes made after the merge are still compared on
a few hundred rows.

Comparing a merge's rows with what it made shows its ancestors' values as loaded only
where those values, given to the merge, were compared with their loads. A frame whose
loads this process does not keep (unpickled from another) was compared with nothing:
the merge keeps its source and ancestors as not compared (:func:`unchecked_codes`), and
a fit records, per ancestor, the merge's rows compared or 0 (:func:`compared_through`),
so the report does not call such a source checked through the merge.
"""

import numpy as np

from ._merged_parents import ancestor_codes
from ._source import REGISTRY
from ._witness import _GOLDEN, N_WITNESS, WITNESSES, is_witness, stride

#: Witness rows a merge or aggregate chooses at most.
MAX_CHOSEN = 4 * N_WITNESS


def merge_witnesses(out_ids, sides):
    """Positions of the rows of a merge kept as its witness rows, or ``None`` where the
    hash of their ids is to pick them (no input changed, or every row is one).

    Parameters
    ----------
    out_ids : ndarray of int64
        The row ids of the merged rows.
    sides : list of tuple
        One ``(positions, compared, n_rows)`` per input found changed: per merged row
        the position of its parent in that input (-1 where it has none), the positions
        of that input's witness rows compared (:attr:`._witness.ChangedColumns.compared_at`)
        and the input's row count.

    Returns
    -------
    positions : ndarray of intp or None
        Sorted.
    """
    n = len(out_ids)
    if not sides or stride(n) == 1:
        return None
    chosen = np.zeros(n, dtype=bool)
    for positions, compared, n_rows in sides:
        marked = np.zeros(n_rows + 1, dtype=bool)  # (the last: no parent, never marked)
        marked[compared] = True
        chosen |= marked[positions]
        orphan = positions < 0
        if orphan.any() and compared.size:
            # gaps of this side: picked by their own ids, at the rate of its rows
            every = 1 << max(0, int(n_rows // compared.size).bit_length() - 1)
            chosen[orphan] |= is_witness(out_ids[orphan], every)
    return _bounded(out_ids, np.flatnonzero(chosen))


def aggregate_witnesses(out_ids, group, compared):
    """Positions of the groups of an aggregate kept as its witness rows (those holding
    a row compared), or ``None`` where the hash is to pick them (every group is one).

    ``group``: each input row's group (-1 where it is in none); ``compared``: the
    positions of the input's witness rows compared.
    """
    n = len(out_ids)
    if stride(n) == 1:
        return None
    held = np.asarray(group)[compared]
    chosen = np.zeros(n, dtype=bool)
    chosen[held[held >= 0]] = True
    return _bounded(out_ids, np.flatnonzero(chosen))


def _bounded(out_ids, chosen):
    """``chosen`` (sorted positions), at most ``MAX_CHOSEN`` of them (the lowest hashes
    of their ids) and, where fewer than ``N_WITNESS``, with the rows the hash picks."""
    if chosen.size > MAX_CHOSEN:
        with np.errstate(over="ignore"):
            mixed = out_ids[chosen].view(np.uint64) * _GOLDEN
        keep = np.argpartition(mixed, MAX_CHOSEN - 1)[:MAX_CHOSEN]
        chosen = np.sort(chosen[keep])
    if chosen.size < N_WITNESS:
        picked = np.flatnonzero(is_witness(out_ids, stride(len(out_ids))))
        chosen = np.union1d(chosen, picked)
    return chosen


def unchecked_codes(found, codes):
    """The codes among ``codes`` (an input's sources) and their ancestors whose values
    given to a merge or aggregate were not compared with what was loaded: those of
    which :func:`._record.changes` (``found``) compared no row (their loads not kept
    in this process: a frame unpickled from another; or no witness row among the rows
    given), with their ancestors, and those an input merge or aggregate kept as such.
    """
    compared = getattr(found, "rows_compared", None) or {}
    out = set()
    for code in map(int, codes):
        source = REGISTRY.by_code(code)
        if not compared.get(code):
            todo = [code]
            while todo:  # it and its ancestors, as the registry knows them
                c = todo.pop()
                if c not in out:
                    out.add(c)
                    todo.extend(int(p) for p in REGISTRY.by_code(c).parent_codes)
        else:
            for load in WITNESSES.loads(code, source.sha256):
                out |= load.unchecked
    return frozenset(out)


def compared_through(sources, compared):
    """``{(ancestor code, merge code): rows}`` for each merge or aggregate among the
    sources of the data compared (``compared``: code -> its witness rows compared): the
    merge's rows compared where the ancestor's values given to it (or to a merge before
    it) were compared with what was loaded, 0 where not (:func:`unchecked_codes`), or
    where the merge's loads are not kept here."""
    out = {}
    for code, n in compared.items():
        source = sources.get(int(code))
        if source is None or source.kind not in ("merge", "aggregate"):
            continue
        loads = WITNESSES.loads(code, source.sha256)
        unchecked = frozenset().union(*(w.unchecked for w in loads))
        for parent in sorted(ancestor_codes(sources, [code]) - {int(code)}):
            out[parent, int(code)] = 0 if not loads or parent in unchecked else int(n)
    return out
