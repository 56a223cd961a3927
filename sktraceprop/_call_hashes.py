"""What a logged call hashes of its input rows, started before the model answers.

A logged call keeps the SHA-256 of its input rows (:func:`~._row_hash.hash_rows`) and,
where the store salts, the keyed digest of each row (:mod:`._row_digests`) in a salt
text that the event's commitments hash. For the common input of ``predict`` (a frame of
numpy numbers and pyarrow strings, or numbers alone: :mod:`._row_hash_frames`), the
caller takes a snapshot of the rows (:func:`~._row_hash_frames.frame_parts`: the numbers
copied, the text's immutable pyarrow buffers referenced) and hands one task to the row
hash's helper thread, done while the model predicts: the pieces put into one buffer,
its SHA-256 (one ``update``, without the GIL from start to end), the rows' digests read
from it by one kernel (:func:`~._siphash.sip128_table`, without the GIL), their salt
text and its two SHA-256 passes (:class:`~.stores._prediction_salts.SaltHashes`). It
gives back exactly what :func:`~._row_hash_start.start_hash_rows` and
:func:`~._prediction_log.start_salt` would (the tests compare them); any other input
takes those two (the latter through :func:`start_salt_hashes`: the rows' records made
by the caller, hashed on the helper). If the helper has not started the task when the
model has answered, the caller does it rather than wait. (Two tasks, the caller taking
the one the helper had not come to, measured no faster, and took more code.)
"""

import threading

from . import _row_hash_start
from ._row_digests import _finish, _key, _records, load_kernels, salt_text
from ._row_hash_start import _executor, start_hash_rows
from ._thread_compiles import attempt, prepare
from ._thread_compiles import result as redone
from .stores._prediction_salts import SaltHashes, new_salt

__all__ = ["start_call_hashes", "start_salt_hashes", "start_salt_text", "table_digests"]


def table_digests(n, layout, salt):
    """:func:`~._row_digests.row_digests` of ``n`` rows from their ``hash_rows`` bytes and table
    (:func:`~._row_hash_frames.frame_layout`), in one pass of a kernel without the GIL."""
    from ._row_hash_frames import DIGEST_TAGS
    from ._siphash import sip128_table

    data, (names, kinds, at, body, missing_at, counts) = layout
    header = [str(len(names))]
    header += [f"{len(name)}:{name}:{DIGEST_TAGS[k]}" for name, k in zip(names, kinds)]
    t0, t1 = _key(salt, "text")
    k0, k1 = _key(salt, "\n".join(header))
    return sip128_table(t0, t1, k0, k1, data, n, kinds, at, body, missing_at, counts)


#: Records of at least this many bytes are hashed on the row hash's helper thread.
_HELPER_MIN = 1 << 16


def start_salt_text(X, salt):
    """Start the digests of ``X``'s rows as they are now; call the result for
    :func:`~._row_digests.salt_text` (see :func:`start_salt_hashes`)."""
    started = start_salt_hashes(X, salt)
    return lambda: started().text


def _salt_hashes(salt, keys, layout):
    return SaltHashes(salt_text(salt, _finish(keys, layout)))


def start_salt_hashes(X, salt):
    """Start the digests of ``X``'s rows as they are now (any input
    :func:`~._row_digests.row_digests` takes); call the result for the
    :class:`~.stores._prediction_salts.SaltHashes` of their
    :func:`~._row_digests.salt_text`. The records are made here (a copy; text as its
    UTF-8 bytes); large ones are hashed, kept as text and that text hashed for the
    event, all on the helper thread of :func:`~._row_hash_start.start_hash_rows` while the
    model predicts (the kernel and ``hashlib`` release the GIL), or by the caller if it
    has not started."""
    keys, layout = _records(X, salt)
    load_kernels()  # here: the helper thread must never compile (a compile there loses warnings)
    if keys is None or layout[0].nbytes + layout[1].nbytes < _HELPER_MIN:
        hashes = _salt_hashes(salt, keys, layout)
        return lambda: hashes
    try:
        prepare()
        future = _executor().submit(attempt, _salt_hashes, salt, keys, layout)
    except RuntimeError:  # the interpreter is shutting down: no new threads
        return lambda: _salt_hashes(salt, keys, layout)

    def result():
        if future.cancel():
            return _salt_hashes(salt, keys, layout)
        return redone(future.result(), _salt_hashes, salt, keys, layout)

    return result


def _parts(X):
    """:func:`~._row_hash_frames.frame_parts` of ``X`` if it is such a frame of at most
    64 MiB (its numbers at 8 bytes a cell), else None."""
    from ._row_hash_frames import frame_parts

    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 2 or 8 * shape[0] * shape[1] > _row_hash_start._SNAPSHOT_MAX:
        return None
    try:
        parts = frame_parts(X)
    except Exception:  # noqa: BLE001 (whatever hash_rows makes of it is said by it)
        return None
    return parts if parts is not None and parts[1] <= _row_hash_start._SNAPSHOT_MAX else None


def _hashes(n, parts, salt):
    """``(input SHA-256, SaltHashes)`` of the snapshot ``parts``: its pieces put into one
    buffer, hashed by one ``update`` (which releases the GIL from start to end), and the
    rows' digests read from that buffer by one kernel."""
    from ._row_hash_frames import assemble

    pieces, size, table = parts
    layout = (assemble(pieces, size), table)
    digests = table_digests(n, layout, salt)
    return _row_hash_start._digest(layout[0]), SaltHashes(salt_text(salt, digests))


class _Once:
    """One task's result, asked for by two callables: computed by the helper, or by the
    caller where the helper has not started it when asked (sooner than waiting), once;
    redone by the caller where the helper was refused a numba compile."""

    def __init__(self, task):
        self._task = task
        self._future = None
        self._lock = threading.Lock()
        self._value = None

    def start(self):
        try:
            prepare()  # (in the caller: the helper must not import numba)
            self._future = _executor().submit(attempt, self._task)
        except RuntimeError:  # the interpreter is shutting down: no new threads
            self._future = None

    def __call__(self):
        with self._lock:
            if self._value is None:
                future = self._future
                if future is None or future.cancel():
                    self._value = self._task()
                else:  # redone here if the helper was refused a compile
                    self._value = redone(future.result(), self._task)
            return self._value


def start_call_hashes(store, X):
    """``(input_sha256, salt)`` for :func:`~._prediction_log.log_call`, taken from ``X``
    as it is now (a step may modify it in place while the model predicts):
    ``input_sha256`` a callable returning ``hash_rows(X)``; ``salt`` what
    :func:`~._prediction_log.start_salt` returns (None where the store does not salt).

    One task goes to the helper (:class:`_Once`): the rows' SHA-256, their digests and
    their salt text's hashes, done by the caller if the helper has not started it when
    ``log_call`` asks for either.
    """
    from ._prediction_log import start_salt

    parts = _parts(X) if store._salting() else None
    if parts is None:
        return start_hash_rows(X), start_salt(store, X)
    n, salt = int(X.shape[0]), new_salt()
    load_kernels()  # here: the helper thread must never compile (a compile there loses warnings)
    once = _Once(lambda: _hashes(n, parts, salt))
    if parts[1] >= _row_hash_start._SNAPSHOT_MIN:
        once.start()
    return (lambda: once()[0]), (lambda: once()[1])
