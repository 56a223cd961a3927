"""The jaxpr of a computation on traced JAX arrays, evaluated equation by equation with
a row map and an operation node per variable.

Each equation's primitive is bound to its operands as ``jax.core.eval_jaxpr`` binds
it; where a traced input reaches it, its row rule (:mod:`._jax_rules`) gives the
output's row maps and the operation is recorded. Call primitives (``jit``,
``custom_jvp_call``, ``remat``...) are followed inside.
"""

from jax.extend.core import Literal

from ._graph import NOT_RECORDED, record
from ._jax_rules import _bind, _rule

_RECURSE = {
    "pjit": "jaxpr",
    "jit": "jaxpr",
    "closed_call": "call_jaxpr",
    "core_call": "call_jaxpr",
    "custom_jvp_call": "call_jaxpr",
    "custom_vjp_call": "call_jaxpr",
    "custom_vjp_call_jaxpr": "fun_jaxpr",
    "remat": "jaxpr",
    "checkpoint": "jaxpr",
}


def _interpret(jaxpr, consts, values, maps, nodes, mode):
    """Evaluate ``jaxpr`` on values, carrying a row map and a node per variable."""
    env = {}

    def read(var):
        if isinstance(var, Literal):
            return var.val, None, None
        return env[var]

    for var, const in zip(jaxpr.constvars, consts):
        env[var] = (const, None, None)
    for var, value, rm, node in zip(jaxpr.invars, values, maps, nodes):
        env[var] = (value, rm, node)
    for eqn in jaxpr.eqns:
        inputs = [read(v) for v in eqn.invars]
        invals = [i[0] for i in inputs]
        name = eqn.primitive.name
        traced = any(i[1] is not None for i in inputs)
        if traced and name in _RECURSE:
            inner = eqn.params[_RECURSE[name]]
            inner_jaxpr = getattr(inner, "jaxpr", inner)
            inner_consts = getattr(inner, "consts", ())
            n_in = len(inner_jaxpr.invars)
            outs = _interpret(
                inner_jaxpr,
                inner_consts,
                invals[-n_in:],
                [i[1] for i in inputs][-n_in:],
                [i[2] for i in inputs][-n_in:],
                mode,
            )
        else:
            with eqn.ctx.manager:
                outvals = _bind(eqn.primitive, invals, eqn.params)
            if not eqn.primitive.multiple_results:
                outvals = [outvals]
            if not traced:
                outs = [(v, None, None) for v in outvals]
            elif mode == "none":
                outs = [(v, NOT_RECORDED, None) for v in outvals]
            else:
                maps_out = _rule(eqn, inputs, outvals)
                node = record(
                    name,
                    tuple(i[2] for i in inputs if i[1] is not None),
                    _params(eqn.params),
                    "jax",
                    mode,
                    list(maps_out),
                )
                outs = [(v, m, node) for v, m in zip(outvals, maps_out)]
        for var, out in zip(eqn.outvars, outs):
            env[var] = out
    return [read(v) for v in jaxpr.outvars]


def _params(params):
    kept = {}
    for key, value in params.items():
        if isinstance(value, bool | int | float | str) or value is None:
            kept[key] = value
        elif isinstance(value, tuple) and all(isinstance(v, int) for v in value):
            kept[key] = value
    return kept or None
