"""What the displays share: the lazy matplotlib import, axes, and row labels."""

from collections import Counter
from pathlib import PurePosixPath

from .._lineage._uri_path import shown_path_of_uri


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


def shortened(labels, width=40):
    """Tick labels at most ``width`` characters where that keeps them apart: a longer one
    keeps its start and its end (file name, line, row count) around an ellipsis. A long
    label pushed the axes out of a figure of any size, and none of its name was seen."""
    labels = [str(label) for label in labels]
    longest = max(map(len, labels), default=0)
    while width < longest:
        tail = (width - 1) * 2 // 3
        short = [
            f"{s[: width - 1 - tail]}\u2026{s[-tail:]}" if len(s) > width else s for s in labels
        ]
        if len(set(short)) == len(set(labels)):
            return short
        width += 8
    return labels


def count_of_rows(n):
    """``"1 row"``, ``"n rows"``."""
    return "1 row" if n == 1 else f"{n} rows"


def source_path(source_id, uri):
    """The folders and name of a source read from a file, else its source id alone."""
    if isinstance(uri, str) and uri.startswith("file:"):
        return PurePosixPath(shown_path_of_uri(uri)).parts
    return (source_id,)


def source_name(source_id, uri):
    """The file name of a source read from a file, else its source id."""
    return source_path(source_id, uri)[-1]


def source_names(sources):
    """A name per source: the file name, with as many of its folders as tell two files of
    one name apart, and the first 12 digits of the SHA-256 for two contents of one file
    (or of one source id)."""
    names = [source_name(s.source_id, s.uri) for s in sources]
    paths = [source_path(s.source_id, s.uri) for s in sources]
    for name in set(names):
        same = [i for i, n in enumerate(names) if n == name]
        files = len({paths[i] for i in same})
        depth = 1
        while len({paths[i][-depth:] for i in same}) < files:
            depth += 1
        if depth > 1:
            for i in same:
                names[i] = str(PurePosixPath(*paths[i][-depth:]))
    counts = Counter(names)
    return [f"{n} [{s.sha256[:12]}]" if counts[n] > 1 else n for n, s in zip(names, sources)]
