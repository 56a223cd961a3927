"""Refuse the multi-input forms a neural net may take (a dict or tuple of arrays)."""

from collections.abc import Mapping

__all__ = ["check_module_input"]


def check_module_input(X, what):
    """Raise ``TypeError`` if ``X`` is a dict or tuple of inputs rather than one array.

    skorch hands a dict's entries to the module's ``forward`` as keyword arguments (and a
    tuple's as positional ones); the neural gradients differentiate a module called on
    one array of rows.

    Parameters
    ----------
    X : object
        What the net is given.
    what : str
        The method that needs one array, for the message.
    """
    if isinstance(X, Mapping) or isinstance(X, tuple):
        kind = "dict" if isinstance(X, Mapping) else "tuple"
        keys = f" (keys {sorted(map(str, X))})" if isinstance(X, Mapping) else ""
        raise TypeError(
            f"X is a {kind} of module inputs{keys}: {what} differentiates a module called "
            "on one array of rows. Pass the rows as one array (and sample weights, if the "
            "net reads them from X, are not supported)."
        )
