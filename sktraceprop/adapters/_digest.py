"""A digest of the rows a model was trained on, to recognise them when it is explained."""

import hashlib

import numpy as np

__all__ = ["module_digest", "params_digest", "rows_digest"]


def rows_digest(X, y_codes):
    """SHA-256 of float32 inputs ``X`` and the class codes ``y_codes`` of their rows.

    A fitted :class:`~sktraceprop.adapters.JaxClassifier` keeps the digest of its
    training rows, and a removal by
    :class:`~sktraceprop.unlearning.GradientCorrectionUnlearner` replaces it with that of
    the retained rows; :class:`~sktraceprop.InfluenceExplainer` compares it with the rows
    it is given, so that rows the model never trained on, or no longer holds, are not
    scored as training rows. Row order counts (the scores are matched to rows by
    position).
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    y_codes = np.ascontiguousarray(y_codes, dtype=np.int64)
    h = hashlib.sha256()
    h.update(repr(X.shape).encode())
    h.update(X.tobytes())
    h.update(y_codes.tobytes())
    return h.hexdigest()


def params_digest(params):
    """SHA-256 of the leaves of a parameter pytree (nested dicts, lists, tuples of
    arrays), in order: the digest of the rows is trusted only while it is unchanged (a
    correction by an unlearner moves the parameters off those rows)."""
    h = hashlib.sha256()

    def walk(node):
        if isinstance(node, dict):
            for key in sorted(node, key=str):
                h.update(repr(key).encode())
                walk(node[key])
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)
        else:
            leaf = np.ascontiguousarray(node)
            h.update(repr((leaf.shape, str(leaf.dtype))).encode())
            h.update(leaf.tobytes())

    walk(params)
    return h.hexdigest()


def module_digest(net):
    """SHA-256 of the parameters of a fitted skorch net's module (:func:`params_digest`
    of their values, in ``module_.parameters()`` order)."""
    return params_digest([p.detach().cpu().numpy() for p in net.module_.parameters()])
