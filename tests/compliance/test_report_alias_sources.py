"""The report lists a source once, however many codes its rows carry (format 19).

A source's rows can reach one run under several codes: an alias adopted from another
process (the code it probed there, ``REGISTRY.adopt``), or an SMB share spelled in
another case (``\\\\SERVER\\Share\\f.csv`` and ``\\\\server\\share\\f.csv`` are one
file). The report's sources had an entry per code: the file of 20 rows listed twice
(n_rows 20 and 20, training_rows 10 and 10), the alias "not checked". Truth: the file's
rows counted in its raw bytes, the rows packed under each code by the test.
"""

import dataclasses
import json
from pathlib import PureWindowsPath

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of, lines_of, pack
from sktraceprop._lineage._source import REGISTRY
from sktraceprop.compliance import verify
from sktraceprop.compliance._integrity import body_of, seal
from sktraceprop.compliance._schema import schema_problems
from sktraceprop.compliance._sections import articles
from sktraceprop.compliance._source_evidence import sources_section
from tests.compliance.conftest import DEPLOYER

_N = 20


def _raw_rows(path):
    """The file's data rows, from its bytes (the header line not counted)."""
    return len([line for line in path.read_bytes().splitlines() if line.strip()]) - 1


def _raw_classes(path, lines):
    """Label counts of the file's data lines ``lines`` (1-based), from its bytes."""
    rows = path.read_bytes().decode().splitlines()[1:]
    out = {}
    for line in lines:
        y = rows[line - 1].split(",")[1]
        out[y] = out.get(y, 0) + 1
    return out


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("alias") / "f.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=_N), "y": np.arange(_N) % 2}).to_csv(path, index=False)
    return path


def _aliased(path):
    """The file read here, and 3 alias codes of it (another process's records)."""
    frame = stp.read_csv(path, source_id="f")
    code = int(codes_of(np.asarray(frame.index))[0])
    source = REGISTRY.by_code(code)
    codes = [code]
    alias = code + 1
    while len(codes) < 4:
        if not REGISTRY.has_code(alias):
            REGISTRY.adopt(dataclasses.replace(source, code=alias))
            codes.append(alias)
        alias += 1
    return path, frame, codes


def _fit(frame, codes, which, store=None):
    lines = lines_of(np.asarray(frame.index))
    ids = np.concatenate([pack(codes[k], lines[[i]]) for i, k in enumerate(which)])
    carried = frame.set_axis(pd.Index(ids, name=frame.index.name))
    pipe = stp.make_traced_pipeline(
        StandardScaler(), LogisticRegression(), store=store, log_predictions=store is not None
    ).fit(carried[["a"]], carried["y"])
    if store is not None:
        pipe.predict(carried[["a"]])
    return pipe


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_one_entry_per_file_whatever_codes_its_rows_carry(csv_path, data):
    path, frame, codes = _aliased(csv_path)
    which = data.draw(st.lists(st.integers(0, 3), min_size=_N, max_size=_N), label="code")
    run = _fit(frame, codes, which).lineage_
    (entry,) = sources_section(run)  # (before: one per code used)
    used = sorted({codes[k] for k in which})
    assert entry["n_rows"] == _raw_rows(path) == _N
    assert entry["training_rows"] == _N
    assert entry["op_training_rows"] == [_N, _N]
    assert entry["statistics"]["rows_given_to_fit"] == _N
    assert entry["statistics"]["labels"]["counts"] == _raw_classes(path, range(1, _N + 1))
    assert [c["missing"] for c in entry["columns"]] == [0, None]
    assert "repeated_rows" not in entry  # (each line once, whichever code)
    # checked once for the file: compared where any row under the code read here was
    # (before: the alias's entry "not checked" beside it)
    check = entry["changes_after_loading"]
    assert check["rows_compared"] == sum(1 for k in which if k == 0)
    assert check["checked"] is (0 in which)
    assert ("note" in check) is (0 not in which)
    if len(used) > 1:
        assert entry["codes"] == used
        assert entry["code"] == used[0]
    else:
        assert "codes" not in entry and entry["code"] == used[0]
    # format 18 and earlier: one per code, rows counted code by code
    per_code = sources_section(run, per_code=True)
    assert [e["code"] for e in per_code] == used
    assert sum(e["training_rows"] for e in per_code) == _N


def _file_of(spelling):
    """Brute force: the file a UNC spelling names (host and share without case)."""
    _, _, host, share, *rest = spelling.split("\\")
    return host.lower(), share.lower(), *rest


@settings(max_examples=20, deadline=None)
@given(
    spellings=st.lists(
        st.sampled_from(
            [r"\\SERVER\Share\d\f.csv", r"\\server\share\d\f.csv", r"\\server\share\D\f.csv"]
        ),
        min_size=2,
        max_size=4,
    ),
    data=st.data(),
)
def test_share_spellings_of_one_file_are_one_entry(csv_path, spellings, data):
    path, frame, codes = _aliased(csv_path)
    run = _fit(frame, codes, [0] * _N).lineage_
    base = run.sources[codes[0]]
    mine = codes[: len(spellings)]
    sources = {
        c: dataclasses.replace(base, code=c, uri=PureWindowsPath(s).as_uri())
        for c, s in zip(mine, spellings)
    }
    which = data.draw(st.lists(st.integers(0, len(mine) - 1), min_size=_N, max_size=_N))
    lines = lines_of(run.row_ids)
    ids = np.concatenate([pack(mine[k], lines[[i]]) for i, k in enumerate(which)])
    sources = {c: s for c, s in sources.items() if c in set(codes_of(ids).tolist())}
    entries = sources_section(dataclasses.replace(run, sources=sources, row_ids=ids))
    rows = {}
    for k in which:
        f = _file_of(spellings[k])
        rows[f] = rows.get(f, 0) + 1
    assert len(entries) == len(rows)
    assert sorted(e["training_rows"] for e in entries) == sorted(rows.values())
    assert all(e["n_rows"] == _raw_rows(path) for e in entries)
    # read once, whatever the spelling: no other read, no other path
    assert not any("other_reads" in e or "uris" in e for e in entries)
    # two files (a folder in another case): each names the other's codes, and counts
    # the sources sharing the name, not their codes
    for e in entries:
        assert ("name_note" in e) == (len(rows) > 1)
        if len(rows) > 1:
            assert e["name_note"].startswith(f"{len(rows)} sources of this run carry")


def test_report_lists_the_file_once_and_verifies(csv_path, tmp_path):
    path, frame, codes = _aliased(csv_path)
    store = stp.stores.MemoryStore()
    which = [k % 2 for k in range(_N)]  # 10 rows under the code read here, 10 an alias
    pipe = _fit(frame, codes, which, store=store)
    report = stp.compliance_report(pipe, **DEPLOYER)
    data = report.to_dict()
    assert data["report"]["format_version"] == 19
    (entry,) = data["sources"]  # (before: 2 entries, n_rows 20 each, 10 + 10 rows)
    assert sum(s["n_rows"] for s in data["sources"]) == _raw_rows(path)
    assert entry["training_rows"] == _N
    assert entry["codes"] == codes[:2]
    assert entry["changes_after_loading"] == {"checked": True, "rows_compared": _N // 2}
    assert not schema_problems(data)
    graph = report.lineage_graph()
    assert len([n for n in graph["nodes"] if n["kind"] == "source"]) == 1
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(data), encoding="utf-8")
    assert verify(saved, store=store)

    # the same report as format 18 wrote it (an entry per code) verifies as such ...
    old = json.loads(json.dumps(data))
    old["report"]["format_version"] = 18
    old["sources"] = json.loads(json.dumps(sources_section(pipe.lineage_, per_code=True)))
    assert [s["training_rows"] for s in old["sources"]] == [_N // 2, _N // 2]
    old["articles"] = articles(old)
    old["integrity"] = seal(body_of(old))
    lowered = tmp_path / "format18.json"
    lowered.write_text(json.dumps(old), encoding="utf-8")
    with pytest.warns(UserWarning, match="format 18"):
        assert verify(lowered, store=store)
    # ... and format 19 with an entry per code does not
    old["report"]["format_version"] = 19
    old["articles"] = articles(old)
    old["integrity"] = seal(body_of(old))
    lowered.write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(stp.exceptions.ReportVerificationError, match="/sources"):
        verify(lowered, store=store)
    # ... nor without its store: the report alone shows the file listed twice (before:
    # only its own content checked, it verified)
    with pytest.raises(stp.exceptions.ReportVerificationError, match="lists a file once"):
        verify(lowered)


def test_a_folded_entrys_codes_are_checked_without_the_store(csv_path, tmp_path):
    """Checked without its store, a report of format 19 whose codes or codes_note were
    altered (and re-hashed) verified: only the scheme of each source was checked."""
    path, frame, codes = _aliased(csv_path)
    pipe = _fit(frame, codes, [k % 2 for k in range(_N)], store=stp.stores.MemoryStore())
    made = stp.compliance_report(pipe, **DEPLOYER).to_dict()
    with pytest.warns(UserWarning, match="only the report's own content"):
        assert verify(made)
    for edit, said in [
        (lambda e: e.update(codes=codes[:2][::-1]), "/sources/0/codes"),
        (lambda e: e.update(codes=codes[:3]), "/sources/0/codes_note"),
        (lambda e: e.update(codes_note=e["codes_note"].replace("2 codes", "3 codes")), "note"),
    ]:
        data = json.loads(json.dumps(made))
        edit(data["sources"][0])
        data["articles"] = articles(data)
        data["integrity"] = seal(body_of(data))
        with pytest.raises(stp.exceptions.ReportVerificationError, match=said):
            verify(data)


def test_continuous_target_statistics_over_alias_codes(tmp_path):
    # a regressor's target counted per code at fit: pooled here, against the raw bytes
    path = tmp_path / "r.csv"
    rng = np.random.default_rng(1)
    pd.DataFrame({"a": rng.normal(size=_N), "y": rng.normal(3.0, 2.0, size=_N)}).to_csv(
        path, index=False
    )
    frame = stp.read_csv(path, source_id="r")
    code = int(codes_of(np.asarray(frame.index))[0])
    alias = code + 1
    while REGISTRY.has_code(alias):
        alias += 1
    REGISTRY.adopt(dataclasses.replace(REGISTRY.by_code(code), code=alias))
    lines = lines_of(np.asarray(frame.index))
    which = [0, 1, 1, 0, 1] * (_N // 5)
    ids = np.concatenate([pack([code, alias][k], lines[[i]]) for i, k in enumerate(which)])
    carried = frame.set_axis(pd.Index(ids, name=frame.index.name))
    pipe = stp.make_traced_pipeline(StandardScaler(), Ridge())
    run = pipe.fit(carried[["a"]], carried["y"]).lineage_
    (entry,) = sources_section(run)
    labels = entry["statistics"]["labels"]
    y = np.array([float(r.split(b",")[1]) for r in path.read_bytes().splitlines()[1:]])
    assert labels["kind"] == "continuous" and labels["count"] == _N == len(y)
    np.testing.assert_allclose(
        [labels["mean"], labels["std"], labels["min"], labels["max"]],
        [y.mean(), y.std(ddof=1), y.min(), y.max()],
        rtol=1e-12,
    )


def _read_twice(tmp_path, spans_known):
    """``path`` read whole and its first 10 rows read again, an alias code of it (the
    alias's read spans noted as the other process would, where ``spans_known``) and a
    file of the same name in another folder; fitted on the whole read's rows spread
    over both codes."""
    path = tmp_path / "f.csv"
    rng = np.random.default_rng(2)
    pd.DataFrame({"a": rng.normal(size=_N), "y": np.arange(_N) % 2}).to_csv(path, index=False)
    frame = stp.read_csv(path, source_id="f2")
    stp.read_csv(path, source_id="f2", nrows=10)
    code = int(codes_of(np.asarray(frame.index))[0])
    source = REGISTRY.by_code(code)
    alias = code + 1
    while REGISTRY.has_code(alias):
        alias += 1
    REGISTRY.adopt(dataclasses.replace(source, code=alias))
    if spans_known:
        for read in source.reads():
            REGISTRY.note_read_lines(alias, read, *REGISTRY.read_lines(code, read))
    (tmp_path / "d").mkdir(exist_ok=True)
    pd.read_csv(path).iloc[:7].to_csv(tmp_path / "d" / "f.csv", index=False)
    other = stp.read_csv(tmp_path / "d" / "f.csv", source_id="f2")
    lines = lines_of(np.asarray(frame.index))
    which = [0, 1, 1] * _N
    ids = np.concatenate([pack([code, alias][which[i]], lines[[i]]) for i in range(_N)])
    X = pd.concat([frame.set_axis(pd.Index(ids, name=frame.index.name)), other.iloc[:5]])
    run = stp.make_traced_pipeline(LogisticRegression()).fit(X[["a"]], X["y"]).lineage_
    return path, run, source, code, alias


@pytest.mark.parametrize("spans_known", [True, False])
def test_reads_and_names_of_an_aliased_file_are_folded(tmp_path, spans_known):
    """The folded entry's ``rows_by_read`` counted the first code's rows only (5 of the
    10 rows given outside the 10-row read), and ``name_shared_with`` named the file's
    own alias. Truth: the rows given to fit, their lines in the file's bytes."""
    path, run, source, code, alias = _read_twice(tmp_path, spans_known)
    (entry,) = [e for e in sources_section(run) if e["code"] == code]
    assert entry["codes"] == [code, alias]
    # its reads, each once: the whole file, its first 10 rows
    assert [r["n_rows"] for r in [source.read(), *entry["other_reads"]]] == [_N, 10]
    assert entry["reads_note"].startswith("the process that fitted the model read these bytes 2")
    # brute force: lines of the rows given to fit under either code, against the raw
    # file's data lines each read took (line 1 the header)
    given = np.asarray(run.input_row_ids if run.input_row_ids is not None else run.row_ids)
    lines = lines_of(given[np.isin(codes_of(given), [code, alias])])
    assert lines.size == _N == _raw_rows(path)
    spans = [(2, 1 + _N), (2, 11)]
    by_read = entry["rows_by_read"]
    assert [r["n_rows"] for r in by_read] == [_N, 10]
    if spans_known:
        assert [(r["first_line"], r["last_line"]) for r in by_read] == spans
        assert [r["rows_outside"] for r in by_read] == [
            int(np.count_nonzero((lines < a) | (lines > b))) for a, b in spans
        ]
        assert by_read[1]["rows_outside"] == 10
        assert f"10 of the {_N} rows given to fit lie outside" in entry["rows_by_read_note"]
    else:
        # the alias's rows not counted against the reads (another process's record):
        # not known, not the first code's count
        assert [r["rows_outside"] for r in by_read] == [None, None]
        assert "whether it gave rows is not known" in entry["rows_by_read_note"]
    # the other file of the name: named by each, its own alias not
    (other,) = [e for e in sources_section(run) if e["code"] not in (code, alias)]
    assert entry["name_shared_with"] == [other["code"]]
    assert other["name_shared_with"] == [code, alias]
    assert entry["name_note"].startswith("2 sources of this run carry")
    # format 18 and earlier: an entry per code, as it was
    per_code = {e["code"]: e for e in sources_section(run, per_code=True)}
    assert per_code[code]["name_shared_with"] == sorted([alias, other["code"]])
