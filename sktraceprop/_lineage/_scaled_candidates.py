"""The loaded columns a column of untraced data may be found scaled from: every numeric
column of the loads' witness rows, with its distinct values and decile profile, kept
until the loads kept change (see :mod:`._scaled`)."""

import numpy as np

from ._scaled_fit import MIN_DISTINCT
from ._witness import WITNESSES

_DECILES = np.linspace(0.1, 0.9, 9)


def _profile(values):
    """Deciles of ``values`` relative to their median and spread; None if all equal."""
    p = np.quantile(values, _DECILES)
    spread = p[-1] - p[0]
    return None if spread <= 0 else (p - p[4]) / spread


class _ForgetCache:
    """Empties :data:`_CACHE` when witness rows are forgotten or cleared: it holds their
    values, which must not outlive them."""

    def forget(self, ids):
        _CACHE["entry"] = None

    def clear(self):
        _CACHE["entry"] = None


#: ``"entry"``: ``(version, candidates)``, written and read as one tuple.
_CACHE = {"entry": None}
WITNESSES.follow(_ForgetCache())


def _candidates():
    """``[(source_id, column name, sorted distinct witness values, decile profile, rows
    of the load)]`` of every numeric loaded column kept with at least ``MIN_DISTINCT``
    distinct values (the load's rows estimated from its witness rows and stride); kept
    until the loads kept change."""
    version, loads = WITNESSES.every_load()
    entry = _CACHE["entry"]
    if entry is not None and entry[0] == version:
        return entry[1]
    out = _read_candidates(loads)
    if WITNESSES.version == version:  # (rows forgotten meanwhile are not kept)
        _CACHE["entry"] = (version, out)
    return out


def _read_candidates(loads):
    from ._source import REGISTRY

    out, seen = [], set()
    for code, w in loads:
        for name, column in w.columns.items():
            if not column.numeric:
                continue
            values = column.values[~column.missing & np.isfinite(column.values)]
            cs = np.unique(values)
            if cs.size < MIN_DISTINCT or _dense_lattice(cs):
                continue
            key = (code, name, cs.tobytes())
            if key in seen:  # (a source read twice with the same values)
                continue
            seen.add(key)
            profile = _profile(values)
            if profile is not None:
                rows = w.ids.size * max(1, int(w.stride or 1))
                out.append((_source_name(REGISTRY, code), name, cs, profile, rows))
    return out


def _dense_lattice(cs):
    """Whether sorted distinct values ``cs`` fill most points of an evenly spaced grid
    (counts, ages in years): any other such column maps onto it in part, so a match
    says nothing of which column the data holds."""
    step = np.diff(cs).min()
    return (cs[-1] - cs[0]) / step + 1 <= 2 * cs.size


def _source_name(registry, code):
    source = registry.by_code(code)
    return f"source {code}" if source is None else source.source_id
