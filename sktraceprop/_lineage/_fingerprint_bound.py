"""Scheme 6: modules bound to a user function's arguments outside its code.

A module given to a function as a value rather than as a global, a default or an
import — bound in a ``functools.partial`` (``partial(f, h=mymod)``) or passed by a
``FunctionTransformer`` (``kw_args={"h": mymod}``, ``inv_kw_args``) — is named by the
value it is in (the partial's arguments, the estimator's parameters). What the function
reads of that argument (``h.helper(X)``: :func:`_fingerprint_attrs.argument_chains`) is
followed from the module as from an argument's default (tag ``=``), so an edit to a
helper the model calls through it changes the fingerprint, and an attribute it does not
read does not. Nothing is written where no followed module is bound to an argument
the function reads attributes of, so other fingerprints keep their bytes.
"""

import types

from sklearn.preprocessing import FunctionTransformer

from . import _fingerprint_attrs as _attrs
from . import _fingerprint_code as _code

__all__ = ["feed_bound", "feed_transformer_kw_args"]


def _bound_pairs(code, args, keywords):
    """``(argument, value)`` pairs of a function of ``code`` called with ``args`` first
    and ``keywords`` (names of no argument of ``code``, a ``**kwargs``, read nothing)."""
    positional = code.co_varnames[: code.co_argcount]
    pairs = list(zip(positional, args, strict=False))
    pairs += sorted((k, v) for k, v in keywords.items() if isinstance(k, str))
    return pairs


def feed_bound(h, func, args, keywords, depth, memo, feed):
    """After a partial's or a ``FunctionTransformer``'s bytes: what the user function
    ``func`` reads of the followed modules bound to its arguments (``args`` positional
    from the first, ``keywords`` by name). Scheme 6 and user functions only."""
    if memo.scheme < 6 or not isinstance(func, types.FunctionType):
        return
    if not isinstance(keywords, dict):
        keywords = {}
    args = args if isinstance(args, tuple | list) else ()
    if not any(_attrs.followed(v, memo.scheme) for v in (*args, *keywords.values())):
        return
    if not _code.is_user(func, memo.scheme):
        return
    code = func.__code__
    pairs = _bound_pairs(code, args, keywords)
    chains = _attrs.argument_chains(code)
    _attrs.feed_chains(h, pairs, chains, depth, memo, feed, _code.feed_named, tag=b"=")


def feed_transformer_kw_args(h, estimator, depth, memo, feed):
    """A ``FunctionTransformer``'s ``kw_args`` as bound to ``func``, ``inv_kw_args`` to
    ``inverse_func`` (:func:`feed_bound`); nothing for other estimators."""
    if memo.scheme < 6 or not isinstance(estimator, FunctionTransformer):
        return
    for func, kw in (
        (getattr(estimator, "func", None), getattr(estimator, "kw_args", None)),
        (getattr(estimator, "inverse_func", None), getattr(estimator, "inv_kw_args", None)),
    ):
        if kw:
            feed_bound(h, func, (), kw, depth, memo, feed)
