"""Logged calls found from single rows: each row of ``X`` inside any logged batch.

A salted call keeps the keyed digest of each of its input rows beside the chain
(:mod:`sktraceprop._row_digests`). :func:`row_matches` recomputes the digests of ``X``'s
rows under each call's salt (as given, then in the exact other forms
:func:`._find_exact.exact_variants` yields) and compares them with the call's, so a
person scored among 1,000 applicants is found from their own row, with the position(s)
of that row in the batch. A call whose salt is gone (erased) is found by nothing; a call
that keeps no row digests (logged unsalted, before them, or of input they could not be
computed of) cannot be searched by row, and is returned as such: the caller says so,
never a silent "not found".
"""

import numpy as np

from .._row_digests import NoRowRecord, digests_of, parse_salt, prepare_rows
from .._row_hash import hash_rows
from .._signed_zeros import SIGNED_NOTE, signed_digest, signed_zeros
from ..exceptions import CorruptStoreError
from ..stores._prediction_salts import salt_sha256
from ._find_exact import exact_variants

__all__ = ["row_matches"]


def _pairs(wanted, kept):
    """``[(row of X, [positions in the call])]`` where X's digests ``wanted`` ((m, 2))
    are among the call's ``kept`` ((n, 2))."""
    if len(wanted) <= 16:  # (a person's rows: a comparison beats isin's sort)
        hit = np.flatnonzero((kept[:, :1] == wanted[:, 0]).any(axis=1))
    else:
        hit = np.flatnonzero(np.isin(kept[:, 0], wanted[:, 0]))
    found = {}
    for p in hit:
        same = (wanted[:, 0] == kept[p, 0]) & (wanted[:, 1] == kept[p, 1])
        for i in np.flatnonzero(same):
            found.setdefault(int(i), []).append(int(p))
    return sorted(found.items())


def _prepared(frame):
    """:func:`prepare_rows` of one form of X, or None where it has no per-row record
    (:class:`~sktraceprop._row_digests.NoRowRecord`: not 1-D or 2-D, or ragged, input
    whose calls keep no row digests either). Any other error is raised: caught, it would
    report a person scored in a logged batch as not found, and erase nothing of them."""
    try:
        return prepare_rows(frame)
    except NoRowRecord:
        return None


def _signed_forms(forms):
    """The forms of ``X`` prepared with the signs of zeros kept, where ``X`` holds a -0.0:
    a call logged before -0.0 was hashed as 0.0 kept its sign (see .._signed_zeros)."""
    X = forms[0][0]
    if signed_digest(X, hash_rows(X)) is None:
        return []
    with signed_zeros():
        prepared = [(_prepared(frame), note) for frame, note in forms]
    return [(p, SIGNED_NOTE if note is None else f"{note}; {SIGNED_NOTE}") for p, note in prepared]


def _kept(event, text):
    """``(salt, digests or None)`` kept of a call, checked against its event first: a
    digest replaced, added or removed would find the call from another person's row."""
    if not isinstance(text, str) or salt_sha256(text) != event["payload"].get("salt_sha256"):
        raise CorruptStoreError(
            f"the salt of logged call {event['seq']}, or the row digests kept with it, do "
            "not match the salt_sha256 its event holds (changed outside sktraceprop): no "
            "row can be looked up in it. Audit the store with verify()."
        )
    try:
        return parse_salt(text)
    except ValueError as exc:
        raise CorruptStoreError(
            f"the row digests kept with logged call {event['seq']} are unreadable ({exc})"
        ) from exc


def row_matches(events, salts, X, orders=(), only=None, skip=()):
    """The calls among ``events`` whose batch held a row of ``X``.

    Parameters
    ----------
    events : list of dict
        Prediction and explanation events, payloads decoded.
    salts : dict
        ``{seq: salt text}`` held beside the chain.
    X : DataFrame or array-like
        The rows looked for (pandas; polars converted by the caller).
    orders : callable or list of list of str, default=()
        Column orders the runs were given (for the exact other forms of ``X``); a
        callable is asked only when a call keeps row digests.
    only : int, default=None
        Look only for this row of ``X``.
    skip : collection of int, default=()
        Seqs already matched by their whole batch.

    Returns
    -------
    matches : list of tuple
        ``(event, row of X, positions in the call's batch, note)``, by seq then row.
    without : list of int
        Seqs of the calls (not erased, not skipped) that keep no row digests.
    """
    forms = None
    matches, without = [], []
    for event in events:
        payload = event["payload"]
        if event["seq"] in skip or not isinstance(payload, dict):
            continue
        if "input_commitment" not in payload:
            if "input_sha256" in payload:
                without.append(event["seq"])  # unsalted: its batch digest only
            continue
        text = salts.get(event["seq"])
        if text is None:
            continue  # erased
        salt, kept = _kept(event, text)
        if kept is None:
            without.append(event["seq"])
            continue
        if forms is None:  # built once, when a call with row digests is met
            orders = orders() if callable(orders) else orders
            forms = [(X, None)] + [(f, note) for f, note, _ in exact_variants(X, orders)]
            forms = [(_prepared(frame), note) for frame, note in forms] + _signed_forms(forms)
        for prepared, note in forms:
            if prepared is None:
                continue
            wanted = digests_of(prepared, salt)
            if only is not None:
                wanted = wanted[only : only + 1]
            pairs = _pairs(wanted, kept)
            if pairs:
                for i, positions in pairs:
                    i = i if only is None else only
                    matches.append((event, i, positions, note))
                break
    return matches, without
