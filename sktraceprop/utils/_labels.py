"""Whether two sets of class labels are of one kind (text or numbers)."""

import numpy as np
import pandas as pd

_TEXT = {"string", "bytes"}
_NUMBERS = {"integer", "floating", "boolean", "mixed-integer-float", "decimal"}


def check_label_kinds(y, classes, what):
    """Refuse labels ``y`` of another kind than ``classes`` (text against numbers).

    ``"1"`` never equals ``1``: every label would count as a class no one has, and
    whatever is computed from it silently as if the labels were unknown.

    Parameters
    ----------
    y, classes : array-like
        The labels given and the classes known.
    what : str
        Whose classes they are, for the message.
    """
    y, classes = np.asarray(y), np.asarray(classes)
    if y.size == 0 or classes.size == 0:
        return
    kinds = [pd.api.types.infer_dtype(a.ravel(), skipna=True) for a in (y, classes)]
    if (kinds[0] in _TEXT and kinds[1] in _NUMBERS) or (
        kinds[0] in _NUMBERS and kinds[1] in _TEXT
    ):
        raise ValueError(
            f"y holds {kinds[0]} labels but the classes of {what} are {kinds[1]} "
            f"({classes[:5].tolist()}): no label would match a class; pass labels of "
            "the same type"
        )
