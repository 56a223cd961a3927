"""A run's notes on a fit whose data is not what the user gave: a cross-validation split
of rows without ids (positions among the split's rows), or a regressor fitted by a
``TransformedTargetRegressor`` on the target it transformed.
"""

from ._selection_frames import _caller, _library_frame

__all__ = ["anonymous_split_note", "transformed_target_note"]


def anonymous_split_note(ids, selection):
    """The run's note for a cross-validation split fitted on rows without ids, or None.

    Rows that carry no ids are recorded as an anonymous source, the data given to the
    fit, with lines that are positions in it. A split's fit is given only its training
    rows: its lines are positions among them, not in the data given to the search, and
    each split's rows are another source. ``ids`` are the run's input row ids and
    ``selection`` its :func:`selection_of` record.
    """
    if selection is None or selection.get("role") != "cv_fold":
        return None
    from ._lineage._ids import distinct_codes
    from ._lineage._source import REGISTRY

    sources = [REGISTRY.by_code(int(c)) for c in distinct_codes(ids)]
    anonymous = [s.source_id for s in sources if s.kind == "anonymous"]
    if not anonymous:
        return None
    n = selection.get("n_train")
    rows = "training rows" if n is None else f"{n} training rows"
    return (
        f"this cross-validation split's rows carried no row ids: they are recorded as "
        f"{', '.join(anonymous)}, the split's own {rows}, and its lines are positions "
        "among them, not in the data given to the search or cross-validation call (each "
        "split is another anonymous source). Give the data ids (sktraceprop.from_numpy, "
        "read_csv) or pass sample_id=, sliced per split like sample_weight, to name the "
        "same rows in every split"
    )


def transformed_target_note(estimator):
    """The run's note when ``estimator`` is being fitted by a ``TransformedTargetRegressor``
    as its ``regressor_``, on the target it transformed; None otherwise (as the call stack
    shows it, as for :func:`selection_of`).

    The run's target statistics (``source_stats``) are then of the transformed values
    (``log`` of prices, say), not of the target the user gave.
    """
    from sklearn.compose import TransformedTargetRegressor

    frame = _caller(("sktraceprop.", "contextlib"))
    if frame is None or not _library_frame(frame, ("sklearn.compose.",)):
        return None  # (a user's frame: its f_locals are not read, see _library_frame)
    owner = frame.f_locals.get("self")
    if not isinstance(owner, TransformedTargetRegressor):
        return None
    if owner.__dict__.get("regressor_") is not estimator:
        return None
    if owner.transformer is not None:
        how = f"by its transformer {type(owner.transformer).__name__}"
    elif owner.func is not None:
        how = f"by func={getattr(owner.func, '__name__', repr(owner.func))}"
    else:
        return None  # the identity: the target is the one given
    return (
        "fitted by a TransformedTargetRegressor as its regressor, on the target it "
        f"transformed ({how}): the run's target statistics are of the transformed values, "
        "not of the target given to the TransformedTargetRegressor"
    )
