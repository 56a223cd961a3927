"""Erasing what every stored run holds of some training rows: :meth:`BaseStore.erase_rows`.

An erasure request names rows (or whole sources); the store finds every run that was
given them (as training rows, as rows given to ``fit`` before a sampler, as parents of
merged rows or members of an aggregate joined back) and erases from each what it holds
of them: its statistics of their sources (and of the sources merged from them), its
sample weights' record, and any feature names the request names. The whole request is
planned and checked before anything is erased.

Row ids are packed with a source *code* that is a property of the process that read the
source (derived from its id and content, probed on a collision), so a run stored by
another process may give the same source another code. Rows are therefore matched by
source identity (``source_id`` and SHA-256) and line, never by the raw packed id
(:mod:`._erase_match`). The request is planned by :mod:`._erase_plan`; the rows a
request named are read back by :mod:`._erased_rows`.
"""

import warnings

import numpy as np

from ..utils._stack import user_stacklevel
from ._erase_holders import warn_held_here
from ._erase_plan import plan
from ._erase_witnesses import forget_erased
from ._erased_here import as_recorded as _request
from ._erased_here import remember_erased
from ._prediction_salts import warn_unsalted_inputs
from ._redaction import Request, redact_runs

#: The audit event that records an erasure request (what was asked, why, which runs).
ERASURE_EVENT = "store.erasure"


def _names(value, what):
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    names = list(value)
    wrong = [v for v in names if not isinstance(v, str)]
    if wrong:
        raise TypeError(f"{what} must be strings; got {wrong[0]!r}")
    if not names:
        raise ValueError(f"{what} is empty: name at least one")
    return list(dict.fromkeys(names))


def _ids(sample_id):
    ids = np.asarray(sample_id)
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(
            f"sample_id must be a non-empty 1-D array of packed row ids, got shape {ids.shape}"
        )
    if ids.dtype.kind not in "iu":
        raise TypeError(f"sample_id must hold integers (packed row ids), got dtype {ids.dtype}")
    return np.unique(ids.astype(np.int64))


def erase_rows(store, *, source_id, sample_id, reason, features, dry_run):
    """See :meth:`BaseStore.erase_rows`."""
    if (source_id is None) == (sample_id is None):
        raise ValueError("give exactly one of source_id= or sample_id=")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must say why the rows are erased (a non-empty string)")
    source_ids = _names(source_id, "source_id")
    ids = None if sample_id is None else _ids(sample_id)
    features = _names(features, "features") if features else []
    if not dry_run:
        store._check_writable()
    from .._lineage._source import REGISTRY

    planned, given_here, rows, kept = plan(
        store, source_id=source_ids, sample_id=ids, features=features, registry=REGISTRY
    )
    # a dry run names what erasing would not reach; an erasure has valuers drop the rows
    warn_held_here(*given_here, drop=not dry_run)
    payload = {**_request(source_ids, rows), "reason": reason.strip()}
    if dry_run:
        if not planned:  # (what a real request would record, with nothing to erase)
            return [
                {"run_id": run_id, "erased_before": True}
                for run_id in _named_anew(store, payload, list(kept))
            ]
        # the names made of values a real erasure would warn of (counted, never named)
        return [
            {"run_id": run_id, **held, "value_names_kept": kept[run_id]}
            for run_id, held in planned
        ]
    # the process's own copies of the rows' loaded values go, whatever the store held
    forget_erased(source_ids, rows, REGISTRY)
    if not planned:
        # Erased already. The files are wiped again: a writer killed after committing
        # the erasure, before it wiped them (SQLite's write-ahead log folded, PostgreSQL's
        # table rewritten), left the values' old bytes there; the request run again
        # is how that is finished.
        recorded, event = _record_named_anew(store, payload, list(kept))
        remember_erased(store, source_ids, rows, event, REGISTRY)
        store._scrub()
        warn_unsalted_inputs(store)
        wiped = not store._erasure_left()
        return [{**summary, "wiped": wiped} for summary in recorded]
    # The request's event and every run's erasure: one transaction (a writer killed
    # part way leaves all or nothing), re-planned inside it against what the runs still
    # hold (another writer may have erased some of it since).
    done, event = redact_runs(
        store,
        planned,
        lambda event: f"{reason.strip()} (erasure event {event['seq']})",
        request=Request(ERASURE_EVENT, payload),
        held_only=True,
        failed=lambda run_id, held, exc: (
            f"erasing from stored run {run_id} failed: {exc}. Nothing of the request was "
            "erased or recorded, from any run; run store.erase_rows again once that is "
            "resolved."
        ),
    )
    # a fit in this process writing to no store is warned of them too
    remember_erased(store, source_ids, rows, event, REGISTRY)
    # said once the runs are erased from: an erasure refused (a busy store) erased nothing
    _warn_value_names({run_id: kept[run_id] for run_id, _ in planned})
    warn_unsalted_inputs(store)
    wiped = not store._erasure_left()
    return [{**summary, "wiped": wiped} for summary in done]


def _named_anew(store, payload, given):
    """The runs of ``given`` for which the request ``payload`` names a training row no
    earlier request named."""
    from ._erased_rows import erased_rows, named_positions

    anew = []
    for run_id in given:
        run = store.load_run(run_id)
        before = erased_rows(store, run, listed_only=True)
        if any(p not in before for p in named_positions(run, payload).tolist()):
            anew.append(run_id)
    return anew


def _record_named_anew(store, payload, given):
    """Record a request whose rows the runs ``given`` them hold nothing more of (an
    earlier request erased their sources' statistics: rows 20 and 25 of a file after its
    rows 2 and 7) where it names rows no earlier request named for a run: unrecorded,
    ``sktraceprop trace`` would show their values and a model pickled before would hold
    them with no word. A request asked again (every row named before) writes nothing.

    Returns ``(summaries, event)``: one summary per run the request was recorded for:
    ``run_id``, ``event_seq`` None (no redaction: nothing was left to erase), ``erased``
    0, ``erased_before`` True and ``erasure_seq`` (the ``store.erasure`` event); empty
    where none was; and that event, or None."""
    anew = _named_anew(store, payload, given)
    if anew:
        # ``erased_before``: the runs had nothing left to erase of the rows, so the
        # request is carried out there with no redaction event naming it
        request = Request(
            ERASURE_EVENT, {**payload, "runs": anew, "erased_before": anew}, names_runs=False
        )
        _, event = redact_runs(store, [], lambda event: None, request=request, held_only=True)
        if event is not None:
            return [
                {
                    "run_id": run_id,
                    "event_seq": None,
                    "erased": 0,
                    "erased_before": True,
                    "erasure_seq": int(event["seq"]),
                }
                for run_id in anew
            ], event
    return [], None


def _warn_value_names(kept):
    """Warn that the runs erased from keep feature names made from values (one-hot
    categories) that ``features=`` did not name (``kept``: run id -> how many): the
    store holds no data, so it cannot tell whether only the erased rows had a category;
    a category they alone had stays spelled in the stored run. The names themselves are
    not shown (they may be the erased data)."""
    kept = {run_id: n for run_id, n in kept.items() if n}
    if not kept:
        return
    counts = ", ".join(f"{n} in run {run_id}" for run_id, n in kept.items())
    warnings.warn(
        f"the stored runs erased from keep feature names that are not input column names "
        f"({counts}: one-hot categories, for one), which features= did not name. A name "
        "made from a category that only the erased rows had spells their data, and stays "
        "in the store: the store holds no data to tell which do. Erase those names with "
        "store.redact(run_id, features=[...], reason=...) (the run's feature_lineage "
        "lists them), or name them in erase_rows(features=) with the rows; "
        "GradientCorrectionUnlearner.unlearn(redact=) finds them from the data.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
