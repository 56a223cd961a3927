"""Art. 26(4): input data relevant and representative. Per source, what the record
shows of the rows given to fit (counts, label balance, missing values, hashes), columns
changed after loading, inexact digests, inputs attached outside the pipeline, and a
model an unlearner corrected since."""

from .._lineage._attached import evidence_said
from .._lineage._run_rows import UNTRACED_SAMPLER_NOTE
from .._lineage._trust import counted_at_fit
from ._article import PARTLY, _article, _plural
from ._digest_schemes import INEXACT
from ._source_evidence import ops_told_apart


def _changed_columns(sources):
    """Each column a source's entry marks ``changed_after_loading``, in words: ``"product
    of south (7 of 222 rows checked changed, 7 of them missing values filled)"``."""
    out = []
    for source in sources:
        name = source.get("label", source["source_id"])
        for column in source["columns"]:
            mark = column.get("changed_after_loading")
            if mark is None:
                continue
            held = f", given to fit as {mark['input_column']}" if "input_column" in mark else ""
            if mark.get("found_in"):
                held += f", in the rows merged into {', '.join(mark['found_in'])}"
            if mark.get("rows_not_known"):
                held += (
                    f"; {mark['rows_not_known']} more rows hold values a merge made from "
                    "inputs changed after loading, from rows not compared: not known"
                )
            out.append(
                f"{column['name']} of {name} ({mark['rows_changed']} of "
                f"{mark['rows_checked']} rows checked changed, {mark['missing_filled']} of "
                f"them missing values filled{held})"
            )
    return out


def _unchecked_sources(sources):
    """Each source whose ``changes_after_loading`` says its values given to fit were not
    compared with what was loaded, in words: ``"south (not recorded for this run ...)"``."""
    out = []
    for source in sources:
        check = source.get("changes_after_loading")
        if check is not None and not check["checked"]:
            out.append(f"{source.get('label', source['source_id'])} ({check['note']})")
    return out


def _after_removal(report, after, changed):
    """Art. 26(4)'s words on a model an unlearner corrected: the figures are the fit's.

    From format 8, the counts of the rows compared with what was loaded and of the
    columns changed after loading are said to be the fit's in the words the exports of
    the unlearner's copy of the run use
    (:func:`~sktraceprop._lineage._trust.counted_at_fit`); format 7 said it in
    its own, and earlier formats not at all (their statements are rebuilt as written).
    """
    version = report["report"]["format_version"]
    upto = [r for r in report["record_keeping"]["removals"] if r["seq"] <= after["seq"]]
    taken = [r["n_removed"] for r in upto if isinstance(r["n_removed"], int)]
    said = (
        f" The model reported is this run's model after removal seq {after['seq']}: "
        "these figures "
        + (
            "(the counts of the columns changed after loading among them) "
            if changed and version == 7
            else ""
        )
        + "describe the data as given to fit, of which the "
        f"{_plural(len(taken), 'removal')} listed in the record-keeping section took "
        f"out {sum(taken)} training rows."
    )
    compared = any(
        isinstance(s.get("changes_after_loading", {}).get("rows_compared"), int)
        for s in report["sources"]
    )
    if version >= 8 and (changed or compared):
        said += (
            " The rows compared with what was loaded and the columns changed after "
            "loading (changes_after_loading, changed_after_loading) were "
            f"{counted_at_fit(len(upto))}."
        )
    return said


def _inexact_digests(sources):
    """Each source whose digest is of a scheme that names some different data alike,
    with its scheme."""
    return [
        f"{s.get('label', s['source_id'])}: {s['digest_scheme']}"
        for s in sources
        if s.get("digest_scheme") in INEXACT
    ]


def _attached_said(attached):
    """The sentence naming input columns attached by position from another source."""
    listed = "; ".join(
        f"{e['input_column']} holds column {e['column']} of {e['source_id']} "
        f"({evidence_said(e)}; inputs {', '.join(e['features']) or 'none'})"
        for e in attached
    )
    n = len({e["input_column"] for e in attached})
    reordered = sorted({e["input_column"] for e in attached if e["match"] == "reordered"})
    wrong = (
        f" {', '.join(reordered)} {'holds' if len(reordered) == 1 else 'hold'} that "
        "source's values in another row order than its rows (a table reordered before "
        "the copy): a training row's value may belong to another row, so the model may "
        "have been trained on wrong data."
        if reordered
        else ""
    )
    return (
        f"{_plural(n, 'input column')} {'holds' if n == 1 else 'hold'} "
        f"another source's column attached by position outside the pipeline ({listed}; "
        "/feature_lineage/attached_outside_pipeline): identified by their values, they "
        "name that source among those inputs' sources, but which of its rows each "
        "training row holds is not recorded, and a removal of rows cannot take it out." + wrong
    )


def _sources_said(sources, attached, n_rows):
    """The count of the sources behind the training rows, with those whose data reached
    the model only through input columns attached by position (they contribute columns,
    not rows), named."""
    own = {s["source_id"] for s in sources}
    extra = {}
    for e in attached:
        if e["source_id"] not in own:
            extra.setdefault(e["source_id"], {})[e["input_column"]] = None  # (once each)
    if not extra:
        return (
            f"For each of the {_plural(len(sources), 'source')} behind the {n_rows} training rows"
        )
    listed = "; ".join(
        f"{source}: input column{'' if len(cols) == 1 else 's'} {', '.join(cols)}"
        for source, cols in sorted(extra.items())
    )
    return (
        f"{len(own) + len(extra)} sources are behind the {n_rows} training rows: "
        f"{_plural(len(own), 'source')} of their rows, and "
        f"{_plural(len(extra), 'source')} whose data reached them only as input columns "
        f"attached by position, not as rows ({listed}; of "
        f"{'it' if len(extra) == 1 else 'them'} the record holds the SHA-256, URI and "
        "column, not which of its rows each training row holds, as said below). For "
        "each source of rows"
    )


def _resampled(sources):
    """Sources whose statistics count other rows than the model was trained on (format
    16): a sampler in the pipeline (``sample_indices_``) chose the training rows from
    the rows given to fit."""
    return [
        f"{s.get('label', s['source_id'])} ({s['statistics']['rows_given_to_fit']} rows "
        f"given to fit, {s['training_rows']} training rows)"
        for s in sources
        if s["statistics"]["recorded_at_fit"]
        and not s["statistics"].get("through_merges")
        and s["statistics"]["rows_given_to_fit"] != s["training_rows"]
    ]


def _untraced_samplers(report):
    """The model's notes of samplers without ``sample_indices_`` (SMOTE, SMOTEENN,
    ClusterCentroids), each shortened to the sampler's step and class."""
    return [
        note.split(f" {UNTRACED_SAMPLER_NOTE}")[0].removeprefix("sampler step ")
        for note in report["model"].get("notes", ())
        if UNTRACED_SAMPLER_NOTE in note
    ]


def _input_data(report):
    sources = report["sources"]
    with_stats = [s for s in sources if s["statistics"]["recorded_at_fit"]]
    direct = [
        s for s in sources if s["training_rows"] > 0 or s.get("training_rows_through_merges")
    ]
    anonymous = [s for s in direct if s["kind"] == "anonymous"]
    features = report["feature_lineage"]
    # format 9 says per source what its sha256 names (a frame's is not of bytes)
    schemes = report["report"]["format_version"] >= 9
    identity = (
        "URI and a SHA-256, whose digest_scheme says what it names"
        if schemes
        else "URI and SHA-256 of its bytes"
    )
    parts = [
        _sources_said(
            sources,
            features.get("attached_outside_pipeline", []),
            report["model"]["n_training_rows"],
        )
        + f" the record holds its identity ({identity}), rows, columns and dtypes, when "
        "it was loaded and the ops its rows went through"
    ]
    if len(with_stats) == len(direct):
        parts.append(
            "; label balance and missing values per column were counted at fit time "
            "for every source the rows came from"
        )
    else:
        erased = sorted({s["source_id"] for s in direct if "erased" in s["statistics"]})
        lacking = sorted(
            {s["source_id"] for s in direct} - {s["source_id"] for s in with_stats} - set(erased)
        )
        if lacking:
            parts.append(
                "; label balance and missing values were not recorded at fit time for "
                f"{', '.join(lacking)}"
            )
        if erased:
            parts.append(
                "; label balance and missing values counted at fit time were erased from "
                f"the record since (store.redaction events) for {', '.join(erased)}"
            )
    if any(s.get("training_rows_through_merges") for s in sources):
        parts.append(
            " (for a source whose rows reached the model through merges, over the merged "
            "training rows built from them and the columns that came from it)"
        )
    parts.append(".")
    changed = _changed_columns(sources)
    if changed:
        parts.append(
            f" {_plural(len(changed), 'column')} held values in the data given to fit that "
            f"differ from what was loaded for the same rows ({'; '.join(changed)}): "
            "changed after loading, outside the pipeline (fillna, a conversion, a shift). "
            "The missing values counted for them are those of the values given to fit, "
            "not of the values loaded; the rows checked are a sample (witness rows), so "
            "more rows may have changed."
        )
    unchecked = _unchecked_sources(sources)
    if unchecked:
        parts.append(
            " Whether columns were changed after loading (fillna, a conversion, outside the "
            f"pipeline) is not known for {_plural(len(unchecked), 'source')}: "
            f"{'; '.join(unchecked)}. No column of these is marked changed_after_loading, "
            "which does not show that none was changed: their missing counts and rates are "
            "of the values given to fit, which may not be the values loaded."
        )
    inexact = _inexact_digests(sources) if schemes else []
    if inexact:
        parts.append(
            f" The digest of {_plural(len(inexact), 'source')} ({'; '.join(inexact)}) is "
            "of a scheme of an earlier sktraceprop that names some different data alike "
            "(see each source's digest_note): such a digest cannot show that the data fitted "
            "on is exactly the data it names, and the same data registered now has another "
            "digest."
        )
    if anonymous:
        rows = sum(s["training_rows"] for s in anonymous)
        parts.append(
            f" {rows} training rows come from data with no file identity (anonymous "
            "sources): their origin is not in the record."
        )
    resampled = _resampled(sources) if report["report"]["format_version"] >= 16 else []
    if resampled:
        parts.append(
            f" The label balance and missing values of {'; '.join(resampled)} were counted "
            "over the rows given to fit, but a step of the pipeline (a sampler) trained the "
            "model on another number of rows made from them: the model learned from a "
            "label balance these counts do not show."
        )
    synthetic = _untraced_samplers(report)
    if synthetic:
        parts.append(
            f" Before the final estimator, {', '.join(synthetic)} recorded no "
            "sample_indices_ (a sampler that does not may make synthetic rows and drop "
            "others), so the model "
            "was not trained on the rows given to fit. The record's training rows "
            f"({report['model']['n_training_rows']}), their sources, label balance and "
            "missing values are those of the rows given to fit; the rows the model "
            "learned from, and how many, are not in the record."
        )
    # (format 16: sources whose copies a sampler made are said apart, above)
    said = {r.split(" (")[0] for r in resampled}
    repeated = [
        s for s in sources if "repeated_rows" in s and s.get("label", s["source_id"]) not in said
    ]
    if repeated:
        listed = "; ".join(
            f"{s.get('label', s['source_id'])}: {s['training_rows']} training rows, "
            f"{s['repeated_rows']['distinct_rows']} distinct"
            for s in repeated
        )
        parts.append(
            f" Rows repeat in the data given to fit ({listed}): oversampled, or given to "
            "fit more than once. The label balance and missing counts of these sources "
            "count every copy, as the model saw them, not the distinct rows."
        )
    shared = sorted({s["source_id"] for s in sources if "label" in s})
    told = ops_told_apart(
        [(op.get("sources"), "source_keys" in op) for op in report["model"]["ops"]],
        set(shared),
    )
    if shared:
        parts.append(
            f" Several sources carry the source_id {', '.join(map(repr, shared))} (files "
            "read under one name, or one file's contents read before and after an edit): "
            "they are listed apart, each with its URI, SHA-256 and a label, but the ops, "
            "the feature lineage and the runs name sources by source_id and cannot say "
            "which of them they mean."
            if told != set(shared)
            else f" Several sources carry the source_id {', '.join(map(repr, shared))} "
            "(files read under one name, or one file's contents read before and after an "
            "edit): they are listed apart, each with its URI, SHA-256 and a label, and "
            "the ops fitted on some of them name their SHA-256, but the feature lineage "
            "and the runs name sources by source_id and cannot say which of them they mean."
        )
    attached = features.get("attached_outside_pipeline", [])
    if attached:
        parts.append(" " + _attached_said(attached))
    if features["aggregated_over_several_sources"]:
        parts.append(
            f" {_plural(len(features['aggregated_over_several_sources']), 'model input')} "
            "come from aggregates computed over several sources (group statistics joined "
            "to rows): each row's value depends on rows of other sources."
        )
    after = report["model"].get("fitted_object_after_removal")
    if after is not None:
        parts.append(_after_removal(report, after, changed))
    parts.append(
        " Whether this data is relevant and sufficiently representative for the intended "
        "purpose is a judgement the record supports but cannot make."
    )
    return _article(
        "26(4)",
        "Input data relevant and representative",
        "To the extent the deployer exercises control over the input data, it ensures the "
        "data is relevant and sufficiently representative in view of the intended purpose.",
        PARTLY,
        "".join(parts),
        ["/sources", "/feature_lineage"],
        [
            "relevance and representativeness for the intended purpose",
            "data that did not reach the model (what was left out, and why)",
        ]
        + (["the origin of rows from anonymous sources"] if anonymous else [])
        + (["the rows a sampler made and trained the model on"] if synthetic else [])
        + (
            [
                "that the data of each source whose digest is of an earlier scheme "
                f"({'; '.join(inexact)}) is exactly the data recorded: such digests name "
                "some different data alike"
            ]
            if inexact
            else []
        )
        + (
            [
                "which rows of the sources attached by position "
                f"({', '.join(sorted({e['source_id'] for e in attached}))}) each training "
                "row holds, and that they belong to it"
            ]
            if attached
            else []
        )
        + (
            [
                "the missing values of the loaded data in the columns changed after "
                f"loading ({'; '.join(changed)}): the counts are of the values given to fit"
            ]
            if changed
            else []
        )
        + (
            [
                "whether columns were changed after loading, and so whether the missing "
                "counts and rates are those of the values loaded, for "
                f"{'; '.join(unchecked)}"
            ]
            if unchecked
            else []
        )
        + (
            [
                "which of the sources that share a source_id each op was fitted on and "
                "each model input came from"
                if told != set(shared)
                else "which of the sources that share a source_id each model input came from"
            ]
            if shared
            else []
        ),
    )
