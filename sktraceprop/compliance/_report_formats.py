"""What each format of a compliance report holds: the version written, the keys each
later version added (a report of an older format is rebuilt without them), in words for
the warning an older report gets, and how a format writes its values."""

from ..utils._exact_ints import exact_view

#: The format of the reports written; version 1 (every integer a JSON number, payloads
#: as stored) is still read and checked.
FORMAT_VERSION = 19
#: What format 3 added: the model's and each listed run's purpose and model selection.
_MODEL_KEYS_3 = ("purpose", "selection", "selection_note")
#: What format 4 added: the model's fit parameters (sample weights), as its run records.
_MODEL_KEYS_4 = ("fit_params",)
_RUN_KEYS_3 = ("purpose", "search_role", "search_id")
#: What format 6 added: each removal's source_contents, as its event records it.
_REMOVAL_KEYS_6 = ("source_contents",)
#: What format 7 added: whether each source's values given to fit were compared with
#: what was loaded (changes_after_loading).
_SOURCE_KEYS_7 = ("changes_after_loading", "repeated_rows")
#: What format 8 added: each removal's source_rows (the distinct rows of each source
#: behind the training rows removed) and counts_note, as its event records them.
_REMOVAL_KEYS_8 = ("source_rows", "counts_note")
#: What format 9 added: each source's digest_scheme and digest_note (what its sha256
#: names; see _digest_schemes), SOURCE_KEYS_9, and the count of logged calls whose model
#: matched its run only by fingerprint scheme 1.
_PREDICTION_KEYS_9 = ("calls_matched_by_old_fingerprint_scheme",)
#: What format 10 added: the scheme of the model's fingerprint, as its run records it.
_MODEL_KEYS_10 = ("fingerprint_scheme", "fingerprint_scheme_note")
#: What format 11 added: the inputs a removal left the model, where they differ from the
#: fit's (feature_lineage/after_removal).
_FEATURE_KEYS_11 = ("after_removal",)
#: What format 12 added: the count of logged calls whose model matched its run only by
#: fingerprint scheme 2 (functions and classes named by name, not hashed by code).
_PREDICTION_KEYS_12 = ("calls_matched_by_fingerprint_scheme_2",)
#: What format 13 added: the count of logged calls whose model matched its run only by
#: fingerprint scheme 3 (user classes' attributes other than functions named).
_PREDICTION_KEYS_13 = ("calls_matched_by_fingerprint_scheme_3",)
#: What format 14 added: the count of logged calls whose model matched its run only by
#: fingerprint scheme 4 (a class cache's contents hashed, index packages named).
_PREDICTION_KEYS_14 = ("calls_matched_by_fingerprint_scheme_4",)
#: What format 15 added: the count of logged calls whose model matched its run only by
#: fingerprint scheme 5 (a module a user function holds named, its helpers not hashed).
_PREDICTION_KEYS_15 = ("calls_matched_by_fingerprint_scheme_5",)
#: What format 16 added to retention: what the chain's order shows of the events' times.
_RETENTION_KEYS_16 = ("coverage_from", "times_set_back", "first_logged_use_contradicted")
#: What format 16 added to retention later still: the span of the times the chain's
#: order does not contradict (earliest_logged, latest_logged and span_days are stamped).
_RETENTION_SPAN_KEYS_16 = ("latest_uncontradicted", "span_days_uncontradicted")
#: What format 16 added to retention last: the days before the report in which no event
#: is stamped (a restored older copy of the store ends early, its chain intact).
_RETENTION_END_KEYS_16 = ("days_unlogged_before_report",)
#: What format 16 added to retention after that: the longest interval between
#: consecutive logged times with no event stamped (a gap shows only as a low monthly
#: count otherwise).
_RETENTION_GAP_KEYS_16 = (
    "longest_unlogged_from",
    "longest_unlogged_to",
    "longest_unlogged_days",
)
#: What format 16 added to retention last of all: the same figures over this model's
#: own logged calls (the ones above are over every event of the store, which a store
#: shared with another model fills while this one logs nothing).
_RETENTION_USE_KEYS_16 = (
    "earliest_logged_use",
    "latest_logged_use",
    "days_unlogged_use_before_report",
    "longest_unlogged_use_from",
    "longest_unlogged_use_to",
    "longest_unlogged_use_days",
)
#: What format 16 added to retention at the end: six months counted over this model's
#: own logs (the events of its run), which a store shared with another model, or
#: holding an earlier fit's, does not show by its older events.
_RETENTION_MODEL_KEYS_16 = (
    "model_logs_from",
    "model_logs_cover_six_months",
    "model_six_months_reached_on",
)
#: What format 17 added: every model's logged calls in time, measured apart.
_RECORD_KEYS_17 = ("calls_by_model",)
#: ... and the calls whose model's steps cannot be checked against its run (a run of
#: scheme 1 whose form did not see what a tree learnt), counted as changed before.
_PREDICTION_KEYS_17 = ("calls_by_a_model_unchecked_since_fit",)
#: What format 18 added: the calls logged before the two were told apart whose changed
#: steps a run of scheme 1 (or none) may not have been able to check, counted as changed
#: before (in calls_by_a_model_changed_since_fit, where a report of format 17 holds them).
_PREDICTION_KEYS_18 = ("calls_by_a_model_changed_or_unchecked_since_fit",)
#: What format 19 added: a source whose rows carry several codes (an alias from another
#: process) is one entry, its codes listed; format 18 and earlier wrote one per code.
_SOURCE_KEYS_19 = ("codes", "codes_note")
#: What each format version added, in words: what a report of an older one cannot show.
_ADDED_IN = {
    2: "integers beyond 2**53 written exactly (as decimal strings)",
    3: "the model's and each run's purpose and model selection",
    4: "the model's fit parameters (sample weights: digest and exact counts)",
    5: "a hash over RFC 8785 (JCS), kept by any JSON tool's re-save",
    6: "each removal's source_contents",
    7: "whether each source's values given to fit were compared with what was loaded "
    "(changes_after_loading) and its repeated rows; and how many of each source's "
    "training rows went through each op (op_training_rows, also in format-6 reports made "
    "after it was added): earlier reports list a step fitted on some rows only among the "
    "ops of every source it was fitted on",
    8: "each removal's source rows behind its training rows (source_rows, counts_note)",
    9: "what each source's sha256 names (digest_scheme, digest_note): a frame registered "
    "by an earlier sktraceprop holds a digest that names some different frames alike; "
    "the logged calls whose model matched its run only by fingerprint scheme 1",
    10: "the scheme of the model's fingerprint, as its run records it "
    "(fingerprint_scheme, fingerprint_scheme_note): scheme 1 could not tell some "
    "different models apart",
    11: "the inputs a removal left the model where they differ from the fit's "
    "(feature_lineage/after_removal): a term a limit let in after a removal",
    12: "the logged calls whose model matched its run only by fingerprint scheme 2, "
    "which named functions and classes by name and could not tell apart models that "
    "differ in their code",
    13: "the logged calls whose model matched its run only by fingerprint scheme 3, "
    "which named the attributes of user classes other than functions and the code of "
    "packages installed from a folder, and could not tell apart models that differ there",
    14: "the logged calls whose model matched its run only by fingerprint scheme 4, "
    "which named the code of packages installed from a package index and of user modules "
    "named like standard library ones, and could not tell apart models that differ there; "
    "and an empty uri for a source whose bytes were read from several paths (copies) "
    "where the training rows' path is not known: format 13 named the first path read "
    "there (listing every path in uris)",
    15: "the logged calls whose model matched its run only by fingerprint scheme 5, "
    "which named a module a user function holds as a global and not the helpers it calls "
    "through it (mymod.helper), and could not tell apart models that differ there",
    16: "six months of log retention counted at a month's end as a period of months "
    "ends (six months after 31 August are reached on 1 March): format 15 and earlier "
    "named 28 February (six_months_reached_on) and, for a report made on the 29th to "
    "31st, could deny six months to logs that spanned them; and where a sampler in the "
    "pipeline made the training rows from the rows given to fit, Art. 26(4) says the "
    "label balance and missing values count the rows given to fit, not the training rows "
    "(format 15 and earlier said they count every copy, as the model saw them); and the "
    "account of the logged calls erased at request (record_keeping/prediction_erasures: "
    "how many calls and rows, when logged, each erasure's time and reason), without which "
    "Art. 12, 26(5) and 26(6) spoke of every call's input as held; and the events "
    "stamped earlier than an event before them in the chain (retention/times_set_back: "
    "a clock set back), with six months counted from the earliest time the chain's order "
    "does not contradict (coverage_from): format 15 and earlier counted from the earliest "
    "time stamped, so an event stamped months early but written later claimed six months; "
    "and the span of the logs between the times the chain's order does not contradict "
    "(latest_uncontradicted, span_days_uncontradicted), where latest_logged and span_days "
    "are the times stamped, which a clock set forward, then back, contradicts; and the "
    "days before the report in which no event is stamped (days_unlogged_before_report), "
    "without which Art. 26(6) said that no log of the last six months was removed where "
    "the chain only shows that none between its first and last event was (an older copy "
    "of the store put back loses the logs after it with its chain intact); and the longest "
    "interval between consecutive logged times with no event stamped (longest_unlogged_from, "
    "longest_unlogged_to, longest_unlogged_days), without which a stretch of weeks with no "
    "log showed only as a low monthly count; and the same over this model's own logged "
    "calls (earliest_logged_use, latest_logged_use, days_unlogged_use_before_report, "
    "longest_unlogged_use_from, longest_unlogged_use_to, longest_unlogged_use_days), "
    "without which a store shared "
    "with another model showed no gap for a model that logged no call for months; and six "
    "months counted over this model's own logs, the events of its run (model_logs_from, "
    "model_logs_cover_six_months, model_six_months_reached_on), without which a model "
    "fitted days before the report, in a store holding another model's (or an earlier "
    "fit's) logs of six months, had six months of retention evidenced",
    17: "each model's logged calls in time, measured apart (record_keeping/calls_by_model: "
    "per run whose calls the store logs, their count, first and last, the longest interval "
    "with no call and the days with none before the report), which Art. 26(5) names where "
    "a model logged no call for a week or more: format 16 and earlier gave the monitoring "
    "of operation no gap, so a model silent for weeks in a store shared with another read "
    "as monitored throughout; and the calls whose model's steps cannot be checked "
    "against its run (calls_by_a_model_unchecked_since_fit: a run of fingerprint scheme 1 "
    "whose form did not see what a tree, a KNN or a histogram boosting model learnt), "
    "which were counted as calls by a model changed since fit",
    18: "the calls logged before the steps that cannot be checked were told apart from the "
    "changed ones (events without unchecked_since_fit) whose model's steps are named "
    "changed where its run (fingerprint scheme 1 or none) may not have been able to check "
    "them (calls_by_a_model_changed_or_unchecked_since_fit): format 17 and earlier counted "
    "them as calls by a model changed since fit, which for an unchanged tree, KNN or "
    "histogram boosting model was false",
    19: "one entry per source where its rows reached the run under several codes (an "
    "alias registered in another process, a share path spelled in another case), its "
    "codes listed (codes, codes_note) and its training rows, statistics and checks "
    "counted over all of them: format 18 and earlier listed an entry per code, each with "
    "the file's n_rows and part of its training rows (a file of 20 rows twice, with 10 "
    "training rows each), the alias's values 'not checked'",
}


def _version(report):
    """The format version of a report (or of its body)."""
    return report["report"]["format_version"]


def _without(section, keys):
    return {k: v for k, v in section.items() if k not in keys}


def _as_written(report):
    """What a report of this one's format version makes of a value it holds."""
    if report["report"]["format_version"] == 1:
        return lambda value: value
    return exact_view
