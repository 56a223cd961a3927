"""The model's ``columnLineage`` facet: each feature -> the source columns it derives from.

A feature's input column is found in a source of the training rows (through merges and
aggregates: :mod:`._feature_columns`), or under another name (renamed outside the
pipeline, identified by its values), or, attached by position from another loaded
source (``a["x"] = B["v"].values``; :attr:`~sktraceprop.Lineage.attached_columns`),
in that other source, which is not a source of the run's rows: its dataset is named
from the record's URI and source id, and is an input of the event as well. What
remains is listed per feature as ``unresolvedColumns``, each with why in
``unresolvedReasons``, never dropped.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from .._lineage._uri_path import host_and_path, shown_path_of_uri
from ._feature_columns import feature_inputs

__all__ = ["attached_inputs", "column_lineage", "dataset_name"]

#: Why an input column is unresolved when nothing identified it.
NOT_FOUND = (
    "in no source of the training rows, and not identified by its values as another "
    "loaded source's column attached by position (computed after loading, from data not "
    "read through sktraceprop, or not comparable: the run's notes name the columns that "
    "could not be compared, and why)"
)


def dataset_name(source, namespace):
    """OpenLineage ``(namespace, name)`` of a source.

    Files follow OpenLineage's naming for file systems (namespace ``file``, the path as
    name, a drive's as Windows names it with forward slashes: ``C:/data/a.csv``; a file
    on another host: namespace ``file://host``, the path on it as name); a URI with a
    host (``s3://bucket/key``) gives ``scheme://host`` and the path; frames and arrays
    without such a URI are named by their ``source_id`` in ``namespace``.
    """
    parts = urlsplit(source.uri)
    if parts.scheme == "file":
        # the host is the namespace, the path on it the name (a drive as Windows names
        # it, C:/data/a.csv: its URI's path /C:/data/a.csv is no Windows path)
        # (a share written file:////server/share is on host server too; hosts in
        # lower case: Server and server are one)
        host, path = host_and_path(source.uri)
        return ("file" if host is None else f"file://{host}"), path
    if parts.scheme and parts.netloc:
        name = shown_path_of_uri(source.uri, host=False).lstrip("/")
        return f"{parts.scheme}://{parts.netloc}", name or source.source_id
    return namespace, source.source_id


@dataclass(frozen=True)
class _Named:
    """What :func:`dataset_name` reads of a source, from an attached column's record."""

    uri: str
    source_id: str


def _attached(run):
    """Input column -> its :attr:`~sktraceprop.Lineage.attached_columns` entries."""
    out = {}
    for entry in run.attached_columns:
        out.setdefault(entry["input_column"], []).append(entry)
    return out


def _attached_dataset(entry, namespace):
    return dataset_name(_Named(entry.get("uri") or "", entry["source_id"]), namespace)


def _attached_transformation(entry, n_candidates):
    said = (
        f"attached by position outside the pipeline from source {entry['source_id']!r} "
        f"(sha256 {entry['sha256']}), identified by its values ({entry['match']}: "
        f"{entry['rows_matched']} of the {entry['rows_compared']} witness rows compared); "
        "which of its rows each training row holds is not recorded"
    )
    if n_candidates > 1:
        said += (
            f"; one of {n_candidates} loaded columns its values match, each listed: "
            "which one it was is not known"
        )
    return {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": said}


def _transformation(run, via):
    kinds = [run.sources[c] for c in sorted(via)]
    through = ", ".join(f"{s.kind} {s.source_id!r}" for s in kinds)
    aggregated = any(s.kind == "aggregate" for s in kinds)
    return {
        "type": "DIRECT",
        # TRANSFORMATION, not IDENTITY: the run does not record whether a step kept the
        # values unchanged.
        "subtype": "AGGREGATION" if aggregated else "TRANSFORMATION",
        "description": f"through {through} and the fitted steps"
        if through
        else "through the fitted steps",
    }


def column_lineage(run, paths, namespace):
    """``(fields, unknown, unresolved, reasons, target)`` of the run's features.

    ``fields``: the ``columnLineage`` facet's; ``unknown``: features whose lineage the
    run does not know; ``unresolved``: feature -> its input columns named by no source;
    ``reasons``: each such column -> why; ``target``: features computed from the target.
    ``paths``: source code -> the ``(namespace, name)`` of every path its bytes were read
    from.
    """
    attached = _attached(run)
    fields, unknown, unresolved, reasons, target = {}, [], {}, {}, []
    for feature, found in feature_inputs(run).items():
        if found is None:
            unknown.append(feature)
            continue
        if found.target:
            target.append(feature)
        merged = {}
        for (code, column), via in found.leaves.items():
            for namespace_, name in paths[code]:  # every path its bytes were read from
                key = (namespace_, name, column)
                merged.setdefault(key, []).append(via)
        rest = []
        for column in found.unresolved:
            entries = attached.get(column)
            if not entries:
                rest.append(column)
                reasons[column] = NOT_FOUND
                continue
            for entry in entries:
                key = (*_attached_dataset(entry, namespace), entry["column"])
                merged.setdefault(key, []).append(_attached_transformation(entry, len(entries)))
        if rest:
            unresolved[feature] = rest
        if rest and not merged:
            continue  # nothing it depends on can be named; listed as unresolved
        fields[feature] = {
            "inputFields": [
                {
                    "namespace": namespace_,
                    "name": name,
                    "field": column,
                    "transformations": _transformations(run, said),
                }
                for (namespace_, name, column), said in sorted(merged.items())
            ]
        }
    return fields, unknown, unresolved, reasons, target


def _transformations(run, said):
    """The transformations of one input field: the derived sources it came through
    (merged into one), and each attachment that names it."""
    vias = [s for s in said if not isinstance(s, dict)]
    out = [_transformation(run, set().union(*vias))] if vias else []
    return out + [s for s in said if isinstance(s, dict)]


def attached_inputs(run, namespace):
    """``[(namespace, name)]`` of the datasets attached columns came from (not sources
    of the run's rows, unless also read so), in the order first named."""
    out = []
    for entry in run.attached_columns:
        dataset = _attached_dataset(entry, namespace)
        if dataset not in out:
            out.append(dataset)
    return out
