"""The retention keys format 16 added one after another (without a new format number),
checked against the store: which a report may lack, and which it must hold."""

from ._report_formats import (
    _RETENTION_END_KEYS_16,
    _RETENTION_GAP_KEYS_16,
    _RETENTION_KEYS_16,
    _RETENTION_MODEL_KEYS_16,
    _RETENTION_SPAN_KEYS_16,
    _RETENTION_USE_KEYS_16,
)

#: Keys a report of format 16 must hold where its store is given: a report without them
#: says more than its store shows (without days_unlogged_before_report, Art. 26(6) says
#: no log of the last six months was removed; without the *_logged_use keys it leaves out
#: that a restored backup hides erasures; without the model_* keys it may claim six
#: months of retention for a model fitted days before), and with them removed and the
#: report re-hashed nothing but the store shows they were there.
REQUIRED_16 = (
    *_RETENTION_END_KEYS_16,
    *_RETENTION_GAP_KEYS_16,
    *_RETENTION_USE_KEYS_16,
    *_RETENTION_MODEL_KEYS_16,
)


def missing_retention_keys(report):
    """The keys of :data:`REQUIRED_16` a report of format 16 or later lacks (empty for older
    formats, and where the report has no retention section to look in)."""
    retention = report.get("retention")
    if report["report"]["format_version"] < 16 or not isinstance(retention, dict):
        return []
    return [key for key in REQUIRED_16 if key not in retention]


def required_problems(kept, rebuilt):
    """Each key of :data:`REQUIRED_16` the report (``kept``) lacks, named with what the
    store's log up to its chain head makes it; removed from ``rebuilt`` so that it is
    named once."""
    problems = []
    for key in REQUIRED_16:
        if key in rebuilt and key not in kept:
            problems.append(
                f"/retention/{key} is missing; by the store's log up to the chain head it is "
                f"{rebuilt.pop(key)!r}: a report of format 16 holds it, so it was removed "
                "after the report was made (or the report was made by a development "
                "snapshot of sktraceprop from before it was kept, which says less than its "
                "store shows)"
            )
    return problems


def set_back_problems(kept, rebuilt):
    """A report of format 16 made before it said what the chain's order shows of its
    times holds none of it: right where the store shows no time set back up to its head
    (else its missing account is named). ``rebuilt`` loses those keys where ``kept``
    lacks them, so that the rest is compared as written.

    Only these keys may be missing: where no time is set back, the statements made
    without them are those made with them (they speak of contradicted times only)."""
    if "times_set_back" not in rebuilt:
        return []
    if "times_set_back" in kept:
        # made before the span of uncontradicted times was said: right where no time is
        # set back (the stamped span is then the span shown)
        missing = [k for k in _RETENTION_SPAN_KEYS_16 if k not in kept]
        for key in missing:
            del rebuilt[key]
        if not missing or not rebuilt["times_set_back"]:
            return []
        return [
            f"/retention/{missing[0]} is missing, and the store's chain holds events stamped "
            "earlier than an event before them up to the report's chain head: the report "
            "states the span of stamped times only, which the chain's order contradicts"
        ]
    missing = [k for k in _RETENTION_KEYS_16 + _RETENTION_SPAN_KEYS_16 if k not in kept]
    set_back = rebuilt["times_set_back"]
    for key in missing:
        del rebuilt[key]
    if not set_back:
        return []
    return [
        f"/retention/times_set_back is missing, and the store's chain holds events stamped "
        f"earlier than an event before them up to the report's chain head ({len(set_back)}, "
        f"the first event {set_back[0]['seq']}): the report does not account for them"
    ]
