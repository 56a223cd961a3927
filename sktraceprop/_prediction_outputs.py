"""The outputs of a logged call as its event keeps them: compact, and exact.

Labels as class indices (one bit per row for two classes), numbers as float64 with a
summary per column, anything else as text; the SHA-256 of the exact outputs either way
(:func:`encode_outputs`), and the arrays' JSON-safe form (:func:`encode_array`,
:func:`decode_array`). What these write is under the chain of every stored prediction
event: a byte changed here is an event that no longer verifies.
"""

import base64
import hashlib
import zlib

import numpy as np

from ._row_hash import hash_rows

__all__ = ["decode_array", "encode_array", "encode_outputs"]


def encode_array(values, compress=False, raw=False):
    """A JSON-safe copy of an array: dtype, shape and base64 of its little-endian bytes.

    With ``raw``, ``data`` is the bytes themselves (for :func:`blob_payload_text`,
    which stores them as base64).
    """
    values = np.ascontiguousarray(values)
    dtype = values.dtype.newbyteorder("<") if values.dtype.byteorder == ">" else values.dtype
    raw_bytes = values.astype(dtype, copy=False).tobytes()
    out = {"dtype": dtype.str, "shape": list(values.shape)}
    if compress:
        out["zlib"] = True
        raw_bytes = zlib.compress(raw_bytes, 1)
    out["data"] = raw_bytes if raw else base64.b64encode(raw_bytes).decode("ascii")
    return out


def _encode_bits(index, raw):
    """Class indices 0 or 1 as one bit per row (``np.packbits`` order, the last byte
    padded with zeros)."""
    packed = np.packbits(index.astype(np.bool_, copy=False)).tobytes()
    data = packed if raw else base64.b64encode(packed).decode("ascii")
    return {"dtype": "|u1", "shape": [int(index.size)], "bits": 1, "data": data}


def decode_array(record):
    """Inverse of :func:`encode_array` (and of the one-bit labels of :func:`encode_outputs`)."""
    raw = base64.b64decode(record["data"])
    if record.get("zlib"):
        raw = zlib.decompress(raw)
    if record.get("bits") == 1:
        (n,) = record["shape"]
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), count=n)
        return bits.astype(np.dtype(record["dtype"]))
    return np.frombuffer(raw, dtype=np.dtype(record["dtype"])).reshape(record["shape"])


def _output_sha256(values):
    """SHA-256 of the outputs: numbers as little-endian bytes, labels as their text."""
    values = np.asarray(values)
    if values.dtype.kind not in "iubf":
        # explicit width: reshape(n, -1) cannot infer it when there are no rows
        width = int(np.prod(values.shape[1:], dtype=np.int64))
        return hash_rows(values.reshape(values.shape[0], width))
    h = hashlib.sha256(f"{values.dtype.str}{list(values.shape)}".encode())
    h.update(np.ascontiguousarray(values))
    return h.hexdigest()


def _class_index(values, classes):
    """Each output's index in ``classes``, or None if one is not among them."""
    if not classes.size:
        return None
    if classes.size == 2 and classes.dtype.kind in "iub" and values.dtype.kind in "iub":
        # two integer classes (the common binary case): comparisons instead of a search;
        # every output is one of them when the two counts add up to all of them
        index = values == classes[1]
        found = np.count_nonzero(index) + np.count_nonzero(values == classes[0])
        return index if found == values.size else None
    index = np.clip(np.searchsorted(classes, values), 0, classes.size - 1)
    return index if np.array_equal(classes[index], values) else None


def _scores_classes(values, classes):
    """Whether ``values`` hold one column per class (or, for two classes, one column)."""
    if classes is None or values.dtype.kind not in "iubf":
        return False
    try:
        classes = np.asarray(classes)
    except ValueError:  # one array of classes per output (multi-output): not listed
        return False
    if classes.ndim != 1:
        return False
    n = classes.size
    if values.ndim == 2:
        return n >= 1 and values.shape[1] == n
    return values.ndim == 1 and n == 2


def _per_target(values, classes, n_targets):
    """One array of outputs per target (multi-output ``predict_proba``) side by side, as
    ``(array (n_rows, total columns), record)``: rows first, like every other output."""
    arrays = [np.asarray(v) for v in values]
    shapes = [a.shape for a in arrays]
    if not arrays or any(a.ndim != 2 or a.shape[0] != arrays[0].shape[0] for a in arrays):
        raise ValueError(
            f"cannot log outputs given as a list of arrays of shapes {shapes}: one array "
            "of shape (n_rows, n_columns) per target was expected"
        )
    record = {"per_target_columns": [int(a.shape[1]) for a in arrays]}
    if isinstance(classes, list | tuple) and len(classes) == len(arrays):
        per = [np.asarray(c) for c in classes]
        if all(c.ndim == 1 and c.size == a.shape[1] for c, a in zip(per, arrays)):
            record["per_target_classes"] = [[str(v) for v in c.tolist()] for c in per]
    return np.concatenate(arrays, axis=1), record


def encode_outputs(method, values, classes=None, raw=False, n_targets=1):
    """The outputs of one call, compact: labels as class indices, scores as float64.

    ``predict`` outputs that are all among ``classes`` are kept as one class index per
    row (one bit per row for two classes, else a byte or four, compressed) with the
    count of each class; numbers as float64 with their min, mean and max per column;
    anything else as text. ``sha256`` covers the exact outputs either way. With
    ``raw``, the arrays' ``data`` are bytes (see :func:`encode_array`).

    Scores of classes (``predict_proba``, ``predict_log_proba``,
    ``decision_function``) list ``classes`` too, in the order of their columns (a
    one-column decision function scores the last of two classes), so that the store
    alone says which probability was which class's.

    A model fitted on a target of several columns (``n_targets``: multilabel,
    multi-output) scores each target, not classes: its columns are not listed as
    classes. Where it returns one array per target (``predict_proba`` of
    ``MultiOutputClassifier`` or a forest), they are logged side by side, rows first
    (``per_target_columns``, and ``per_target_classes`` where each target's classes
    are known).
    """
    per_target = None
    if isinstance(values, list | tuple):
        values, per_target = _per_target(values, classes, n_targets)
    values = np.asarray(values)
    record = {"shape": list(values.shape), "sha256": _output_sha256(values)}
    if per_target is not None:
        record.update(per_target)
        classes = None  # each target's classes are listed above
    if n_targets > 1:
        record["n_targets"] = int(n_targets)
        classes = None  # columns of targets, or per-target classes: not one class each
    if method != "predict" and _scores_classes(values, classes):
        record["classes"] = [str(c) for c in np.asarray(classes).tolist()]
    if method == "predict" and classes is not None and values.ndim == 1:
        classes = np.asarray(classes)
        index = _class_index(values, classes)
        if index is not None:
            record["classes"] = [str(c) for c in classes.tolist()]
            if index.dtype == np.bool_:
                ones = np.count_nonzero(index)
                counts = [index.size - ones, ones]
            else:
                counts = np.bincount(index, minlength=classes.size)
            record["counts"] = [int(c) for c in counts]
            if classes.size <= 2:
                record["labels"] = _encode_bits(index, raw)
            else:
                width = np.uint8 if classes.size <= 256 else np.uint32
                record["labels"] = encode_array(index.astype(width), compress=True, raw=raw)
            return record
    if values.dtype.kind in "iubf":
        numbers = values.astype(np.float64, copy=False)
        flat = numbers.reshape(numbers.shape[0], -1) if numbers.ndim else numbers[None, None]
        if flat.size:
            # one row per output column: reductions along contiguous memory
            columns = np.ascontiguousarray(flat.T)
            record["summary"] = {
                "min": [float(v) for v in columns.min(axis=1)],
                "mean": [float(v) for v in columns.mean(axis=1)],
                "max": [float(v) for v in columns.max(axis=1)],
            }
        record["values"] = encode_array(values, raw=raw)
    else:
        text = np.array([str(v) for v in values.ravel()], dtype=object)
        record["values"] = {"text": text.tolist()}
    return record
