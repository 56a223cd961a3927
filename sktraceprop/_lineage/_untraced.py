"""What a traced fit checks on data without row ids, and what it remembers of it.

Data given to a traced fit without row ids, while traced files are loaded, is searched
for loaded rows' values, as loaded (:mod:`._content`) or scaled (:mod:`._scaled`, a
scaler fitted outside a traced pipeline), to warn rather than record an anonymous
source silently. The scaled search reads every pair of the data's columns and loaded
columns: about 0.3 to 1 s a fit on 30 columns and one file loaded (more per file), for
every fit, where GridSearchCV makes a hundred fits on the same few arrays (each fold's
rows, once per candidate). What the search found is kept per content (the SHA-256 that
names the anonymous source, computed anyway) and per state of the loads kept
(:attr:`._witness.WITNESSES.version`): the same data again is answered without a search,
with the same warning. Nothing of the loaded values is kept (the warnings' text: row
positions and lines), and it is dropped when witness rows are forgotten. A new array
all of whose rows are rows of arrays searched before (a fold, ``X[train]``) is given
the columns their searches found (:mod:`._searched_rows`), and only the cheap check
for a row holding loaded values runs on its own rows.

Where neither finds anything, ``y`` (or sample weights, groups) may still show where
the rows came from (:mod:`._loaded_labels`): X transformed outside the pipeline by a
step that is not affine per column.
"""

import threading
import warnings
from collections import OrderedDict

import numpy as np

from ..exceptions import LineageWarning
from ..utils._stack import user_stacklevel
from ._witness import WITNESSES

#: Contents remembered (the most recent).
REMEMBERED = 256

_LOCK = threading.Lock()
#: ``(digest, scheme)`` -> ``(version, [warning text])``.
_FOUND = OrderedDict()


class _Forget:
    """Empties :data:`_FOUND` when witness rows are forgotten or cleared."""

    def forget(self, ids):
        with _LOCK:
            _FOUND.clear()

    def clear(self):
        with _LOCK:
            _FOUND.clear()


WITNESSES.follow(_Forget())


def warn_if_holds_loaded_rows(X, named=None):
    """Warn when untraced ``X`` holds a loaded row's values, as loaded or scaled; True
    when it warned. ``named``: ``(digest, scheme)`` of ``X``'s content, under which the
    answer is remembered (None: not remembered)."""
    version = WITNESSES.version
    if named is not None:
        with _LOCK:
            kept = _FOUND.get(named)
            if kept is not None and kept[0] == version:
                _FOUND.move_to_end(named)
                found = kept[1]
            else:
                found = None
        if found is not None:
            for text in found:
                warnings.warn(text, LineageWarning, stacklevel=user_stacklevel())
            return bool(found)
    texts = _search(X)
    if named is not None and WITNESSES.version == version:
        with _LOCK:
            _FOUND[named] = (version, texts)
            while len(_FOUND) > REMEMBERED:
                _FOUND.popitem(last=False)
    for text in texts:
        warnings.warn(text, LineageWarning, stacklevel=user_stacklevel())
    return bool(texts)


def _search(X):
    """The warnings for ``X`` (``[str]``): a row holding a loaded row's values as
    loaded, else as scaled."""
    from ._capture import describe_id
    from ._content import loaded_row_in

    with np.errstate(over="ignore", invalid="ignore"):  # (float32 of huge values)
        found = loaded_row_in(X)
    if found is not None:
        position, row_id, shared = found
        return [
            f"X carries no sktraceprop row ids, but row {position} of X holds {shared} of "
            f"the values loaded for {describe_id(row_id)}: X was likely made from traced "
            "data whose row ids were dropped (to_numpy(), pd.DataFrame(df.values, "
            "columns=...), a plain merge). Keep the ids with the rows "
            "(pd.DataFrame(values, index=df.index)), or pass them as "
            "sample_id=sktraceprop.row_ids(df). The run records X as an anonymous source."
        ]
    return _search_scaled(X)


def _search_scaled(X):
    from ._capture import describe_id
    from ._content import loaded_row_in, searchable
    from ._scaled import describe, numeric_matrix, precision, scaler_guess, unscaled

    matrix = numeric_matrix(searchable(X))
    if matrix is None:
        return []
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = _scaled_columns(matrix, precision(X))
        found = loaded_row_in(unscaled(matrix, scaled, precision(X))) if scaled else None
    if found is None:
        return []
    position, row_id, shared = found
    step = scaler_guess(matrix, scaled)
    made = f"{step}().fit_transform(df)" if step else "a scaler's fit_transform(df)"
    return [
        f"X carries no sktraceprop row ids, but its {describe(scaled)} hold loaded "
        f"columns scaled (each a * value + b, as {step or 'a scaler'} outputs), and row "
        f"{position} of X holds {shared} of the values loaded for {describe_id(row_id)}, "
        "scaled: X was likely made by a transformer fitted outside a traced pipeline "
        f"({made} returns a NumPy array without the rows' ids), so the file lines of its "
        "rows are unknown. Fit the transformer inside the pipeline "
        "(sktraceprop.make_traced_pipeline(transformer, model)), wrap it in "
        "sktraceprop.TracedEstimator, or keep the ids with the rows "
        "(sktraceprop.array(df), set_output(transform='pandas')) or pass them as "
        "sample_id=sktraceprop.row_ids(df) in the order of X's rows. The run records X "
        "as an anonymous source."
    ]


def _scaled_columns(matrix, eps):
    """:func:`._scaled.find_scaled` of ``matrix``, or the answer of the arrays searched
    before whose rows it holds (:mod:`._searched_rows`: a fold of ``GridSearchCV``)."""
    from . import _scaled, _searched_rows

    if not _scaled.any_candidates():
        return []
    version = WITNESSES.version
    digests = _searched_rows.row_digests(matrix)
    scaled = _searched_rows.answer(digests, matrix.shape[1], eps, version)
    if scaled is None:
        scaled = _scaled.find_scaled(matrix, eps)
        _searched_rows.remember(digests, matrix.shape[1], eps, version, scaled)
    return scaled


def warn_if_loaded_labels(X, y, params):
    """Warn when ``y`` (or sample weights, groups) shows loaded rows that untraced ``X``
    says nothing of (:mod:`._loaded_labels`); True when it warned."""
    from ..utils._sklearn_compat import num_samples
    from ._loaded_labels import evidence, message

    if y is None and not params:
        return False
    n = num_samples(X)
    found = evidence(y, params, n)
    if not found:
        return False
    warnings.warn(message(found, n), LineageWarning, stacklevel=user_stacklevel())
    return True
