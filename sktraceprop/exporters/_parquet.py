"""Runs as Parquet tables: sources, ops, feature lineage and row lineage, typed.

An export is a folder of seven Parquet files read back by :func:`read_parquet`, and
``removals.parquet`` (see :mod:`._parquet_removals`: per run, the removals and erasure
requests its store recorded since the fit); every table but ``parents`` has a
``run_id`` column, so one folder holds one run or every run of a store:

``runs``
    One row per run: ``created_at``, ``estimator``, ``params`` and ``versions`` (JSON),
    ``n_samples``, ``n_input_rows`` (null when the final estimator saw the rows given
    to ``fit``), ``model_fingerprint``, ``notes``, ``purpose``, ``name``, ``tags``
    (JSON), ``parent_run_id``, ``source_stats`` (JSON), ``selection`` (JSON, null
    for a fit scikit-learn's model selection did not make) with its ``search_role``
    (``"cv_fold"``, ``"refit"``) and ``search_id``, and ``fit_params`` (JSON: the
    sample weights and other parameters ``fit`` was given, by digest and counts; null
    when none were), ``renamed_columns`` (JSON: input columns identified by their
    values as a loaded column under another name, ``{column: [[code, loaded column],
    ...]}``; null when none were), ``attached_columns`` (JSON: input columns identified
    by their values as another source's column attached by position, see
    ``Lineage.attached_columns``; null when none were; absent from files written before
    it was kept), ``changed_columns`` (JSON: the loaded columns found
    changed after loading, per source, with the witness rows checked, changed and
    missing values filled; ``[]`` when none was found, null when not recorded),
    ``rows_compared`` (JSON: per source of the rows given to fit, the witness rows
    compared with what was loaded, ``[{code, rows}, ...]``; null when not recorded),
    ``fingerprint_scheme`` (the scheme that made ``model_fingerprint``, as the run
    records it; null where it does not, and absent from folders written before).
``sources``
    One row per source of a run: ``code``, ``source_id``, ``uri``, ``sha256``,
    ``n_rows``, ``columns``, ``dtypes``, ``loaded_at``, ``kind``, ``max_line``; for
    merges and aggregates ``parent_codes`` and ``columns_from`` (column -> the
    ``parent_code``/``parent_column`` its values come from), and ``has_parents``; for a
    file read more than once, ``other_reads`` (JSON: the other reads' rows, columns,
    dtypes and times); ``digest_scheme`` (the scheme that made ``sha256``: ``file-bytes``,
    ``frame-2``, ``polars-1``, ``array-bytes``, ``anonymous-content``, ``derived``, or an earlier
    sktraceprop's ``frame-1``, ``array-bytes-1``, ``joblib-sha1``), ``digest_exact``
    (whether different data never share the digest: false for those three and for a
    scheme this sktraceprop does not know) and ``digest_note`` (what it names, in words:
    the compliance report's ``digest_scheme`` and ``digest_note``). Folders written
    before ``digest_note`` held ``digest_scheme`` only where the record did
    (``Source.digest_scheme``), null for every other source; they are read as before.
    ``encoding`` (the codec ``read_csv`` decoded the file with, ``Source.encoding``;
    null for UTF-8 and for frames; absent from folders written before: read as null).
``parents``
    Row-level parents of derived sources, one row per derived row: ``source_id``,
    ``sha256``, ``line`` (1-based) and ``parents`` (the parent row ids: a compressed
    sparse row list, as :class:`~sktraceprop._lineage._source.Parents` holds them).
    Written once per source version, whatever number of runs use it.
``ops``
    One row per fitted step, in order: ``position``, ``name``, ``class``, ``params``
    (JSON), ``fingerprint``, ``features_in``, ``features_out``, ``sources`` (null:
    every training row), ``source_keys`` (JSON ``[[source_id, sha256], ...]``) and
    ``rows`` (JSON: the set of row ids that went through a step fitted on some rows of
    its sources only, ``Op.rows``; null where every row of its sources did).
``features``
    One row per final-estimator feature: ``columns`` (its input columns; null when
    unknown), and, derived from the sources and checked on reading, ``sources`` and
    ``aggregates`` (:meth:`~sktraceprop.Lineage.feature_sources`,
    :meth:`~sktraceprop.Lineage.feature_aggregates`).
``rows``, ``input_rows``
    One row per training row (per row given to ``fit``, where they differ):
    ``train_index`` (``input_index``), ``row_id`` (int64), ``source_code``, ``line``
    and ``source_id``. A merged row names its merge source and its line there; the
    ``parents`` table leads to the file lines.
"""

import json
import os
import shutil
import uuid
from pathlib import Path

from .._lineage._run import Lineage
from ..exceptions import LineageError
from ._optional import require
from ._parquet_decode import _corrupt, _decode, _decode_parents
from ._parquet_encode import _differences, _encode
from ._parquet_removals import removals_row, write_removals
from ._parquet_schema import _META_KEY, FORMAT, TABLES, _pyarrow, _schemas
from ._removals import warn_frozen

__all__ = ["read_parquet", "to_parquet"]


# -- public API -----------------------------------------------------------------------------
def _runs_of(run_or_store):
    from ..stores import BaseStore

    if isinstance(run_or_store, Lineage):
        yield run_or_store
    elif isinstance(run_or_store, BaseStore):
        for run_id in run_or_store.list_runs()["run_id"]:
            yield run_or_store.load_run(run_id)
    else:
        raise TypeError(
            "to_parquet exports a run (sktraceprop.Lineage, such as a traced estimator's "
            f"lineage_) or a store (sktraceprop.stores.BaseStore); got {type(run_or_store)}"
        )


def to_parquet(run_or_store, path):
    """Write a run, or every run of a store, as a folder of typed Parquet tables.

    The folder holds ``runs``, ``sources``, ``parents``, ``ops``, ``features``, ``rows``
    and ``input_rows`` tables (see :mod:`sktraceprop.exporters._parquet` for their
    columns), and ``removals``: per run, the removals of its training rows from its
    model (unlearning) and the erasure requests naming it that its store recorded
    since the fit (event seq and hash, rows per source, the fingerprint of the model
    each unlearning left), read from the store given and from every store of this
    process the run was saved to or loaded from (``checked`` false where none is
    known, or one could not be read); the other tables describe each run as fitted.
    :func:`read_parquet` reads each run back, equal to the original. Each run is
    checked to read back equal before anything is written, and the folder appears
    only once complete.

    Parameters
    ----------
    run_or_store : Lineage or BaseStore
        One run (a traced estimator's ``lineage_``, or ``store.load_run(run_id)``), or a
        store, whose runs are read with ``list_runs()`` and ``load_run()``.
    path : str or path-like
        Folder to create; it must not exist (nothing is overwritten).

    Returns
    -------
    path : Path
        The folder written.

    Raises
    ------
    FileExistsError
        If ``path`` exists.
    LineageError
        If a run cannot be written faithfully (a parameter that is not JSON, row ids of
        sources the run does not hold, merge parents that contradict each other).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> import sktraceprop as stp
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = stp.from_numpy(np.random.default_rng(0).normal(size=(30, 2)), "doc_parquet")
    >>> run = stp.make_traced_pipeline(LogisticRegression()).fit(X, X["x0"] > 0).lineage_
    >>> folder = stp.exporters.to_parquet(run, pathlib.Path(tempfile.mkdtemp()) / "run")
    >>> stp.exporters.read_parquet(folder) == run
    True
    """
    pa, pq = _pyarrow()
    path = Path(path)
    if path.exists() or path.is_symlink():
        raise FileExistsError(
            f"{path} exists; to_parquet writes a new folder and overwrites nothing"
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent} is not a folder")
    schemas = _schemas(pa)
    runs = _runs_of(run_or_store)
    store = None if isinstance(run_or_store, Lineage) else run_or_store
    if isinstance(run_or_store, Lineage):
        from ..stores._saved import refuse_erased

        refuse_erased(run_or_store, "a Parquet export")
    partial = path.parent / f".{path.name}.{uuid.uuid4().hex}.partial"
    partial.mkdir()
    try:
        writers = {
            name: pq.ParquetWriter(partial / f"{name}.parquet", schemas[name]) for name in TABLES
        }
        try:
            written, removals, frozen = {}, [], []
            for run in runs:
                # (copies of a store read instead of the store: said once per export)
                removals.append(removals_row(run, store, frozen))
                try:
                    tables, parents = _encode(pa, schemas, run)
                except pa.ArrowException as exc:  # a value of the wrong type
                    raise LineageError(
                        f"run {run.run_id} cannot be written to Parquet: {exc}"
                    ) from None
                decoded = {}
                for table, _ in parents.values():
                    decoded.update(_decode_parents(table, "the encoded run"))
                back = _decode(tables, decoded, "the encoded run")
                problems = _differences(run, back)
                if problems:
                    raise LineageError(
                        f"run {run.run_id} would not read back equal from Parquet (it differs "
                        f"in {', '.join(problems)}): values such as tuples, non-string keys "
                        "or numpy scalars have no exact Parquet/JSON form"
                    )
                for name, table in tables.items():
                    writers[name].write_table(table)
                for key, (table, digest) in parents.items():
                    if key in written:
                        if written[key] != digest:
                            raise LineageError(
                                f"two runs hold different row parents for source {key[0]!r} "
                                f"(sha256 {key[1][:12]}...): the export would be ambiguous"
                            )
                        continue
                    written[key] = digest
                    writers["parents"].write_table(table)
        finally:
            for writer in writers.values():
                writer.close()
        write_removals(pa, pq, partial, removals)
        if frozen:  # (before the folder is in place: a warnings filter raising it stops it)
            warn_frozen(frozen)
        try:
            os.rename(partial, path)
        except OSError as exc:
            raise FileExistsError(
                f"{path} could not be created ({exc}); nothing was written"
            ) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return path


def _read(pq, path, name, filters=None):
    file = path / f"{name}.parquet"
    if not file.is_file():
        raise _corrupt(path, f"{file.name} is missing")
    meta = pq.read_schema(file).metadata or {}
    try:
        info = json.loads(meta[_META_KEY])
    except (KeyError, ValueError):
        raise _corrupt(path, f"{file.name} was not written by sktraceprop") from None
    if info.get("format") != FORMAT or info.get("table") != name:
        raise _corrupt(
            path,
            f"{file.name} is table {info.get('table')!r} of format {info.get('format')}; this "
            f"sktraceprop reads format {FORMAT}",
        )
    return pq.read_table(file, filters=filters)


def read_parquet(path, run_id=None):
    """Read one run back from a folder written by :func:`to_parquet`.

    The tables are checked against each other (row ids against their codes and lines,
    sources named by the rows, parents, feature sources) and an inconsistency raises.

    Parameters
    ----------
    path : str or path-like
        The folder.
    run_id : str, default=None
        The run to read; required when the folder holds several runs (the ``run_id``
        column of ``runs.parquet`` lists them).

    Returns
    -------
    run : Lineage
        Equal (``==``) to the run that was written.
    """
    pa, pq = _pyarrow()
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder written by to_parquet")
    runs = _read(pq, path, "runs")
    ids = runs["run_id"].to_pylist()
    if run_id is None:
        if len(ids) != 1:
            listed = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
            raise ValueError(
                f"{path} holds {len(ids)} runs; pass run_id= (one of: {listed or 'none'})"
            )
        run_id = ids[0]
    if ids.count(run_id) != 1:
        if run_id in ids:
            raise _corrupt(path, f"run {run_id} is recorded {ids.count(run_id)} times")
        raise KeyError(f"no run {run_id!r} in {path}")
    # A folder of one run needs no filter (and reads faster without one).
    only = [("run_id", "=", run_id)] if len(ids) > 1 else None
    pc = require("pyarrow.compute", "parquet", "Parquet export")
    tables = {"runs": runs.filter(pc.equal(runs["run_id"], run_id))}
    for name in ("sources", "ops", "features", "rows", "input_rows"):
        tables[name] = _read(pq, path, name, only)
    keys = {
        (s["source_id"], s["sha256"])
        for s in tables["sources"].select(["source_id", "sha256", "has_parents"]).to_pylist()
        if s["has_parents"]
    }
    parents = {}
    if keys:
        table = _read(pq, path, "parents", [("sha256", "in", sorted(k[1] for k in keys))])
        parents = {k: v for k, v in _decode_parents(table, path).items() if k in keys}
    return _decode(tables, parents, path)
