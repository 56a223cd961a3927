"""Parts of the OpenLineage event that :func:`to_openlineage` assembles: a source's
``datasetVersion`` and ``sktraceprop_digest`` facet, an op's ``sourceKeys`` and
``trainingRows``, a source read from several paths, a digest of row ids, a dataset's
schema fields, and the ``parent`` facet of a fit that model selection made.
"""

import hashlib
import uuid

import numpy as np

from .._lineage._digest_schemes import digest_facts, exact


def _digest(source):
    """``(datasetVersion, body of the sktraceprop_digest facet)`` of a source.

    A digest that names the data exactly is the version as it is; one that different
    data can share (an earlier sktraceprop's frame-1, array-bytes-1, joblib-sha1), or of
    a scheme this sktraceprop does not know, is prefixed with its scheme
    (``frame-1:88fb...``): a catalogue comparing versions, or a reader taking a bare
    hexadecimal version for a content SHA-256, would otherwise take two different frames
    of one digest for one version.
    """
    facts = digest_facts(source)
    scheme = facts["digest_scheme"]
    is_exact = exact(scheme)
    version = source.sha256 if is_exact else f"{scheme}:{source.sha256}"
    body = {
        "digest": source.sha256,
        "scheme": scheme,
        "exact": is_exact,
        "note": facts["digest_note"],
    }
    return version, body


def _op_keys(op):
    """``sourceKeys`` of an op fitted on some sources: the contents (source id and
    SHA-256) its rows came from, which tell apart two sources of one source id; absent
    where the op records none (an op of every row, a run recorded before)."""
    if op.source_keys is None:
        return {}
    return {"sourceKeys": [{"sourceId": i, "sha256": sha} for i, sha in op.source_keys]}


def _op_rows(n):
    """``trainingRows`` of an op fitted on some sources (or some of their rows): how many
    training rows went through it (null where it cannot be counted in this process: a
    merge's parent rows travelled without the record); absent for an op of every row."""
    if n is None:
        return {}
    return {"trainingRows": None if n < 0 else n}


def _other_paths(source, code, paths):
    """``uris`` and ``datasets`` of a source whose bytes were read from several paths
    under its source_id (its rows share ids, so which of them a row was read from is
    not known): every path read, and the input dataset of each; absent otherwise."""
    if len(paths.get(code, ())) < 2:
        return {}
    return {
        "uris": source.uris(),
        "datasets": [{"namespace": ns, "name": name} for ns, name in paths[code]],
    }


def _ids_digest(ids):
    ids = np.ascontiguousarray(np.asarray(ids, dtype="<i8"))
    return {"count": int(ids.size), "sha256": hashlib.sha256(ids.tobytes()).hexdigest()}


def _schema_fields(columns, dtypes=None):
    out = []
    for k, column in enumerate(columns):
        field = {"name": str(column)}
        if dtypes is not None and k < len(dtypes):
            field["type"] = str(dtypes[k])
        field["ordinal_position"] = k + 1
        out.append(field)
    return out


def _uuid_or_none(value):
    """``value`` when it is a UUID in canonical form, else None."""
    try:
        return value if str(uuid.UUID(value)) == value else None
    except (ValueError, TypeError, AttributeError):
        return None


def _search_parent(run, namespace):
    """The ``parent`` facet's body for a fit scikit-learn's model selection made (one
    split, or a search's refit): the search or cross-validation call, as a run of the
    job named after it; None for any other fit, or a search whose id is not known."""
    selection = run.selection or {}
    search_id = _uuid_or_none(selection.get("search_id"))
    if search_id is None:
        return None
    return {
        "run": {"runId": search_id},
        "job": {"namespace": namespace, "name": selection.get("search") or "model_selection"},
    }
