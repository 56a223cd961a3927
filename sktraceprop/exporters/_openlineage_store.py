"""Where an OpenLineage event's row-lineage facet points: the store that holds the run,
checked to hold that very run (not erased since, not another copy of it).
"""

from pathlib import Path
from urllib.parse import urlsplit

from .._lineage._uri_path import uri_of_path
from ..exceptions import LineageError, UnknownRunError


def _store_pointer(run, store, store_uri):
    """``{"kind", "uri"}`` of a store that holds ``run`` (checked), or None."""
    from ..stores import BaseStore, MemoryStore, SQLiteStore
    from ..stores._saved import refuse_erased

    if store is None:
        if store_uri is not None:
            raise ValueError("store_uri= names where store= lives: pass the store too")
        refuse_erased(run, "an OpenLineage event")
        return None
    if not isinstance(store, BaseStore):
        raise TypeError(f"store must be a sktraceprop store, got {type(store).__name__}")
    if store_uri is None:
        if isinstance(store, SQLiteStore):
            store_uri = uri_of_path(Path(store.path).resolve())
        elif isinstance(store, MemoryStore):
            raise ValueError(
                "a MemoryStore lives in this process only, so an OpenLineage event cannot "
                "point at it; save the run to a SQLiteStore, or leave store= out"
            )
        else:
            # Never derived from the store itself: a connection string may hold secrets.
            raise ValueError(
                f"pass store_uri= to say where this {type(store).__name__} can be reached"
            )
    if not isinstance(store_uri, str) or not urlsplit(store_uri).scheme:
        raise ValueError(f"store_uri must be a URI with a scheme, got {store_uri!r}")
    try:
        stored = store.load_run(run.run_id)
    except UnknownRunError:
        raise UnknownRunError(
            f"run {run.run_id} is not in {store!r}, so the row-lineage facet would point at "
            "nothing: save the run there first (fit with store=), or leave store= out"
        ) from None
    if stored != run and stored == store._as_stored(run):
        raise LineageError(
            f"values of run {run.run_id} were erased from {store!r} since it was fitted "
            "(store.redaction events): exporting the run as fitted would write them again. "
            "Export the stored run, store.load_run(run_id), which shows them as erased"
        )
    if stored != run:
        raise LineageError(
            f"run {run.run_id} in {store!r} differs from the run given: the event would "
            "point at other rows than it describes (an unlearner's copy of a run, "
            "estimator_.lineage_, describes only the rows it retains: export it without "
            "store=, or export the stored run, store.load_run(run_id))"
        )
    return {"kind": type(store).__name__, "uri": store_uri}
