"""``store.erase_rows``: an erasure request reaches every stored run given the rows.

The truth: which runs were given the rows is computed here by brute force from the
frames each run was fitted on (their row ids, and the lines of the files behind them);
what leaves the store is checked on its bytes.
"""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_validate
from sklearn.preprocessing import OneHotEncoder

import sktraceprop as stp
from sktraceprop._lineage._ids import LINE_BITS, codes_of, lines_of, pack
from sktraceprop.exceptions import StoreError, UnknownSourceError
from sktraceprop.stores._erase_match import keyed_rows, removed_in, run_values

MARK = "Qxzvw"
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _frames(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    pd.DataFrame(
        {"pid": np.arange(30) % 10, "city": ["Aa", "Bb", "Cc"] * 10, "y": [0, 1] * 15}
    ).to_csv(tmp_path / "visits.csv", index=False)
    pd.DataFrame(
        {"city": [MARK, "Aa", MARK, "Bb"], "pid": [1, 2, 3, 4], "y": [1, 0, 1, 0]}
    ).to_csv(tmp_path / "extra.csv", index=False)
    pd.DataFrame({"pid": np.arange(10), "age": np.arange(10) * 3.0 + 20}).to_csv(
        tmp_path / "people.csv", index=False
    )
    visits = stp.read_csv(tmp_path / "visits.csv")
    extra = stp.read_csv(tmp_path / "extra.csv")
    people = stp.read_csv(tmp_path / "people.csv")
    df = stp.merge(pd.concat([visits, extra]), people, on="pid", how="left")
    return df, visits, extra, people


def _pipeline(store):
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]), ("passthrough", ["age"])
    )
    return stp.make_traced_pipeline(pre, LogisticRegression(), store=store)


def _fit(store, df, **fit):
    return _pipeline(store).fit(df[["city", "age"]], df["y"], **fit)


def _bytes(store, path):
    store.close()
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_a_source_is_erased_from_every_run_given_its_rows_and_no_other(tmp_path):
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    df, visits, extra, _ = _frames(tmp_path / "data")
    all_rows = _fit(store, df, logisticregression__sample_weight=np.ones(len(df)))
    only_visits = _fit(store, stp.merge(visits, _frames(tmp_path / "again")[3], on="pid"))
    cross_validate(
        _pipeline(store), df[["city", "age"]], df["y"], cv=KFold(3, shuffle=True, random_state=0)
    )
    runs = list(store.list_runs()["run_id"])
    # truth: a run was given a row of extra.csv where a row id of its run is a merged row
    # whose parent is one of extra's
    extra_ids = set(extra.index.get_level_values(0))
    given = {}
    for run_id in runs:
        run = store.load_run(run_id)
        frame = stp.row_lineage(run.row_ids) if run.row_ids.size else pd.DataFrame()
        given[run_id] = bool(set(frame["row_id"]) & extra_ids)
    assert not given[only_visits.lineage_.run_id] and given[all_rows.lineage_.run_id]
    assert sum(given.values()) >= 3  # the folds given extra's rows too
    n_events = len(store.events(include_store_events=True))
    feature = f"onehotencoder__city_{MARK}"
    planned = store.erase_rows(
        source_id="extra", reason="consent withdrawn", features=[feature], dry_run=True
    )
    assert len(store.events(include_store_events=True)) == n_events  # nothing written
    assert {p["run_id"] for p in planned} == {r for r, g in given.items() if g}
    for p in planned:
        # the stats of the source, and of the merge built from it
        assert "extra" in p["sources"] and p["features"] == [feature]
        assert "visits" not in p["sources"] and "people" in p["sources"]
    done = store.erase_rows(source_id="extra", reason="consent withdrawn", features=[feature])
    assert [d["run_id"] for d in done] == [p["run_id"] for p in planned]
    store = stp.stores.SQLiteStore(path)
    assert store.verify()
    for run_id in runs:
        recorded = store.load_run(run_id).source_stats
        stats = {
            s["source_id"]: s for s in recorded["sources"] + recorded.get("through_merges", [])
        }
        assert ("redacted" in stats["extra"]) == given[run_id] if "extra" in stats else True
        assert (
            "redacted" in stats["people"] if given[run_id] else "redacted" not in stats["people"]
        )
        assert "redacted" not in stats["visits"]  # no row of visits was built from extra
    weights = store.load_run(all_rows.lineage_.run_id).fit_params
    assert "redacted" in weights["logisticregression__sample_weight"]
    assert MARK.encode() not in _bytes(store, path)
    # asked again: nothing is held any more
    store = stp.stores.SQLiteStore(path)
    assert store.erase_rows(source_id="extra", reason="again") == []


def test_rows_are_erased_through_merges_from_every_run_given_them(tmp_path):
    store = stp.stores.MemoryStore()
    df, visits, extra, people = _frames(tmp_path / "data")
    first = _fit(store, df).lineage_.run_id
    _fit(store, df[df["pid"] != 7])  # a run not given person 7 (nor its merged rows)
    person_7 = people.index.get_level_values(0)[people["pid"].to_numpy() == 7]
    planned = store.erase_rows(sample_id=person_7, reason="request 5", dry_run=True)
    (p,) = planned
    assert p["run_id"] == first
    # the training rows built from person 7 (their visits, merged) are counted by the
    # records of every source they were built from: people, visits, the merge; extra had
    # no visit of person 7
    merges = {s.source_id for s in store.load_run(first).sources.values() if s.kind == "merge"}
    assert sorted(p["sources"]) == sorted({"people", "visits"} | merges)
    store.erase_rows(sample_id=person_7, reason="request 5")
    assert store.verify()


def test_rows_are_matched_by_source_and_line_not_by_a_code_another_process_gave(tmp_path):
    """A run stored by another process may give the same source another code (probed on
    a collision there): the rows are the same, the packed ids differ."""
    store = stp.stores.MemoryStore()
    df, visits, extra, people = _frames(tmp_path / "data")
    run = _fit(store, df).lineage_
    shift = {code: code + 1000 for code in run.sources}

    def moved(ids):
        return pack_each(ids, shift)

    sources = {
        shift[c]: dataclasses.replace(
            s, code=shift[c], parent_codes=tuple(shift[p] for p in s.parent_codes)
        )
        for c, s in run.sources.items()
    }
    for code, source in sources.items():
        if source.parents is not None:
            parents = dataclasses.replace(source.parents, ids=moved(source.parents.ids))
            sources[code] = dataclasses.replace(source, parents=parents)
    there = dataclasses.replace(run, row_ids=moved(run.row_ids), sources=sources)
    row = extra.index.get_level_values(0)[:1]
    rows = keyed_rows(row, {}, stp._lineage._source.REGISTRY)
    ids, _ = removed_in(there, rows=rows)
    assert codes_of(ids).tolist() == [shift[int(codes_of(row)[0])]]
    assert run_values(there, ids)["sources"] == run_values(run, row)["sources"]
    # the raw id names nothing there (or another row): matching by it would miss the run
    assert run_values(there, row) is None


def pack_each(ids, shift):
    ids = np.asarray(ids, np.int64)
    codes = codes_of(ids)
    out = ids.copy()
    for old, new in shift.items():
        m = codes == old
        out[m] = pack(new, lines_of(ids[m]))
    return out


def test_requests_that_cannot_be_honoured_change_nothing(tmp_path):
    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    df, visits, extra, _ = _frames(tmp_path / "data")
    _fit(store, df)
    held = _bytes(store, path)
    store = stp.stores.SQLiteStore(path)
    never = np.array([int(pack(int(codes_of(extra.index.get_level_values(0)[:1])[0]), [99])[0])])
    unknown_code = np.array([(np.int64(12345) << np.int64(LINE_BITS)) | 1])
    bad = [
        (ValueError, "exactly one of", dict()),
        (ValueError, "exactly one of", dict(source_id="extra", sample_id=never)),
        (ValueError, "reason must say why", dict(source_id="extra", reason=" ")),
        (UnknownSourceError, "holds no source 'nowhere'", dict(source_id="nowhere")),
        (UnknownSourceError, "source code 12345", dict(sample_id=unknown_code)),
        (ValueError, "was given these rows: 'extra' line 99", dict(sample_id=never)),
        (
            ValueError,
            "holds the feature names 'city_Nope'",
            dict(source_id="extra", features=["city_Nope"]),
        ),
        (TypeError, "sample_id must hold integers", dict(sample_id=["a"])),
        (ValueError, "non-empty 1-D", dict(sample_id=[])),
    ]
    for error, match, kwargs in bad:
        kwargs = {"reason": "r", **kwargs}
        with pytest.raises(error, match=match):
            store.erase_rows(**kwargs)
    assert _bytes(store, path) == held


def test_a_schema_2_store_refuses_before_anything_changes(tmp_path):
    import shutil
    from pathlib import Path

    path = tmp_path / "schema2.db"
    shutil.copyfile(Path(__file__).parent / "data" / "schema2.db", path)
    store = stp.stores.SQLiteStore(path)
    df, *_ = _frames(tmp_path / "data")
    _fit(store, df)
    held = _bytes(store, path)
    store = stp.stores.SQLiteStore(path)
    with pytest.raises(StoreError, match="schema version 2.*Nothing was changed"):
        store.erase_rows(source_id="extra", reason="r")
    assert _bytes(store, path) == held


_FITTED = {}


def _fitted(tmp_path_factory):
    """One store with runs each fitted on a different subset of the same rows."""
    if not _FITTED:
        store = stp.stores.MemoryStore()
        df, *_ = _frames(tmp_path_factory.mktemp("d"))
        rng = np.random.default_rng(0)
        subsets = []
        for _ in range(4):
            keep = rng.random(len(df)) < 0.6
            keep[:4] = [True, False, True, False]  # both classes
            part = df[keep]
            if part["y"].nunique() < 2:
                continue
            run = _fit(store, part).lineage_
            subsets.append((run.run_id, part))
        leaves = stp.row_lineage(df)["row_id"].unique()
        _FITTED.update(store=store, subsets=subsets, leaves=np.sort(leaves))
    return _FITTED["store"], _FITTED["subsets"], _FITTED["leaves"]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_the_runs_erased_from_are_exactly_those_given_a_row(tmp_path_factory, data):
    store, subsets, leaves = _fitted(tmp_path_factory)
    chosen = data.draw(
        st.lists(st.sampled_from(leaves.tolist()), min_size=1, max_size=4, unique=True)
    )
    truth = set()
    for run_id, part in subsets:  # brute force: the file lines behind each fitted row
        if set(stp.row_lineage(part)["row_id"]) & set(chosen):
            truth.add(run_id)
    given_any = any(
        set(stp.row_lineage(part)["row_id"]) & {c} for _, part in subsets for c in chosen
    )
    copy = store.copy()
    everywhere = all(
        any(c in set(stp.row_lineage(part)["row_id"]) for _, part in subsets) for c in chosen
    )
    if not everywhere:
        with pytest.raises(ValueError, match="was given these rows"):
            copy.erase_rows(sample_id=chosen, reason="r", dry_run=True)
        return
    assert given_any
    planned = copy.erase_rows(sample_id=chosen, reason="r", dry_run=True)
    assert {p["run_id"] for p in planned} == truth


def test_the_command_line_erases_a_source_after_the_store_verifies(tmp_path, capsys):
    from sktraceprop.cli import main

    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    df, *_ = _frames(tmp_path / "data")
    run_id = _fit(store, df).lineage_.run_id
    store.close()
    feature = f"onehotencoder__city_{MARK}"
    args = ["erase", str(path), "--source", "extra", "--reason", "request 7"]
    before = path.read_bytes()
    assert main([*args, "--feature", feature, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "would erase what 1 run(s) hold" in printed and run_id in printed
    assert "sources: extra, " in printed and f"features: {feature}" in printed
    assert path.read_bytes() == before
    assert main(["erase", str(path), "--source", "nowhere", "--reason", "r"]) == 2
    assert "holds no source 'nowhere'" in capsys.readouterr().err
    assert main([*args, "--feature", feature]) == 0
    assert "store.redaction event seq" in capsys.readouterr().out
    # the request is on the record, each run's erasure names it
    store = stp.stores.SQLiteStore(path)
    (request,) = store.events(kind="store.erasure", include_store_events=True)
    assert request["payload"] == {
        "source_ids": ["extra"],
        "rows": None,
        "reason": "request 7",
        "runs": [run_id],
    }
    (erasure,) = store.events(kind="store.redaction", include_store_events=True)
    assert erasure["payload"]["reason"] == f"request 7 (erasure event {request['seq']})"
    # trace names a row built from the erased source with the request, and shows no
    # values of it; a row of another source is shown from its file
    run = store.load_run(run_id)
    frame = stp.row_lineage(run.row_ids)
    of_extra = frame.loc[frame["source_id"] == "extra", "row"].iloc[0]
    only_visits = frame.groupby("row")["source_id"].agg(set)
    of_visits = only_visits[only_visits.map(lambda s: "extra" not in s)].index[0]
    store.close()
    for row, erased in ((of_extra, True), (of_visits, False)):
        assert main(["trace", str(path), "--run", run_id, "--row", str(row)]) == 0
        printed = capsys.readouterr().out
        assert (f"named by erasure request event seq {request['seq']}" in printed) == erased
        assert ("  line " in printed) != erased
    text = (tmp_path / "data" / "extra.csv").read_text().splitlines()
    assert main(["trace", str(path), "--run", run_id, "--row", str(of_extra)]) == 0
    assert not any(line in capsys.readouterr().out for line in text[1:])
    assert MARK.encode() not in _bytes(stp.stores.SQLiteStore(path), path)
    assert main(args) == 0
    assert "holds anything more" in capsys.readouterr().out
    assert main(["check", str(path)]) == 0


def test_exports_of_the_run_as_fitted_are_refused_once_its_values_were_erased(tmp_path):
    """The run object a fit made still holds the values erased from its stored copy: an
    export of it would write them out again (a Parquet folder held the category)."""
    pytest.importorskip("pyarrow")
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider

    from sktraceprop.exceptions import LineageError
    from sktraceprop.exporters import to_openlineage, to_opentelemetry, to_parquet

    path = tmp_path / "s.db"
    store = stp.stores.SQLiteStore(path)
    df, visits, _, people = _frames(tmp_path / "data")
    run = _fit(store, df).lineage_
    never_erased = _fit(store, stp.merge(visits, people, on="pid", how="left")).lineage_
    exports = {
        "a Parquet export": lambda r, name: to_parquet(r, tmp_path / name),
        "an OpenLineage event": lambda r, name: to_openlineage(r),
        "OpenTelemetry spans": lambda r, name: to_opentelemetry(
            r, tracer_provider=TracerProvider()
        ),
    }
    for what, export in exports.items():
        export(run, f"before {what}")  # nothing erased yet
    store.close()
    other = stp.stores.SQLiteStore(path)  # the erasure comes through another handle
    other.erase_rows(source_id="extra", reason="r", features=[f"onehotencoder__city_{MARK}"])
    for what, export in exports.items():
        with pytest.raises(LineageError, match=f"erased from .*: {what} of the run as fitted"):
            export(run, f"after {what}")
        export(never_erased, f"other {what}")  # its own values stay exportable
    assert not (tmp_path / "after a Parquet export").exists()
    folder = to_parquet(store.load_run(run.run_id), tmp_path / "stored")
    written = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    assert MARK.encode() not in written and b"city_Aa" in written


def test_objects_of_this_process_that_keep_the_rows_are_named(tmp_path):
    import gc
    import warnings

    store = stp.stores.MemoryStore()
    df, visits, _, people = _frames(tmp_path / "data")
    pipe = _fit(store, df)
    kept = _fit(store, stp.merge(visits, people, on="pid", how="left"))  # noqa: F841
    with pytest.warns(
        UserWarning, match=r"keep data of the rows being erased: TracedPipeline"
    ) as got:
        store.erase_rows(source_id="extra", reason="r")
    assert got[0].filename == __file__  # it named sktraceprop/stores/_base.py
    del pipe
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the model given the rows is gone; the other has none
        assert store.erase_rows(source_id="extra", reason="again") == []


def test_a_report_after_an_erasure_says_so_and_verifies_against_the_store(tmp_path):
    from sktraceprop.compliance import compliance_report, verify

    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    df, *_ = _frames(tmp_path / "data")
    pipe = _fit(store, df).set_params(log_predictions=True)
    pipe.predict(df[["city", "age"]].iloc[:3])
    store.erase_rows(source_id="extra", reason="request 9")
    (request,) = store.events(kind="store.erasure", include_store_events=True)
    report = compliance_report(
        pipe,
        system_name="S",
        system_version="1",
        deployer_name="D",
        high_risk_category="creditworthiness",
        intended_purpose="p",
        human_oversight=["o"],
        output_path=tmp_path / "r.json",
    )
    statistics = {s["source_id"]: s["statistics"] for s in report.to_dict()["sources"]}
    assert "request 9 (erasure event" in str(statistics["extra"]["erased"])
    assert "erased" not in statistics["visits"]
    assert verify(tmp_path / "r.json", store=store)


def test_every_store_erases_a_request_and_still_verifies(backend, tmp_path):
    store = backend.make()
    df, visits, _, people = _frames(tmp_path / "data")
    given = _fit(store, df).lineage_.run_id
    other = _fit(store, stp.merge(visits, people, on="pid", how="left")).lineage_.run_id
    done = store.erase_rows(
        source_id=["extra"], reason="r", features=[f"onehotencoder__city_{MARK}"]
    )
    assert [d["run_id"] for d in done] == [given]
    store = backend.make()
    assert store.verify() and store.check()
    kinds = [e["kind"] for e in store.events(include_store_events=True)][-2:]
    assert kinds == ["store.erasure", "store.redaction"]
    assert MARK not in str(store.load_run(given).feature_lineage)
    assert "redacted" not in str(store.load_run(other).source_stats)  # never given extra


def test_a_source_id_naming_two_files_warns_and_erases_for_both(tmp_path):
    # two folders' data.csv are both "data": a request by that name reaches both files'
    # rows, said with their URIs (it was silent); one file's rows by their ids
    frames = []
    for folder, n in (("a", 12), ("b", 8)):
        (tmp_path / folder).mkdir()
        pd.DataFrame(
            {"city": (["Aa", "Bb"] * n)[:n], "age": np.arange(n) + 20.0, "y": [0, 1] * (n // 2)}
        ).to_csv(tmp_path / folder / "data.csv", index=False)
        frames.append(stp.read_csv(tmp_path / folder / "data.csv"))
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    both = _fit(store, pd.concat(frames))
    only_b = _fit(store, frames[1])
    with pytest.warns(stp.exceptions.LineageWarning, match=r"names sources of 2 files") as got:
        planned = store.erase_rows(source_id="data", reason="request 7", dry_run=True)
    message = str(got[0].message)
    assert got[0].filename == __file__  # it named sktraceprop/stores/_base.py
    assert all(f.resolve().as_uri() in message for f in tmp_path.glob("*/data.csv"))
    assert {p["run_id"] for p in planned} == {both.lineage_.run_id, only_b.lineage_.run_id}
    with warnings.catch_warnings():
        warnings.simplefilter("error", stp.exceptions.LineageWarning)
        planned = store.erase_rows(
            sample_id=stp.row_ids(frames[0]), reason="request 8", dry_run=True
        )
    assert [p["run_id"] for p in planned] == [both.lineage_.run_id]


def test_a_refused_request_counts_every_row_it_names_not_only_the_first_five(tmp_path):
    # the message named at most five rows, with no count: eight rows never given to a
    # run read as five (truth: the rows asked for, none of which the file holds)
    store = stp.stores.SQLiteStore(tmp_path / "s.db")
    df, _, extra, _ = _frames(tmp_path / "data")
    _fit(store, df)
    code = int(codes_of(extra.index.get_level_values(0)[:1])[0])
    lines = np.arange(99, 107)
    with pytest.raises(ValueError) as caught:
        store.erase_rows(sample_id=pack(code, lines), reason="r", dry_run=True)
    message = str(caught.value)
    assert "'extra' line 99" in message and "'extra' line 103" in message
    assert "'extra' line 104" not in message
    assert f"and {lines.size - 5} more ({lines.size} rows in all)" in message
