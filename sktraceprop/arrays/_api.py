"""``sktraceprop.array``: one constructor for traced NumPy, torch and JAX arrays."""

import numpy as np
import pandas as pd

from ..exceptions import LineageError
from ._sources import framework_of, register
from ._state import freeze

_FRAMEWORKS = ("numpy", "torch", "jax")


def array(X, source_id=None, *, framework=None, uri=None):
    """Trace the rows of ``X``: a traced array whose rows keep their source row ids.

    Parameters
    ----------
    X : array-like, DataFrame, Series, torch.Tensor or jax.Array
        The data; its first axis holds the rows. A DataFrame or Series loaded by
        :func:`sktraceprop.read_csv` (or ``from_pandas``/``from_numpy``) keeps its row
        ids, so each row still names its file and line.
    source_id : str, default=None
        Name of a new source for data that carries no row ids (required then; refused
        for a traced frame, whose rows already have a source).
    framework : {"numpy", "torch", "jax"}, default=None
        Framework of the result; defaults to X's own (NumPy for array-likes and
        DataFrames). A traced array of another framework is converted with its lineage.
    uri : str, default=None
        Where the data came from; defaults to ``"<framework>:<source_id>"``.

    Returns
    -------
    traced : TracedArray, TracedTensor or TracedJaxArray
        ``TracedArray`` is an ``numpy.ndarray`` subclass, ``TracedTensor`` a
        ``torch.Tensor`` subclass; ``TracedJaxArray`` wraps a ``jax.Array`` (JAX arrays
        cannot be subclassed) and traces the operations it is given.

    See Also
    --------
    provenance : Sources, operations and source rows behind a traced array.
    sktraceprop.from_numpy : Register an array as a traced *DataFrame*.

    Examples
    --------
    >>> import numpy as np
    >>> import sktraceprop as stp
    >>> a = stp.array(np.arange(6.0).reshape(3, 2), source_id="lab_a")
    >>> b = stp.array(np.ones((2, 2)), source_id="lab_b")
    >>> z = np.concatenate([a - a.mean(axis=0), b * 2 + 1])
    >>> stp.provenance(z).rows(3, pooled=False)[["source_id", "line"]].values.tolist()
    [['lab_b', 1]]
    """
    if framework is None:
        framework = framework_of(X)
        if framework == "numpy" and getattr(X, "__stp_framework__", None) is not None:
            framework = X.__stp_framework__
    if framework not in _FRAMEWORKS:
        raise ValueError(f"framework must be one of {_FRAMEWORKS}, got {framework!r}")
    state = getattr(X, "__stp_state__", None)
    if state is not None:
        if source_id is not None:
            raise LineageError(
                "sktraceprop.array: X is already traced; source_id= would cut its lineage. "
                "Leave source_id out."
            )
        rows, node = state()
        value = X.__stp_value__()
        if framework != X.__stp_framework__ and "jax" not in (framework, X.__stp_framework__):
            # NumPy <-> torch would share memory: a write through one would change rows
            # the other's lineage still names, unseen (JAX copies by itself)
            if framework == "numpy":  # copied once, into memory NumPy owns (_array._wrap)
                value = value.detach().cpu().numpy().copy()
            else:
                value = value.detach().clone() if hasattr(value, "detach") else value.copy()
        return _make(framework, value, rows, node, convert=True)
    values, ids, node = register(X, source_id, uri)
    from . import _rowmap as rmap

    value = X if framework_of(X) == framework and framework != "numpy" else values
    return _make(framework, _own(value, X), rmap.of_ids(ids), node, convert=False)


def _own(value, X):
    """``value`` in memory of its own: a later write to the caller's ``X`` (an array, or a
    frame whose ``to_numpy()`` is a view of its columns) would change rows whose lineage
    (and the source's SHA-256) still describe what was traced."""
    if isinstance(value, np.ndarray):
        if value.base is not None or _may_share(value, X):
            copy = value.copy()
            if isinstance(X, np.ndarray) and not value.flags.writeable:
                # read-only data stays read-only to its traced array
                freeze(copy, True, permanent=True)
            return copy
        return value
    if value is X and hasattr(value, "clone"):  # a torch tensor (autograd follows clone)
        return value.clone()
    return value  # JAX arrays are immutable; frames were converted to new arrays


def _may_share(value, X):
    """Whether ``value`` may be memory of ``X``: an array, or a Series, whose
    ``to_numpy()`` before pandas 3 (no copy-on-write) is the Series' own array."""
    if isinstance(X, np.ndarray):
        return np.may_share_memory(value, X)
    if isinstance(X, pd.Series) and isinstance(X.dtype, np.dtype):
        return np.may_share_memory(value, np.asarray(X.array))  # no copy of numpy values
    return False


def _make(framework, value, rows, node, convert):
    if framework == "numpy":
        from ._numpy import make

        return make(value, rows, node, convert)
    if framework == "torch":
        from ._torch import make

        return make(value, rows, node, convert)
    from ._jax import make

    return make(value, rows, node, convert)


def _has_jax(value):
    if getattr(value, "__stp_framework__", None) == "jax":
        return True
    if isinstance(value, list | tuple):
        return any(_has_jax(v) for v in value)
    if isinstance(value, dict):
        return any(_has_jax(v) for v in value.values())
    return False


def apply(fn, *args, **kwargs):
    """Call ``fn`` on traced arrays, keeping row lineage through its computation.

    NumPy and torch operations on traced arrays are traced as they run, so for them
    ``fn`` is simply called. A JAX function is traced to a jaxpr that is evaluated
    equation by equation with a row rule per primitive (``jax.jit``-compiled functions
    are followed inside); without ``apply``, a plain ``jnp`` function refuses a traced
    JAX array.

    Parameters
    ----------
    fn : callable
    *args, **kwargs
        Arguments; traced arrays anywhere in them (lists, tuples, dicts) are followed.

    Returns
    -------
    result
        ``fn``'s result, with traced arrays in place of arrays computed from traced
        inputs.

    Examples
    --------
    >>> import numpy as np
    >>> import sktraceprop as stp
    >>> a = stp.array(np.arange(6.0).reshape(3, 2), source_id="a")
    >>> z = stp.arrays.apply(lambda x: np.concatenate([x, x * 2])[::-1], a)
    >>> stp.provenance(z).rows(0, pooled=False)["line"].tolist()
    [3]
    """
    if _has_jax(args) or _has_jax(kwargs):
        from ._jax import apply as jax_apply

        return jax_apply(fn, *args, **kwargs)
    return fn(*args, **kwargs)
