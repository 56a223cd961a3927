"""The report's feature lineage: each model input -> columns -> sources, aggregates and
inputs attached outside the pipeline named, and the inputs a removal left."""

from .._lineage._record import unsourced_run_columns

__all__ = ["features_section"]


def features_section(run, after_removal=None):
    """Feature lineage: each model input -> columns -> sources, with aggregates named.

    ``after_removal``: for a model an unlearner corrected, the removal's seq and what
    its event records of the inputs it left (``features_after``), where they differ from
    the fit's: said in ``after_removal`` beside the fit's lineage.
    """
    sources = run.feature_sources()
    aggregates = run.feature_aggregates()
    by_id = {s.source_id: s for s in run.sources.values()}
    features = []
    for feature, columns in run.feature_lineage.items():
        aggs = []
        for agg in aggregates.get(feature, []):
            source = by_id.get(agg)
            over = (
                []
                if source is None
                else sorted(
                    {run.sources[c].source_id for c in source.parent_codes if c in run.sources}
                )
            )
            aggs.append({"source_id": agg, "computed_over": over})
        features.append(
            {
                "feature": str(feature),
                "columns": None if columns is None else [str(c) for c in columns],
                "sources": list(sources.get(feature, [])),
                "aggregates": aggs,
            }
        )
    unknown = [f["feature"] for f in features if f["columns"] is None]
    # columns no source holds: computed outside the pipeline, from what is not recorded
    outside = set(unsourced_run_columns(run))
    no_source = [f["feature"] for f in features if outside & set(f["columns"] or ())]
    # columns identified as another source's column attached by position, without lineage
    attached = [
        {
            **{k: e[k] for k in _ATTACHED_KEYS},
            "features": [
                f["feature"] for f in features if e["input_column"] in (f["columns"] or ())
            ],
        }
        for e in run.attached_columns
    ]
    # A group statistic joined back to rows carries every row of the group into each
    # row's value: computed over several sources, one source's rows shape another's.
    pooled = [
        f["feature"] for f in features if any(len(a["computed_over"]) > 1 for a in f["aggregates"])
    ]
    # A target encoding, a supervised selection: each row's value (or whether the feature
    # is there) depends on the targets of every training row, of every source.
    target = run.target_features()
    return {
        "n_features": len(features),
        "known": not unknown,
        "unknown": unknown,
        "aggregated_over_several_sources": pooled,
        # (only when there are some: reports made before they were kept still verify)
        **({"from_columns_in_no_source": no_source} if no_source else {}),
        **({"attached_outside_pipeline": attached} if attached else {}),
        **({"from_the_target": target} if target else {}),
        "features": features,
        **({"after_removal": _after_removal(*after_removal)} if after_removal else {}),
    }


_ATTACHED_KEYS = (
    "input_column",
    "source_id",
    "sha256",
    "uri",
    "column",
    "match",
    "rows_matched",
    "rows_compared",
)


def _after_removal(seq, changed):
    """The model's inputs as removal ``seq`` left them (its event's ``features_after``)."""
    added = [str(name) for name in changed.get("added_since_fit", [])]
    n_dropped = int(changed.get("n_dropped_since_fit", 0))
    n_now, n_fit = int(changed.get("n_features", 0)), int(changed.get("n_features_at_fit", 0))
    return {
        "seq": int(seq),
        "n_features": n_now,
        "added": added,
        "n_dropped": n_dropped,
        "note": (
            f"the model takes {n_now} input(s), not the {n_fit} listed under features "
            f"(the run as fitted): removal seq {seq} refitted the preprocessing on the "
            f"retained rows, which output {len(added)} input(s) the fit did not (named in "
            f"'added': values of retained rows that a limit such as min_df, max_df or "
            f"max_features left out at fit) and no longer output {n_dropped} of the fit's "
            "(not named: they may be values of removed rows)"
        ),
    }
