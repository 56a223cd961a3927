"""Sealed run records: what a stored run holds of its training data, erasable under the chain.

A run's record names things only its training rows produced (one-hot categories among
the feature names, a class only some rows had in the per-source statistics, the sums of
their sample weights). The hash chain must not change once written, yet such values must
be erasable once the rows they came from are removed (an erasure request, an unlearning).

So a stored run's record is *sealed*: each such value (a *leaf*) is taken out of the
record and replaced there by a token, and the record keeps, for each leaf, a commitment:
``SHA-256("sktraceprop-leaf-1\\n" + salt + "\\n" + canonical JSON of the value)``, with a
random 128-bit salt per leaf (so a short value, a category name, cannot be found by
trying candidates). The record with its commitments is what the run's digest in the
hash chain covers; the values and their salts are kept beside it. Erasing a leaf
deletes its value and salt and appends a ``store.redaction`` event naming the run and
the leaf numbers (never the values) and why: the chain and every other leaf still
verify, and the erased value cannot be recovered from what remains.

Leaves: every feature and column name (``ops[*].features_in/out``, the keys and
columns of ``feature_lineage``, the columns of ``source_stats``, the columns of
``renamed_columns`` and the loaded columns they were identified as, the columns of
``changed_columns`` and of ``attached_columns``: one leaf per distinct name; a model
fitted on one-hot columns made outside the pipeline has category names there), every
note, each source's record in ``source_stats`` (``sources`` and ``through_merges``; its
``code`` and ``source_id`` stay in the record) and each fit parameter's record in ``fit_params``.
"""

import hashlib
import json
import os
from json.encoder import encode_basestring_ascii

from ._chain import canonical_json

#: The audit event that erases leaves of a run (the store's own kind).
REDACTION_EVENT = "store.redaction"
#: Marks the format of a sealed record (``record["sealed"]["format"]``).
SEALED_FORMAT = 1
#: A token standing for a leaf in a sealed record: this prefix, then the leaf's number.
TOKEN = "\x00stp-leaf:"
#: How a record loaded from a store shows an erased name (with its leaf number).
REDACTED_NAME = "<redacted name "
_STATS_KEYS = ("sources", "through_merges")
_IDENTITY = ("code", "source_id")


def _text(value):
    """A value's canonical JSON (a string's, by the C encoder json.dumps uses)."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    return canonical_json(value)


def _value(text):
    """The value of a leaf's canonical JSON text (a string without escapes directly)."""
    if text[:1] == '"' and "\\" not in text:
        return text[1:-1]
    return json.loads(text)


def commitment(salt, value_text):
    """The commitment to a leaf's canonical JSON text under its salt (hex)."""
    body = f"sktraceprop-leaf-1\n{salt}\n{value_text}"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def is_sealed(record):
    return isinstance(record, dict) and "sealed" in record


def seal(record):
    """``(sealed record, leaves)`` of a run's record (``Lineage.to_dict()``).

    ``leaves`` is a list of ``(number, value_text, salt)``, numbered from 0 as their
    commitments are listed in ``sealed record["sealed"]["commitments"]``.

    Raises
    ------
    ValueError
        If a string of the record already starts with the token prefix (nothing could
        tell it from a token).
    """
    # copies of the parts replaced below (the rest is written as it is)
    out = dict(record)
    out["ops"] = [dict(op) for op in record.get("ops", ())]
    if isinstance(record.get("source_stats"), dict):
        out["source_stats"] = dict(record["source_stats"])
    texts, tokens = [], {}  # a leaf's value text; a name's token

    def leaf(value):
        if isinstance(value, str) and value.startswith(TOKEN):
            raise ValueError(
                f"the run's record holds {value!r}, which reads as a sealed leaf's token"
            )
        texts.append(_text(value))
        return f"{TOKEN}{len(texts) - 1}"

    def name(value):
        key = value if isinstance(value, str) else _text(value)
        token = tokens.get(key)
        if token is None:
            token = tokens[key] = leaf(value)
        return token

    for op in out.get("ops", ()):
        for key in ("features_in", "features_out"):
            op[key] = [name(v) for v in op.get(key) or ()]
    lineage = out.get("feature_lineage")
    if isinstance(lineage, dict):
        out["feature_lineage"] = {
            name(k): None if v is None else [name(c) for c in v] for k, v in lineage.items()
        }
    renamed = out.get("renamed_columns")
    if isinstance(renamed, dict):
        out["renamed_columns"] = {
            name(k): [[code, name(loaded)] for code, loaded in pairs]
            for k, pairs in renamed.items()
        }
    if isinstance(out.get("changed_columns"), list):
        out["changed_columns"] = [_changed_names(e, name) for e in out["changed_columns"]]
    if isinstance(out.get("attached_columns"), list):
        out["attached_columns"] = [_changed_names(e, name) for e in out["attached_columns"]]
    out["notes"] = [leaf(n) for n in out.get("notes", ())]
    stats = out.get("source_stats") or {}
    if stats.get("columns") is not None:
        stats["columns"] = [name(c) for c in stats["columns"]]
    for key in _STATS_KEYS:
        if key in stats:
            stats[key] = [_seal_stats(entry, leaf) for entry in stats[key]]
    params = out.get("fit_params")
    if params:
        out["fit_params"] = {k: leaf(v) for k, v in params.items()}
    salts = os.urandom(16 * len(texts)).hex()  # one draw: 128 random bits per leaf
    leaves = [(n, text, salts[32 * n : 32 * n + 32]) for n, text in enumerate(texts)]
    out["sealed"] = {
        "format": SEALED_FORMAT,
        "commitments": [commitment(salt, text) for _, text, salt in leaves],
    }
    return out, leaves


def _changed_names(entry, name):
    """An entry of ``changed_columns`` with its column names replaced by ``name(...)``."""
    return {k: name(v) if k in ("column", "input_column") else v for k, v in entry.items()}


def _seal_stats(entry, leaf):
    kept = {k: entry[k] for k in _IDENTITY if k in entry}
    kept["leaf"] = leaf({k: v for k, v in entry.items() if k not in _IDENTITY})
    return kept


def unseal(sealed, values, redacted):
    """The run's record from its sealed record.

    Parameters
    ----------
    sealed : dict
        The sealed record, as stored.
    values : dict of int to (str, str)
        Leaf number -> ``(value_text, salt)`` of the leaves still held.
    redacted : dict of int to dict
        Leaf number -> ``{"event_seq", "reason"}`` of the ``store.redaction`` events
        that erased it.

    Returns
    -------
    record : dict
        With each erased leaf replaced by a placeholder saying so: a feature name by
        ``"<redacted feature N>"``, a note by ``"<redacted note N: ...>"``, a source's
        statistics and a fit parameter by ``{"redacted": {"event_seq", "reason"}}``.
    problems : list of str
        A value that no longer matches its commitment, a leaf gone without a redaction
        event, a leaf held after one erased it, a leaf the record does not have.
    """
    commitments = sealed["sealed"]["commitments"]
    problems = []
    for n in sorted(set(values) | set(redacted)):
        if not isinstance(n, int) or not 0 <= n < len(commitments):
            problems.append(f"holds leaf {n!r}, which its record does not have")
    resolved = {}
    for n, digest in enumerate(commitments):
        if n in values:
            text, salt = values[n]
            if n in redacted:
                problems.append(
                    f"leaf {n} was erased by audit event {redacted[n]['event_seq']} but is "
                    "held again: written back outside sktraceprop"
                )
            if commitment(salt, text) != digest:
                problems.append(
                    f"leaf {n} does not match its commitment: altered after it was stored"
                )
                continue
            resolved[n] = ("value", _value(text))
        elif n in redacted:
            resolved[n] = ("redacted", redacted[n])
        else:
            problems.append(
                f"leaf {n} is gone without a store.redaction event: deleted outside sktraceprop"
            )
            resolved[n] = ("redacted", {"event_seq": None, "reason": "deleted, not redacted"})
    if problems:
        return None, problems
    return _fill(sealed, resolved), []


def as_redacted(record, sealed, redacted):
    """``record`` (a run's record as its fit made it) as a store shows it now: with the
    placeholders of the leaves erased from ``sealed`` (the stored sealed record). None
    if ``record`` does not have the stored record's layout (another record)."""
    mine, leaves = seal(record)
    if {k: v for k, v in mine.items() if k != "sealed"} != {
        k: v for k, v in sealed.items() if k != "sealed"
    } or len(leaves) != len(sealed["sealed"]["commitments"]):
        return None
    resolved = {
        n: ("redacted", redacted[n]) if n in redacted else ("value", _value(text))
        for n, text, _ in leaves
    }
    return _fill(sealed, resolved)


def _fill(sealed, resolved):
    """The sealed record (read from its text: its objects are reused) with each leaf
    ``n`` replaced by ``resolved[n]``: ``("value", value)`` or ``("redacted",
    {"event_seq", "reason"})``."""
    record = {k: v for k, v in sealed.items() if k != "sealed"}

    names = {}
    for n, (kind, value) in resolved.items():
        names[f"{TOKEN}{n}"] = value if kind == "value" else f"{REDACTED_NAME}{n}>"

    def number(token):
        if isinstance(token, str) and token.startswith(TOKEN):
            n = int(token[len(TOKEN) :])
            if n in resolved:
                return n
        raise ValueError(f"{token!r} is not a leaf of this record")

    def name(token):
        try:
            return names[token]
        except (KeyError, TypeError):
            raise ValueError(f"{token!r} is not a leaf of this record") from None

    def whole(token, placeholder):
        n = number(token)
        kind, value = resolved[n]
        return value if kind == "value" else placeholder(n, value)

    for op in record.get("ops", ()):
        for key in ("features_in", "features_out"):
            op[key] = [name(t) for t in op.get(key) or ()]
    if isinstance(record.get("feature_lineage"), dict):
        record["feature_lineage"] = {
            name(k): None if v is None else [name(c) for c in v]
            for k, v in record["feature_lineage"].items()
        }
    if isinstance(record.get("renamed_columns"), dict):
        record["renamed_columns"] = {
            name(k): [[code, name(loaded)] for code, loaded in pairs]
            for k, pairs in record["renamed_columns"].items()
        }
    if isinstance(record.get("changed_columns"), list):
        record["changed_columns"] = [_changed_names(e, name) for e in record["changed_columns"]]
    if isinstance(record.get("attached_columns"), list):
        record["attached_columns"] = [_changed_names(e, name) for e in record["attached_columns"]]
    record["notes"] = [
        whole(t, lambda n, by: f"<redacted note {n}: erased by audit event {by['event_seq']}>")
        for t in record.get("notes", ())
    ]
    stats = record.get("source_stats") or {}
    if stats.get("columns") is not None:
        stats["columns"] = [name(c) for c in stats["columns"]]
    for key in _STATS_KEYS:
        if key in stats:
            stats[key] = [
                {
                    **{k: e[k] for k in _IDENTITY if k in e},
                    **whole(e["leaf"], lambda n, by: {"redacted": dict(by)}),
                }
                for e in stats[key]
            ]
    if record.get("fit_params"):
        record["fit_params"] = {
            k: whole(t, lambda n, by: {"redacted": dict(by)})
            for k, t in record["fit_params"].items()
        }
    return record


def _inner_names(name):
    """``"a__b__c"`` -> ``["b__c", "c"]``: the names a prefixed feature had before."""
    parts = str(name).split("__")
    return ["__".join(parts[i:]) for i in range(1, len(parts)) if parts[i]]


def _number(token):
    return int(token[len(TOKEN) :])


def leaves_of(sealed, values, *, features=(), sources=(), fit_params=(), notes_with=()):
    """The leaves holding the named values (only those still held).

    ``features``: feature or column names (with the names a ColumnTransformer's prefix
    was added to: ``"onehotencoder__city_Zed"`` also erases ``"city_Zed"``);
    ``sources``: source ids whose statistics; ``fit_params``: parameter names;
    ``notes_with``: strings whose notes (any note containing one) go too.

    Returns
    -------
    found : dict of str to list of int
        Leaf numbers by kind (``names``, ``source_statistics``, ``fit_params``,
        ``notes``).
    unknown : dict of str to list of str
        By kind, the names the record does not hold (or no longer: erased already).
    """
    names = set()
    for op in sealed.get("ops", ()):
        for key in ("features_in", "features_out"):
            names.update(op.get(key) or ())
    for key, columns in (sealed.get("feature_lineage") or {}).items():
        names.add(key)
        names.update(columns or ())
    names.update((sealed.get("source_stats") or {}).get("columns") or ())
    for key, pairs in (sealed.get("renamed_columns") or {}).items():
        names.add(key)
        names.update(loaded for _, loaded in pairs)
    for entry in sealed.get("changed_columns") or ():
        names.update(entry[k] for k in ("column", "input_column") if k in entry)
    for entry in sealed.get("attached_columns") or ():
        names.update(entry[k] for k in ("column", "input_column") if k in entry)
    held = {}
    for token in names:
        n = _number(token)
        if n in values:
            held[json.loads(values[n][0])] = n
    found = {"names": set(), "source_statistics": set(), "fit_params": set(), "notes": set()}
    unknown = {"features": [], "sources": [], "fit_params": []}
    for f in features:
        if f not in held:
            unknown["features"].append(f)
            continue
        found["names"].add(held[f])
        # the same feature at the steps before a ColumnTransformer named it
        # ("onehotencoder__city_Zed" was "city_Zed" at the encoder)
        for inner in _inner_names(f):
            if inner in held:
                found["names"].add(held[inner])
    stats = sealed.get("source_stats") or {}
    for s in sources:
        hits = [
            _number(e["leaf"])
            for key in _STATS_KEYS
            for e in stats.get(key, ())
            if e.get("source_id") == s and _number(e["leaf"]) in values
        ]
        found["source_statistics"].update(hits)
        if not hits:
            unknown["sources"].append(s)
    params = sealed.get("fit_params") or {}
    for p in fit_params:
        if p in params and _number(params[p]) in values:
            found["fit_params"].add(_number(params[p]))
        else:
            unknown["fit_params"].append(p)
    words = [w for f in notes_with for w in (f, *_inner_names(f))]
    for token in sealed.get("notes", ()):
        n = _number(token)
        if n in values and any(w in json.loads(values[n][0]) for w in words):
            found["notes"].add(n)
    return {k: sorted(v) for k, v in found.items()}, {k: v for k, v in unknown.items() if v}
