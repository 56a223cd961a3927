"""The leaves of a JAX parameter pytree as the gradient functions see them: their
dotted names, a selection of them by name, and the split into the leaves differentiated
and the leaves held fixed. jax is imported inside the functions.
"""

import numpy as np


def _key_name(entry):
    for attr in ("key", "idx", "name"):
        if hasattr(entry, attr):
            return str(getattr(entry, attr))
    return str(entry)


def _leaves(params):
    import jax

    with_path, treedef = jax.tree_util.tree_flatten_with_path(params)
    names = [".".join(_key_name(k) for k in path) for path, _ in with_path]
    if len(set(names)) < len(names):
        # {"a.b": x, "a": {"b": y}}: both "a.b", so a column or a selection by name
        # would stand for either leaf
        twice = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(
            f"Several leaves of params have the same dotted name {twice} (a key with a "
            "dot in it, or a dict key equal to a list index): their gradient columns "
            "could not be told apart. Rename the keys."
        )
    return names, [leaf for _, leaf in with_path], treedef


def _select(names, parameters):
    if parameters is None:
        return list(range(len(names)))
    if callable(parameters):
        chosen = [i for i, name in enumerate(names) if parameters(name)]
    else:
        if isinstance(parameters, str):
            parameters = [parameters]
        unknown = [p for p in parameters if p not in names]
        if unknown:
            raise ValueError(f"Unknown parameter names {unknown}; the params have {names}.")
        chosen = [i for i, name in enumerate(names) if name in set(parameters)]
    if not chosen:
        raise ValueError("No parameter selected.")
    return chosen


def _split(params, parameters):
    """Selected leaves, fixed leaves, and ``merge(selected, fixed) -> params``."""
    import jax
    import jax.numpy as jnp

    names, leaves, treedef = _leaves(params)
    chosen = set(_select(names, parameters))
    not_float = [
        f"{names[i]} ({np.asarray(leaves[i]).dtype})"
        for i in sorted(chosen)
        if not np.issubdtype(np.asarray(leaves[i]).dtype, np.floating)
    ]
    if not_float:
        raise ValueError(
            f"The selected parameters {', '.join(not_float)} are not floating-point "
            "arrays and have no gradient; leave them out with parameters= (see "
            "jax_parameter_names)."
        )
    leaves = [jnp.asarray(leaf) for leaf in leaves]
    selected = [leaves[i] for i in sorted(chosen)]
    fixed = [leaf for i, leaf in enumerate(leaves) if i not in chosen]

    def merge(sel, rest):
        merged, sel_it, rest_it = [], iter(sel), iter(rest)
        for i in range(len(leaves)):
            merged.append(next(sel_it) if i in chosen else next(rest_it))
        return jax.tree_util.tree_unflatten(treedef, merged)

    return selected, fixed, merge
