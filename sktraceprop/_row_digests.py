"""Keyed digests of each input row of a logged call: a person found from their own row.

A logged call commits to :func:`~sktraceprop.compliance.hash_rows` of its whole batch,
so a person scored among 1,000 applicants could not be found from their own row. Each
salted call (see :mod:`.stores._prediction_salts`) therefore also keeps one 128-bit
digest per input row, in batch order, **keyed by the call's salt**:
``key = SHA-256("sktraceprop-rows-1\\n" + salt + "\\n" + header)[:16]``, where the header
is the number of columns and each column's name and kind, and the row's digest is
SipHash-2-4-128 (:mod:`._siphash`) of its fixed-width record under that key. The digests
are kept with the salt, beside the chain, in the same erasable row (the salts table:
``salt + ":r1:" + base64(digests)``; see :func:`salt_text`): erasing the call deletes
them with the salt, and the store's files are wiped of them. Nothing in the chain holds
them in plain form: the event's ``salt_sha256`` is the SHA-256 of that whole text, so
``verify()`` finds a digest replaced, added or removed (which could hide a person's call,
or frame another person) as it finds a replaced salt. A store of schema version 4 keeps
them without a schema change, and sktraceprop releases from before them read the text as
an opaque salt: they still find, erase and verify the calls by batch.

Granularity: the event's commitment covers the whole batch, and one salt keys all of a
call's digests, so erasing one person's row erases the whole call (every row of the batch
becomes unfindable). Per-row salts would let one row be erased alone, but the rest of the
batch would stay findable by its batch digest only if that digest were kept too, and the
outputs of the call (under the chain) are the batch's: a finer erasure would leave the
person's output in the log, tied to the call the other rows still find. The whole call
goes, and the erasure's result says which calls went for a row of the batch only.

A row's record does not depend on the batch it is in, nor on how it is stored, as
:func:`~sktraceprop.compliance.hash_rows` does not: per column, a 2-bit code (0 value, 1
missing, 2 an unsigned integer at or above ``2**63``, 3 a non-text object) packed 32 to a
word, then its value: integers (any width, nullable or categorical) as int64, floats as
float64 (-0.0 as 0.0, see :mod:`._signed_zeros`), booleans as 0 or 1, datetimes as
nanoseconds since the epoch in UTC (an instant int64 nanoseconds cannot hold is refused:
see :mod:`._datetime_ns`), text
(``object``, ``str``, pyarrow strings, categories of text) as SipHash-2-4-128 of its
UTF-8 bytes under the same key (a non-text object as the text of its type name and
``str()``); a sparse row as SipHash-2-4-128 of its sorted column indices and values. The
column kinds come from the dtypes, never from the values, so a row hashes alike alone or
among others. An integer and a float column differ (``44`` and ``44.0``), as for
``hash_rows``; a polars frame hashes as the pandas frame of its names and values.

SipHash is a pseudorandom function of a secret key; whoever reads the salts (the store's
readers) knows the keys, and the digests are a lookup index there, not a proof: what an
auditor relies on is the commitment under the chain.
"""

import base64
import hashlib
import os
import threading

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._frame_columns import column_arrays
from ._polars_frame import as_pandas, is_polars
from ._row_words import _array_column_words, _column_words, _Texts
from ._signed_zeros import hashed_floats

__all__ = [
    "digests_of",
    "parse_salt",
    "prepare_rows",
    "row_digests",
    "salt_text",
    "NoRowRecord",
]

_VERSION = "r1"
_U8 = np.dtype("<u8")


class NoRowRecord(ValueError):
    """The input has no per-row record (not 1-D or 2-D, or ragged): its rows have no
    digests, and a call of it is found by its whole batch only."""


def _key(salt, header):
    digest = hashlib.sha256(f"sktraceprop-rows-1\n{salt}\n{header}".encode()).digest()
    k0, k1 = np.frombuffer(digest[:16], _U8)
    return k0, k1


def _columns(X):
    """``(names, [(dtype, values)])`` of ``X`` as :func:`hash_rows` reads it, or a CSR
    matrix for sparse input."""
    if is_polars(X):
        X = as_pandas(X)
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns], list(column_arrays(X))
    if sp.issparse(X):
        csr = sp.csr_matrix(X, copy=True)
        csr.sum_duplicates()
        csr.sort_indices()
        return None, csr
    try:
        values = np.asarray(X)
    except ValueError as exc:  # ragged nested sequences: no rows of one width
        raise NoRowRecord(f"row digests need rows of one width: {exc}") from exc
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise NoRowRecord(f"row digests need 1-D or 2-D input, got shape {values.shape}")
    return [""] * values.shape[1], [(None, values[:, j]) for j in range(values.shape[1])]


def _sparse_digests(salt, csr):
    from ._siphash import sip128_bytes

    k0, k1 = _key(salt, f"sparse\n{csr.shape[1]}")
    n = csr.shape[0]
    pairs = np.empty((csr.nnz, 2), _U8)
    pairs[:, 0] = csr.indices.astype(np.int64).astype(_U8)
    pairs[:, 1] = hashed_floats(csr.data).view(_U8)
    offsets = csr.indptr.astype(np.int64) * 16
    out = sip128_bytes(k0, k1, pairs.view(np.uint8).reshape(-1), offsets)
    return out if n else np.empty((0, 2), _U8)


def prepare_rows(X):
    """What the digests of ``X``'s rows are made of, under any salt (a copy of its values:
    ``X`` may change after): ``(n_rows, names, parts)``, each part ``(codes, values,
    tag)``, or ``(n_rows, None, csr)`` for sparse input."""
    names, columns = _columns(X)
    if names is None:
        return columns.shape[0], None, columns
    parts = []
    for dtype, values in columns:
        if dtype is None:
            parts.append(_array_column_words(values))
        else:
            parts.append(_column_words(dtype, values))
    n = len(columns[0][1]) if columns else int(np.shape(X)[0])
    return n, names, parts


def _text_bytes(texts, n):
    """The UTF-8 bytes of all text columns in one array, and each column's offsets into
    it (``(len(texts), n + 1)`` int64)."""
    offsets = np.zeros((len(texts), n + 1), np.int64)
    chunks, at = [], 0
    for c, (data, lengths, _) in enumerate(texts):
        np.cumsum(lengths, out=offsets[c, 1:])
        size = int(offsets[c, -1])
        offsets[c] += at
        chunks.append(data[:size])
        at += size
    if len(chunks) == 1:
        return chunks[0], offsets
    return (np.concatenate(chunks) if chunks else np.zeros(0, np.uint8)), offsets


def _layout(n, parts):
    """The rows' records with their text words left to the kernel: ``(records, data,
    offsets, columns, slots)`` for :func:`~._siphash.sip128_records` (a fresh array:
    the kernel writes into it)."""
    n_flags = (len(parts) + 31) // 32
    widths = [2 if isinstance(v, _Texts) else v.shape[1] for _, v, _ in parts]
    records = np.zeros((n, n_flags + sum(widths)), _U8)
    texts, columns, slots = [], [], []
    at = n_flags
    for j, ((codes, values, _), width) in enumerate(zip(parts, widths)):
        if codes.any():
            records[:, j // 32] |= codes << np.uint64(2 * (j % 32))
        if isinstance(values, _Texts):
            texts.append(values)
            columns.append(j)
            slots.append(at)
        else:
            records[:, at : at + width] = values
        at += width
    data, offsets = _text_bytes(texts, n)
    return (
        records,
        data,
        offsets,
        np.array(columns, np.int64),
        np.array(slots, np.int64),
    )


def _keyed(prepared, salt):
    """``(keys, layout)`` of prepared rows under ``salt`` (:func:`_finish` hashes them),
    or ``(None, digests)`` for sparse input, hashed at once."""
    n, names, parts = prepared
    if names is None:
        return None, _sparse_digests(salt, parts)
    t0, t1 = _key(salt, "text")  # text values: hashed under a key of the salt alone
    # the key of the records covers the column names and kinds
    header = [str(len(names))]
    header += [f"{len(name)}:{name}:{tag}" for name, (_, _, tag) in zip(names, parts)]
    k0, k1 = _key(salt, "\n".join(header))
    return (t0, t1, k0, k1), _layout(n, parts)


def digests_of(prepared, salt):
    """:func:`row_digests` of rows prepared by :func:`prepare_rows` (prepared once, the
    digests of any number of calls' salts)."""
    return _finish(*_keyed(prepared, salt))


def _records(X, salt):
    return _keyed(prepare_rows(X), salt)


def _finish(keys, layout):
    from ._siphash import sip128_records

    return layout if keys is None else sip128_records(*keys, *layout)


def row_digests(X, salt):
    """The keyed digest of each row of ``X`` under ``salt``: ``(n_rows, 2)`` uint64 (the
    two halves of SipHash-2-4-128 of each row's record; see the module docstring)."""
    return _finish(*_records(X, salt))


#: The process whose helper thread has been asked to load the kernels (:func:`warm_up`).
_WARMED_IN = None
#: The process in which the kernels are loaded (:func:`load_kernels`).
_LOADED_IN = None
_LOAD_LOCK = threading.Lock()
#: The kernels' dispatchers (their names in :mod:`._siphash`).
KERNELS = ("sip128_bytes", "sip128_records", "sip128_table")


def warm_up():
    """Load the digest kernels (numba: read from its cache) on the row hash's helper
    thread, so that a model's first logged call does not wait for them (about 0.5 s with
    numba's cache). Called when a model that logs its calls is fitted; once per process.
    Returns the loading's future (None where it was asked before, no thread can start,
    or a kernel is not in numba's cache), of :func:`~._thread_compiles.attempt`'s
    outcome: ``(False, None)`` where the thread was refused a compile after all.

    Only *loading* runs on the thread: compiling runs numba's compiler, which wraps its
    work in ``warnings.catch_warnings``, process-wide state: a compile on the thread
    while the program (or the fit that called this) records warnings in its own
    ``catch_warnings`` block undoes that block's handler when it ends, and warnings
    raised meanwhile (a ``LineageWarning`` of that very fit) go unrecorded. A kernel
    not cached (a fresh install, a changed library) is compiled by the first logged call,
    in its own thread (:func:`load_kernels`)."""
    global _WARMED_IN
    if _WARMED_IN == os.getpid():
        return None
    _WARMED_IN = os.getpid()
    if not _all_cached():
        return None
    from ._row_hash_start import _executor
    from ._thread_compiles import attempt, prepare

    prepare()

    try:
        return _executor().submit(attempt, load_kernels)  # refused any compile there
    except RuntimeError:  # the interpreter is shutting down: no new threads
        return None


def _all_cached():
    """Whether numba's cache holds both specialisations :func:`_load_kernels` makes of
    every kernel (writable and read-only bytes), so that loading them compiles nothing."""
    from . import _siphash

    try:
        return all(
            len(getattr(_siphash, name)._cache._cache_file._load_index()) >= 2 for name in KERNELS
        )
    except Exception:  # noqa: BLE001 - numba's private layout changed: do not warm
        return False


def load_kernels():
    """Load (or compile, the first time) the digest kernels for the argument types the
    logged calls give them, in the calling thread; once per process. Called by a call
    before it hands hashing to the helper thread, which then never compiles (see
    :func:`warm_up`: a compile there can lose the program's recorded warnings)."""
    global _LOADED_IN
    if _LOADED_IN == os.getpid():
        return
    with _LOAD_LOCK:
        if _LOADED_IN != os.getpid():
            _load_kernels()
            _LOADED_IN = os.getpid()


def _load_kernels():
    """Each kernel for the argument types calls give it: numba compiles one
    specialisation per type, and bytes may be read-only (text from a buffer that is not
    the process's own, e.g. pandas 2's), a type of their own."""
    from ._siphash import sip128_bytes, sip128_records, sip128_table

    key = np.uint64(0)
    none = np.zeros(0, np.int64)
    writable = np.zeros(8, np.uint8)
    read_only = np.zeros(8, np.uint8)
    read_only.flags.writeable = False
    for data in (writable, read_only):
        records = np.zeros((1, 1), _U8)
        sip128_records(key, key, key, key, records, data, np.zeros((0, 2), np.int64), none, none)
        sip128_table(key, key, key, key, data, 0, none, none, none, none, none)
        sip128_bytes(key, key, data, np.array([0, 8], np.int64))


def salt_text(salt, digests):
    """What the salts table keeps of a call: its salt and its rows' digests."""
    raw = np.ascontiguousarray(digests, dtype=_U8).tobytes()
    return f"{salt}:{_VERSION}:{base64.b64encode(raw).decode('ascii')}"


def parse_salt(text):
    """``(salt, digests)`` of what the salts table keeps of a call; ``digests`` is None
    for a call logged without them (before them, or input they could not be computed of)."""
    salt, sep, rest = text.partition(":")
    if not sep:
        return text, None
    version, sep, data = rest.partition(":")
    if version != _VERSION or not sep:
        raise ValueError(f"unknown row digest format {version!r}")
    raw = base64.b64decode(data.encode("ascii"), validate=True)
    if len(raw) % 16:
        raise ValueError("row digests are not whole 16-byte digests")
    return salt, np.frombuffer(raw, _U8).reshape(-1, 2)
