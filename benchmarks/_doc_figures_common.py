"""Helpers of the figure checks (``check_doc_numbers.py``)."""


def span(values, fmt, sep="-"):
    """``values``' least and largest as ``fmt`` rounds them (one figure where they agree)."""
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    return lo if lo == hi else f"{lo}{sep}{hi}"


def mean(values):
    """The arithmetic mean."""
    return sum(values) / len(values)


def only_row(rows, **where):
    """The one row whose fields equal ``where`` (an error if none or several)."""
    (row,) = [r for r in rows if all(r[k] == v for k, v in where.items())]
    return row
