"""What the displays share: the lazy matplotlib import, axes, and row labels."""

from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse


def pyplot(caller):
    """``matplotlib.pyplot``, or an ImportError naming the display that needs it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib: pip install matplotlib (or the 'docs' extra)"
        ) from exc
    return plt


def axes(ax, caller, figsize):
    """The given axes, or new ones on a new figure."""
    plt = pyplot(caller)
    if ax is None:
        # constrained layout keeps long tick labels (file names) inside the figure
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def source_path(source_id, uri):
    """The folders and name of a source read from a file, else its source id alone."""
    if isinstance(uri, str) and uri.startswith("file:"):
        return PurePosixPath(unquote(urlparse(uri).path)).parts
    return (source_id,)


def source_name(source_id, uri):
    """The file name of a source read from a file, else its source id."""
    return source_path(source_id, uri)[-1]


def row_label(source_id, uri, line):
    """``file:line`` of a training row (``source_id:row`` for data not read from a file)."""
    return f"{source_name(source_id, uri)}:{int(line)}"
