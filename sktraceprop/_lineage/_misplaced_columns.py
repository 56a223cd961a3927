"""The columns a witness row is compared in with a loaded record (:mod:`._misplaced`,
:mod:`._filled_merge`): how many must differ before a row counts as moved, which loaded
column each column of X is, and how a renamed one is named."""

#: Columns that must differ (each loaded non-missing) before a row counts as moved.
MIN_COLUMNS = 2


def _compared(names, w, skip, as_loaded):
    """``[(column of X, loaded column)]`` of X's columns that load ``w`` has, by name or
    identified under another (``as_loaded``, see :mod:`._renamed`), each loaded column
    once (the column of its name first): two copies of one column are one piece of
    evidence, not two."""
    pairs = [(n, as_loaded.get(n, n)) for n in names if n not in skip]
    out, seen = [], set()
    for n, m in sorted(pairs, key=lambda p: p[0] != p[1]):  # (a stable sort)
        if m in w.columns and m not in seen:
            seen.add(m)
            out.append((n, m))
    return out


def _shown(name, loaded):
    return name if name == loaded else f"{name} (loaded as {loaded})"
