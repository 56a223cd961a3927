"""What a logged call hashes of its input rows, started before the model answers.

A logged call keeps the SHA-256 of its input rows (:func:`~._row_hash.hash_rows`) and,
where the store salts, the keyed digest of each row (:mod:`._row_digests`) in a salt
text that the event's commitments hash. For the common input of ``predict`` (a frame of
numpy numbers and pyarrow strings, or numbers alone: :mod:`._row_hash_frames`), the
caller takes a snapshot of the rows (:func:`~._row_hash_frames.frame_parts`: the numbers
copied, the text's immutable pyarrow buffers referenced) and hands two tasks to the row
hash's helper thread, done while the model predicts: first the rows' digests (the pieces
put into one buffer, read by one kernel, :func:`~._siphash.sip128_table`, without the
GIL), their salt text and its two SHA-256 passes
(:class:`~.stores._prediction_salts.SaltHashes`); then the SHA-256 of the pieces. Each
gives back exactly what :func:`~._row_hash.start_hash_rows` and
:func:`~._prediction_log.start_salt` would (the tests compare them); any other input
takes those two (the latter through :func:`start_salt_hashes`: the rows' records made
by the caller, hashed on the helper). A task the helper has not started when the model
has answered is done by the caller rather than waited for: where the model is quick,
the caller hashes the rows while the helper finishes their digests.
"""

import hashlib
import threading

from . import _row_hash
from ._row_digests import _finish, _key, _records, load_kernels, salt_text
from ._row_hash import _executor, start_hash_rows
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
    event, all on the helper thread of :func:`~._row_hash.start_hash_rows` while the
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
    if shape is None or len(shape) != 2 or 8 * shape[0] * shape[1] > _row_hash._SNAPSHOT_MAX:
        return None
    try:
        parts = frame_parts(X)
    except Exception:  # noqa: BLE001 (whatever hash_rows makes of it is said by it)
        return None
    return parts if parts is not None and parts[1] <= _row_hash._SNAPSHOT_MAX else None


def _pieces_digest(pieces):
    """SHA-256 of the pieces one after the other: ``hash_rows``'s digest of their
    buffer (each large ``update`` releases the GIL)."""
    h = hashlib.sha256()
    for piece in pieces:
        h.update(piece)
    return h.hexdigest()


def _salted(n, parts, salt):
    """The :class:`~.stores._prediction_salts.SaltHashes` of the rows' digests, read
    by one kernel from the pieces put into one buffer."""
    from ._row_hash_frames import assemble

    pieces, size, table = parts
    layout = (assemble(pieces, size), table)
    return SaltHashes(salt_text(salt, table_digests(n, layout, salt)))


class _Claimed:
    """A task's result, computed once by whichever thread claims it first: the helper
    (:func:`_run`, in the order given) or the caller asking for it (rather than wait for
    a helper that has not come to it). A result the helper could not give (a numba
    compile refused there, or an error) is computed by the caller, in its own thread
    (where the error, if any, is raised)."""

    def __init__(self, task):
        self._task = task
        self._lock = threading.Lock()
        self._claimed = False
        self._done = threading.Event()
        self._outcome = (False, None)
        self._value = None

    def claim(self):
        with self._lock:
            claimed, self._claimed = self._claimed, True
            return not claimed

    def run_on_helper(self):
        """Run the claimed task under :func:`~._thread_compiles.attempt`."""
        try:
            self._outcome = attempt(self._task)
        except Exception:  # noqa: BLE001 - redone by the caller, which raises it
            self._outcome = (False, None)
        finally:
            self._done.set()

    def __call__(self):
        if self._value is None:
            if self.claim():
                self._value = self._task()
            else:
                self._done.wait()
                self._value = redone(self._outcome, self._task)
        return self._value


def _run(tasks):
    """The helper's job: each task not claimed yet, in order."""
    for task in tasks:
        if task.claim():
            task.run_on_helper()


def _start(tasks):
    """Hand ``tasks`` to the row hash's helper thread as one job (one wake-up)."""
    try:
        prepare()  # (in the caller: the helper must not import numba)
        _executor().submit(_run, tasks)
    except RuntimeError:  # the interpreter is shutting down: the caller does them
        pass


def start_call_hashes(store, X):
    """``(input_sha256, salt)`` for :func:`~._prediction_log.log_call`, taken from ``X``
    as it is now (a step may modify it in place while the model predicts):
    ``input_sha256`` a callable returning ``hash_rows(X)``; ``salt`` what
    :func:`~._prediction_log.start_salt` returns (None where the store does not salt).

    Two tasks go to the helper, as one job: the rows' digests and their salt text's
    hashes first (the longer), then the SHA-256 of the rows. ``log_call`` asks for the
    SHA-256 first: where the model answered before the helper came to it, the caller
    hashes while the helper finishes the digests.
    """
    from ._prediction_log import start_salt

    parts = _parts(X) if store._salting() else None
    if parts is None:
        return start_hash_rows(X), start_salt(store, X)
    n, salt = int(X.shape[0]), new_salt()
    load_kernels()  # here: the helper thread must never compile (a compile there loses warnings)
    salted = _Claimed(lambda: _salted(n, parts, salt))
    digest = _Claimed(lambda: _pieces_digest(parts[0]))
    if parts[1] >= _row_hash._SNAPSHOT_MIN:
        _start((salted, digest))
    return digest, salted
