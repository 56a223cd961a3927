"""Row rules of ``torch.nn.functional`` layers: those that map each sample of a batch
on its own (convolutions, pooling, ``linear``), normalisations that mix rows
(``batch_norm`` in training, ``layer_norm`` and ``normalize`` over the row axis),
losses, and ``pad``. See :mod:`._torch_rules_basic` for what a rule is given.
"""

from . import _rowmap as rmap
from ._torch_rules_basic import _arg, _hits_rows, _out_shape


def _batched(ndims):
    """A layer that maps each sample of a batch on its own (conv, pooling, layer norm):
    rows stay rows when the input is batched (``input.ndim`` in ``ndims``); weights and
    other traced arguments are pooled into every row."""

    def rule(out, args, kwargs, maps, name):
        rm, shape = maps.get(0, maps.get("input", (None, None)))
        if rm is None:
            return rmap.EMPTY, set()
        if ndims is not None and len(shape) not in ndims:
            return rmap.collapse(rm, name), {0, "input"}
        return rmap.elementwise([(rm, shape)], _out_shape(out), name), {0, "input"}

    return rule


def _layer_norm(out, args, kwargs, maps, name):
    """``layer_norm``: each row normalised on its own, unless ``normalized_shape`` covers
    the row axis too (then with statistics of every row)."""
    rm, used = _batched(None)(out, args, kwargs, maps, name)
    _, shape = maps.get(0, maps.get("input", (None, ())))
    normalized = _arg(args, kwargs, 1, "normalized_shape", ())
    k = 1 if isinstance(normalized, int) else len(normalized)
    if rm.n is not None and rm.dropped is None and k >= len(shape):
        rm = rmap.with_parents(rm, rmap.collapse(rm, name))
    return rm, used


def _linear(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, maps.get("input", (None, None)))
    if rm is None:
        return rmap.EMPTY, set()
    if len(shape) < 2:
        return rmap.collapse(rm, name), {0, "input"}
    return rmap.elementwise([(rm, shape)], tuple(out.shape), name), {0, "input"}


def _loss(out, args, kwargs, maps, name):
    reduction = kwargs.get("reduction", "mean")
    parts = [maps[k] for k in (0, 1, "input", "target") if k in maps]
    used = {0, 1, "input", "target"}
    if not parts:
        return rmap.EMPTY, used
    if reduction == "none":
        return rmap.elementwise(parts, tuple(out.shape), name), used
    return rmap.merge([rmap.collapse(m, name) for m, _ in parts], None), used


def _batch_norm(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, maps.get("input", (None, None)))
    if rm is None:
        return rmap.EMPTY, set()
    training = _arg(args, kwargs, 5, "training", False)
    if training and rm.n is not None:
        # each row is normalised with statistics of the whole batch
        return rmap.with_parents(rm, rmap.collapse(rm, name)), {0, "input"}
    return rm, {0, "input"}


def _normalize(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    dim = _arg(args, kwargs, 2, "dim", 1)
    if rm.n is not None and _hits_rows(dim, len(shape)):
        return rmap.with_parents(rm, rmap.collapse(rm, name)), {0}
    return rm, {0}


def _pad(out, args, kwargs, maps, name):
    rm, shape = maps.get(0, (None, None))
    if rm is None:
        return rmap.EMPTY, set()
    pad = list(_arg(args, kwargs, 1, "pad"))
    if len(pad) // 2 >= len(shape) and any(pad[2 * (len(shape) - 1) :][:2]):
        return rmap.collapse(rm, name), {0}
    return rm, {0}
