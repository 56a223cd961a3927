"""Optional dependencies of the exporters, imported only when an exporter runs."""

import importlib


def require(module, extra, what):
    """Import ``module``, or raise an ImportError naming the extra that installs it.

    Parameters
    ----------
    module : str
        Module to import (``"pyarrow.parquet"``).
    extra : str
        The sktraceprop extra that installs it (``"parquet"``).
    what : str
        The feature that needs it, for the message.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise ImportError(
            f"{what} needs the {package!r} package, which is not installed: "
            f"pip install 'sktraceprop[{extra}]'"
        ) from None
