"""A hypothesis strategy for runs: leaf sources, a merge or aggregate, ops, feature lineage.

Runs are built directly (not by fitting), so they reach what fits rarely produce: two
versions of one source_id, sources of every kind, merges with rows of one parent or none,
parents left behind (light records), unknown feature lineage, odd names, empty runs.
"""

import dataclasses
from datetime import datetime, timezone
from urllib.parse import quote

import numpy as np
from hypothesis import strategies as st

from sktraceprop._lineage._ids import MAX_CODE, codes_of, lines_of, pack
from sktraceprop._lineage._run import Lineage, Op
from sktraceprop._lineage._source import Parents, Source

names = st.text(min_size=1, max_size=6)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
json_dicts = st.dictionaries(st.text(max_size=5), json_values, max_size=3)
digests = st.binary(min_size=32, max_size=32).map(bytes.hex)
# Wall-clock times of real runs: after the Unix epoch, within pandas' nanosecond range.
times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)
).map(lambda t: t.isoformat(timespec="microseconds"))


@st.composite
def _leaf(draw, code, source_id):
    n_rows = draw(st.integers(1, 12))
    columns = tuple(draw(st.lists(names, min_size=1, max_size=4, unique=True)))
    kind = draw(st.sampled_from(["file", "frame", "array", "anonymous"]))
    uri = {
        "file": f"file:///data/{code}/{quote(source_id, safe='')}.csv",
        "frame": f"pandas:{source_id}",
        "array": f"numpy:{source_id}",
        "anonymous": "memory:anonymous",
    }[kind]
    # Frames and arrays registered now say their digest scheme; those of an earlier
    # sktraceprop do not, and its anonymous containers hold a SHA-1 (joblib.hash).
    scheme = None if kind == "file" else draw(st.sampled_from([None, "frame-2"]))
    sha1 = kind == "anonymous" and scheme is None and draw(st.booleans())
    return Source(
        source_id=source_id,
        code=code,
        uri=uri,
        sha256=draw(digests)[:40] if sha1 else draw(digests),
        n_rows=n_rows,
        columns=columns,
        dtypes=tuple(
            draw(st.sampled_from(["float64", "int64", "object", "str"])) for _ in columns
        ),
        loaded_at=draw(times),
        kind=kind,
        # A file's last data line may lie past its row count (comments, blank lines).
        max_line=n_rows + (draw(st.integers(0, 4)) if kind == "file" else 0),
        # A file read again with other options (nrows, usecols) lists those reads.
        other_reads=tuple(draw(st.lists(_read(), max_size=2))) if kind == "file" else (),
        digest_scheme=scheme,
    )


@st.composite
def _read(draw):
    columns = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    return {
        "n_rows": draw(st.integers(0, 12)),
        "columns": columns,
        "dtypes": [draw(st.sampled_from(["float64", "int64", "str"])) for _ in columns],
        "loaded_at": draw(times),
    }


def _ids_of(draw, leaves, max_size):
    picks = draw(
        st.lists(
            st.tuples(st.integers(0, len(leaves) - 1), st.integers(0, 10**6)), max_size=max_size
        )
    )
    return [int(pack(leaves[k].code, [1 + r % leaves[k].max_line])[0]) for k, r in picks]


@st.composite
def _derived(draw, code, leaves):
    kind = draw(st.sampled_from(["merge", "aggregate"]))
    n_rows = draw(st.integers(0, 8))
    # A merged row has one parent per side that matched; a group, its members.
    lists = [_ids_of(draw, leaves, 2 if kind == "merge" else 5) for _ in range(n_rows)]
    indptr = np.concatenate(([0], np.cumsum([len(p) for p in lists]))).astype(np.int64)
    ids = np.asarray([i for p in lists for i in p], dtype=np.int64)
    parents = Parents(indptr=indptr, ids=ids)
    leaf_columns = [(s.code, c) for s in leaves for c in s.columns]
    columns = tuple(draw(st.lists(names, max_size=4, unique=True)))
    columns_from = {
        c: [
            list(ref)
            for ref in draw(st.lists(st.sampled_from(leaf_columns), min_size=1, max_size=2))
        ]
        if leaf_columns
        else []
        for c in columns
    }
    source = Source(
        source_id=draw(st.sampled_from([f"{kind}:x", f"{kind}:y"])),
        code=code,
        uri=f"{kind}:" + "+".join(sorted({s.source_id for s in leaves})),
        sha256=draw(digests),
        n_rows=n_rows,
        columns=columns,
        dtypes=("float64",) * len(columns),
        loaded_at=draw(times),
        kind=kind,
        parents=parents,
        parent_codes=tuple(sorted({s.code for s in leaves})),
        columns_from=columns_from,
    )
    # Parents left in another process: the record travels without them.
    return source.light() if draw(st.booleans()) and n_rows else source


@st.composite
def runs(draw):
    """A :class:`~sktraceprop.Lineage` with 1-3 leaf sources and maybe one derived source."""
    n_leaves = draw(st.integers(1, 3))
    codes = draw(
        st.lists(
            st.integers(1, MAX_CODE), min_size=n_leaves + 1, max_size=n_leaves + 1, unique=True
        )
    )
    # A small pool of source ids, so that two versions of one source_id are common.
    leaves = [
        draw(_leaf(codes[k], draw(st.sampled_from(["a", "b", "ward é/ü"]))))
        for k in range(n_leaves)
    ]
    sources = {s.code: s for s in leaves}
    derived = draw(_derived(codes[-1], leaves)) if draw(st.booleans()) else None
    row_ids = _ids_of(draw, leaves, 25)
    if derived is not None:
        sources[derived.code] = derived
        if derived.n_rows:
            lines = draw(st.lists(st.integers(1, derived.n_rows), min_size=1, max_size=6))
            row_ids += [int(i) for i in pack(derived.code, lines)] if lines else []
    row_ids = draw(st.permutations(row_ids)) if row_ids else []
    input_row_ids = None
    if draw(st.booleans()):
        input_row_ids = np.asarray(row_ids + _ids_of(draw, leaves, 5), dtype=np.int64)
    all_columns = sorted({c for s in sources.values() for c in s.columns})
    column_choice = st.sampled_from(all_columns) if all_columns else names
    feature_lineage = draw(
        st.dictionaries(
            names,
            st.none()
            | st.lists(column_choice, min_size=1, max_size=3)
            | st.lists(column_choice | names, max_size=3),
            min_size=1,
            max_size=5,
        )
    )
    source_names = sorted({s.source_id for s in sources.values()})
    ops = [
        Op(
            name=draw(st.sampled_from(["scaler", "ct", "ct/onehot", "ct/onehot/inner", "m@a+b"])),
            cls=draw(names),
            params=draw(json_dicts),
            fingerprint=draw(digests),
            features_in=draw(st.lists(names, max_size=3)),
            features_out=draw(st.lists(names, max_size=3)),
            sources=draw(st.none() | st.lists(st.sampled_from(source_names), max_size=2)),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    return Lineage(
        run_id=str(draw(st.uuids())),
        created_at=draw(times),
        estimator=draw(st.sampled_from(["m.TracedPipeline", "sklearn.linear_model.Ridge"])),
        params=draw(json_dicts),
        versions=draw(st.dictionaries(names, st.text(max_size=6), max_size=3)),
        sources=sources,
        ops=ops,
        feature_lineage=feature_lineage,
        row_ids=np.asarray(row_ids, dtype=np.int64),
        input_row_ids=input_row_ids,
        model_fingerprint=draw(digests),
        notes=draw(st.lists(st.text(max_size=10), max_size=2)),
        purpose=draw(st.sampled_from([None, "fit", "cv_fold", "influence"])),
        selection=draw(st.none() | _selections()),
        fit_params=draw(st.just({}) | _fit_params()),
        # recorded now (2), read from a 0.1 store (1), stored before it was recorded (None)
        fingerprint_scheme=draw(st.sampled_from([None, 1, 2])),
    )


@st.composite
def _fit_params(draw):
    """What fit was given besides X and y (see ``sktraceprop._lineage._fit_params``)."""
    out = {}
    for name in draw(st.lists(st.sampled_from(["sample_weight", "m__sample_weight", "x"]))):
        n = draw(st.integers(0, 50))
        entry = {"kind": "array", "shape": [n], "dtype": "float64", "sha256": draw(digests)}
        if name.endswith("sample_weight"):
            entry["weights"] = {
                "n": n,
                "n_zero": draw(st.integers(0, n)),
                "n_negative": 0,
                "n_not_finite": 0,
                "sum": draw(st.floats(0, 1e6)),
                "all_equal": draw(st.booleans()),
            }
        out[name] = entry if draw(st.booleans()) else {"kind": "value", "value": draw(json_values)}
    return out


@st.composite
def _selections(draw):
    """What model selection fitted a run as (see ``sktraceprop._selection``)."""
    role = draw(st.sampled_from(["cv_fold", "refit"]))
    return {
        "role": role,
        "search_id": draw(st.none() | st.uuids().map(str)),
        "search": draw(st.none() | st.sampled_from(["s.GridSearchCV", "s.cross_validate"])),
        "split_progress": draw(st.none() | st.lists(st.integers(0, 9), min_size=2, max_size=2)),
        "candidate_params": draw(st.none() | json_dicts),
    }


@st.composite
def with_aliases(draw, run):
    """``run`` with maybe 1-2 alias codes of a leaf source (one file's content registered
    in another process under another code: ``REGISTRY.adopt``), some of its training
    rows (and rows given to fit) carrying them instead of the leaf's code."""
    leaves = [s for s in run.sources.values() if s.kind not in ("merge", "aggregate")]
    if not draw(st.booleans()):
        return run
    leaf = draw(st.sampled_from(leaves))
    used = set(run.sources)
    free = st.integers(1, MAX_CODE).filter(lambda c: c not in used)
    aliases = draw(st.lists(free, min_size=1, max_size=2, unique=True))
    sources = dict(run.sources)
    for code in aliases:
        sources[code] = dataclasses.replace(leaf, code=code)
    choice = [leaf.code, *aliases]

    def moved(ids):
        if ids is None:
            return None
        ids = np.asarray(ids, dtype=np.int64).copy()
        mine = np.flatnonzero(codes_of(ids) == leaf.code)
        picks = draw(st.lists(st.sampled_from(choice), min_size=mine.size, max_size=mine.size))
        for k, code in zip(mine, picks):
            ids[k] = pack(code, lines_of(ids[[k]]))[0]
        return ids

    return dataclasses.replace(
        run, sources=sources, row_ids=moved(run.row_ids), input_row_ids=moved(run.input_row_ids)
    )
