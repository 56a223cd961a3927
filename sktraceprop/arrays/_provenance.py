"""``provenance(x)``: the sources, operations and source rows behind a traced array."""

import numpy as np
import pandas as pd

from .._lineage._ids import codes_of
from .._lineage._source import REGISTRY
from .._state_format import RecordedFormatMixin
from ..exceptions import LineageError
from . import _rowmap as rmap
from ._graph import (
    FRAMEWORK,
    INPUTS,
    LEFT_OUT,
    OP,
    UNRECORDED,
    ancestors,
    get_granularity,
    params_dict,
)
from ._provenance_rows import source_rows
from ._provenance_sources import (
    INCOMPLETE,
    _codes_behind,
    _step_sources,
    graph_incomplete,
    unmodelled_ops,
)
from ._provenance_state import state_of
from ._through import went_through

#: ``went_through`` of a step reached only where a relation between rows was not recorded.
MAY_HAVE = "may have"


class Provenance(RecordedFormatMixin):
    """Lineage of one traced array: its sources, the operations it went through, and the
    source rows behind each of its rows.

    Made by :func:`sktraceprop.provenance`.
    """

    _state_format = 1  # (its pickle records it: see _state_format)

    def __init__(self, rows, node, shape, framework):
        self._rows = rows
        self._node = node
        self.shape = shape
        self.framework = framework
        self._through = None

    # -- sources and operations ------------------------------------------------------------
    def sources(self):
        """The registered sources behind the array's rows (merge parents included).

        The sources are those of the rows each row of the array is made of and of the rows
        it depends on through an operation that mixed rows (``a - b.mean(axis=0)``: every
        row of ``b``), as its row ids say: the provenance of ``z[[3]]`` names the sources
        of row 3 only. Where the row ids were dropped (see :meth:`notes`), the sources of
        every step of the operation graph are listed instead, and ``basis`` says so.

        Returns
        -------
        sources : DataFrame
            Columns ``source_id``, ``kind``, ``uri``, ``sha256``, ``n_rows``, ``code``
            and ``basis``: ``"row ids"``, or ``"operation graph (row ids dropped)"``.

        Raises
        ------
        LineageError
            If the row ids were dropped and the operation graph does not reach every
            source: an input was made at granularity ``"none"`` or by an ndarray method
            that sktraceprop does not model (the error names the sources it does reach).
        """
        table, basis = _codes_behind(self._rows, self._node)
        table = dict(sorted(table.items(), key=lambda item: (item[1].source_id, item[0])))
        return pd.DataFrame(
            [
                {
                    "source_id": s.source_id,
                    "kind": s.kind,
                    "uri": s.uri,
                    "sha256": s.sha256,
                    "n_rows": s.n_rows,
                    "code": code,
                    "basis": basis,
                }
                for code, s in table.items()
            ],
            columns=["source_id", "kind", "uri", "sha256", "n_rows", "code", "basis"],
        )

    def _steps(self):
        if self._node is None:
            return []
        if self._through is None:
            self._through = went_through(self._node, self._rows)
        return self._through

    def ancestors(self):
        """The steps the array's rows went through, sources first, inputs before their
        users.

        A step is listed when at least one row of its result is behind a row of the array
        (made of it, or pooled in by an operation that mixed rows): the provenance of
        ``np.concatenate([a * 2, b])[[-1]]`` lists ``b``'s source and the concatenation,
        not ``a`` nor the multiplication. This is told from the row maps that the steps'
        results keep and the origins of those maps (which rows of which inputs), so it
        costs the operations no work; it costs memory: the row maps of intermediate
        results made by concatenation or indexing, and a copy of each integer index or
        mask, stay alive for as long as an array computed from them does (measured in
        ``doc/arrays.rst``, "Cost").
        Where that relation was not recorded (granularity ``"batch"``, an array restored
        from a pickle, two inputs with the same row map whose rows cannot be told apart,
        an input whose rows decided the result without being its parents: the traced
        condition of ``x[x[:, 0] > 4]``),
        every row of the step's inputs is taken as behind it, and the steps reached only
        that way are listed with ``went_through == "may have"``, never left out.

        Returns
        -------
        steps : DataFrame
            Columns ``step`` (1-based), ``kind`` (``"source"``, ``"op"`` or
            ``"not recorded"``), ``op``, ``framework``, ``inputs`` (the step numbers of
            the inputs the rows came through), ``params``, ``sources`` (the source ids
            behind the step's rows that the array's rows came through) and
            ``went_through``: ``"yes"``, or ``"may have"``.
        """
        steps = self._steps()
        number = {id(step[0]): k + 1 for k, step in enumerate(steps)}
        behind = _step_sources(steps)
        records = []
        for step, sure, _, came in steps:
            kind = {"source": "source", UNRECORDED: "not recorded"}.get(step[OP], "op")
            records.append(
                {
                    "step": number[id(step)],
                    "kind": kind,
                    "op": step[OP],
                    "framework": step[FRAMEWORK],
                    "inputs": [
                        number[id(p)] for p in step[INPUTS] if p is not None and id(p) in came
                    ],
                    "params": params_dict(step),
                    "sources": sorted(behind[id(step)]),
                    "went_through": "yes" if sure else MAY_HAVE,
                }
            )
        columns = [
            "step", "kind", "op", "framework", "inputs", "params", "sources", "went_through"
        ]  # fmt: skip
        return pd.DataFrame(records, columns=columns)

    def ops(self):
        """The operations the array's rows went through, in the order they ran (sources
        left out; see :meth:`ancestors` for what "went through" means).

        Returns
        -------
        ops : DataFrame
            Columns ``step``, ``op``, ``framework``, ``inputs`` (step numbers, sources
            included), ``params`` and ``went_through`` (``"yes"``, or ``"may have"``
            where how the step's rows relate to its inputs' was not recorded).
            Operations run at granularity ``"batch"`` appear as one
            ``"(not recorded)"`` step.
        """
        frame = self.ancestors()
        ops = frame[frame["kind"] != "source"]
        columns = ["step", "op", "framework", "inputs", "params", "went_through"]
        return ops[columns].reset_index(drop=True)

    # -- rows -------------------------------------------------------------------------------
    def _check(self):
        if self._rows.dropped is not None:
            raise LineageError(f"row lineage unknown: {self._rows.dropped}")
        n = self._rows.n
        if n is not None and (not self.shape or n != self.shape[0]):
            # a rule gave a map of another length than the array's rows: whatever it
            # names would be another row's parents
            raise LineageError(
                f"row lineage inconsistent: a map of {n} rows for an array of shape "
                f"{tuple(self.shape)} (a bug in sktraceprop; please report the operations)"
            )

    def rows(self, i, pooled=True):
        """The source rows behind output row(s) ``i``.

        Parameters
        ----------
        i : int or array-like of int
            Positions along the array's first axis (negative counts from the end).
        pooled : bool, default=True
            Also list the rows the output row depends on through an operation that mixes
            rows (a mean or standard deviation over rows, a matmul along the row axis):
            every row of those inputs. ``False`` lists only the rows each output row is
            made of.

        Returns
        -------
        rows : DataFrame
            Columns ``row`` (the output row), ``row_id``, ``source_id``, ``uri``,
            ``line`` (physical 1-based file line for files read with ``read_csv``;
            1-based row position otherwise) and ``through``: None for the rows the
            output row is made of, else the operations that pooled it in (a source row
            is listed once among the rows an output row is made of, and once among
            those pooled into it, with every operation that did). A row built
            by ``sktraceprop.merge`` appears once per parent, with column ``via``.

        Raises
        ------
        LineageError
            If the row ids were dropped (an unmodelled operation, granularity
            ``"none"``, or an in-place write through another view).
        """
        self._check()
        n = self.shape[0] if self.shape else 1
        rows = np.atleast_1d(np.asarray(i))
        if rows.dtype.kind not in "iu":
            raise TypeError(f"rows expects integer positions, got dtype {rows.dtype}")
        bad = rows[(rows < -n) | (rows >= n)]
        if bad.size:
            raise IndexError(f"row {int(bad[0])} out of range for an array of {n} rows")
        rows = np.where(rows < 0, rows + n, rows).astype(np.int64)
        return source_rows(self._rows, rows, pooled)

    def pools(self):
        """The inputs whose rows were mixed into this array, by operation.

        Returns
        -------
        pools : DataFrame
            Columns ``through`` (the operations), ``n_rows`` (distinct source rows),
            ``sources`` and ``applies_to`` (``"all rows"`` or the number of output rows).
        """
        self._check()
        memo, records = {}, []
        for pool, mask in self._rows.pools:
            if mask is not None and self._rows.n is not None and not mask.any():
                continue  # pooled into rows that were indexed away
            ids = rmap.expand(pool, memo)
            names = sorted({REGISTRY.by_code(c).source_id for c in np.unique(codes_of(ids))})
            records.append(
                {
                    "through": pool.via,
                    "n_rows": int(ids.size),
                    "sources": names,
                    "applies_to": "all rows" if mask is None else int(np.count_nonzero(mask)),
                }
            )
        return pd.DataFrame(records, columns=["through", "n_rows", "sources", "applies_to"])

    def notes(self):
        """What this provenance cannot tell, in words (empty when it is complete)."""
        notes = []
        if self._rows.dropped is not None:
            notes.append(f"row ids: {self._rows.dropped}")
            if graph_incomplete(self._node):
                notes.append(f"sources: unknown ({INCOMPLETE}, and the row ids were dropped)")
            else:
                notes.append(
                    "sources: those of every step of the operation graph (the row ids that "
                    "would say which rows are behind the array were dropped)"
                )
        if self._node is None:
            notes.append("operations: none recorded for this array")
        else:
            steps = ancestors(self._node)
            if any(s[OP] == UNRECORDED for s in steps):
                notes.append(LEFT_OUT["batch"])
            maybe = sorted({s[OP] for s, sure, _, _ in self._steps() if not sure})
            if maybe:
                notes.append(
                    "steps listed as 'may have' (how their rows relate to their "
                    "inputs' was not recorded, so every input row is taken as behind "
                    f"them): {', '.join(maybe)}"
                )
            unmodelled = unmodelled_ops(steps)
            if unmodelled:
                notes.append(
                    "not modelled row by row (every output row depends on every input "
                    f"row): {', '.join(unmodelled)}"
                )
        if get_granularity() != "op":
            notes.append(
                f"granularity is now {get_granularity()!r}: {LEFT_OUT[get_granularity()]}"
            )
        return notes

    def __repr__(self):
        kind = (
            "dropped"
            if self._rows.dropped is not None
            else ("collapsed" if self._rows.n is None else f"{self._rows.n} rows")
        )
        n_ops = len(self.ops()) if self._node is not None else 0
        return (
            f"<Provenance of a {self.framework} array of shape {self.shape}: row ids {kind}, "
            f"{len(self._rows.pools)} pooled input(s), {n_ops} op(s)>"
        )


def provenance(x):
    """Lineage of a traced array (NumPy, torch or JAX) or a traced DataFrame.

    Parameters
    ----------
    x : TracedArray, TracedTensor, TracedJaxArray, DataFrame or Series
        Made by :func:`sktraceprop.array` (or loaded with :func:`sktraceprop.read_csv`).

    Returns
    -------
    provenance : Provenance
        ``.sources()``, ``.ops()``, ``.ancestors()``, ``.rows(i)``, ``.pools()`` and
        ``.notes()``.

    Examples
    --------
    >>> import numpy as np
    >>> import sktraceprop as stp
    >>> a = stp.array(np.arange(12.0).reshape(6, 2), source_id="a")
    >>> z = (a - a.mean(axis=0))[[4, 1]]
    >>> stp.provenance(z).rows(0, pooled=False)[["row", "source_id", "line"]].values.tolist()
    [[0, 'a', 5]]
    >>> stp.provenance(z).ops()["op"].tolist()
    ['mean', 'subtract', 'getitem']
    """
    rm, node, shape, framework = state_of(x)
    return Provenance(rm, node, shape, framework)
