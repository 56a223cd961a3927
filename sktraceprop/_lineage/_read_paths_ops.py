"""How a frame's read-path mark (:mod:`._read_paths`) follows a pandas operation that
builds one frame from several.

pandas copies ``attrs`` in ``NDFrame.__finalize__``: from one frame (a ``deepcopy`` of
its ``attrs``), or, for ``concat`` and ``merge``, from the first of its inputs where
every input's ``attrs`` compare equal. An operation that combines two frames copies one
side's: under pandas 3, ``a + b`` takes ``b``'s, ``a.combine_first(b)``,
``a.where(cond, b)``, ``a.fillna(b)`` and ``a.assign(x=b["x"])`` take ``a``'s. With
``a`` and ``b`` read from two copies of one file, the result named one copy though its
rows and values came from both. The mark's ``__deepcopy__`` runs inside that
``__finalize__`` and gives the union of every mark the operation holds
(:func:`operand_marks`): the frame being finalized (a binary operation finalizes it
from each side in turn), ``concat``'s and ``merge``'s inputs, and every DataFrame or
Series the pandas calls above it hold (the operands the user handed pandas). A result
then names every path its rows or values may come from: more than one path is named
as not known (``uri`` empty, ``uris``, a warning), never one side's.

Not seen here: values written into a frame in place (``a.update(b)``,
``a["x"] = b["x"]``, ``a.loc[...] = ...``), which run no ``__finalize__`` on ``a``, and
values that travel as NumPy arrays. Rows of the same bytes hold the same values at the
same line whichever copy gave them, so such a frame's rows are still at the line its
path names; what the mark cannot then say is that the other copy was read too.
"""

import sys

import pandas as pd

#: The paths each file code was first marked with in this process, and whether a mark
#: has named other paths for a code since (two copies read, or a mark unpickled): only
#: then can the marks an operation holds differ for one code, and pandas' calls are
#: walked (:func:`operand_marks`); else a copy of a mark costs no walk.
_FIRST_PATHS = {}
_OTHER_PATHS_SEEN = False

_FRAMES = (pd.DataFrame, pd.Series)

#: The one function pandas copies ``attrs`` in (``DataFrame`` and ``Series`` share it).
_FINALIZE = pd.DataFrame.__finalize__.__code__

#: Frames walked up from ``__finalize__`` (pandas' own calls) and items looked at in
#: each list, tuple or dict a call holds: a bound on the cost of every copy of a mark.
_MAX_CALLS = 40
_MAX_ITEMS = 64


def note_paths(mark):
    """Note the paths of ``mark`` (a new mark: a read's, an unpickled one's)."""
    global _OTHER_PATHS_SEEN
    for code, uris in mark.items():
        uris = None if uris is None else tuple(uris)
        if _FIRST_PATHS.setdefault(code, uris) != uris:
            _OTHER_PATHS_SEEN = True


def other_paths_seen():
    """Whether marks of this process have named two path lists for one code."""
    return _OTHER_PATHS_SEEN


def in_finalize(depth):
    """The ``__finalize__`` call frame within ``depth`` frames above the caller's
    caller, or None."""
    frame = sys._getframe(2)
    for _ in range(depth):
        if frame is None:
            return None
        if frame.f_code is _FINALIZE:
            return frame
        frame = frame.f_back
    return None


def operand_marks(finalize, attr, walk):
    """Every ``attrs[attr]`` (a dict) held by the operation whose ``__finalize__``
    call frame is ``finalize``: the frame finalized, the inputs pandas names
    (``input_objs``) and, with ``walk``, the DataFrames and Series held by the pandas
    calls above it, up to the first call outside pandas (the user's)."""
    local = finalize.f_locals
    objs, other = [local.get("self")], local.get("other")
    if not isinstance(other, _FRAMES):  # (a frame's getattr looks among its columns)
        # pandas 3 names a concat's or merge's inputs ``input_objs``; pandas 2 passes
        # its concat's _Concatenator, which holds them as ``objs`` (the walk below sees
        # the first _MAX_ITEMS of the list the user gave: a copy's frame after them
        # was missed, and its rows named by the first frame's path)
        inputs = getattr(other, "input_objs", None)
        objs.extend((getattr(other, "objs", None) if inputs is None else inputs) or ())
    frame, calls = finalize.f_back if walk else None, 0
    while frame is not None and calls < _MAX_CALLS and _is_pandas(frame):
        for value in frame.f_locals.values():
            _collect(value, objs)
        frame, calls = frame.f_back, calls + 1
    marks, seen = [], set()
    for obj in objs:
        if not isinstance(obj, _FRAMES) or id(obj) in seen:
            continue
        seen.add(id(obj))
        # (a frame pandas is still making may lack it; getattr would then ask pandas'
        # __getattr__, which on a frame without its data recurses without end)
        attrs = vars(obj).get("_attrs")
        mark = attrs.get(attr) if isinstance(attrs, dict) else None
        if isinstance(mark, dict):
            marks.append(mark)
    return marks


def _is_pandas(frame):
    return frame.f_globals.get("__name__", "").startswith("pandas.")


def _collect(value, objs):
    if isinstance(value, _FRAMES):
        objs.append(value)
    elif isinstance(value, list | tuple):
        objs.extend(v for v in value[:_MAX_ITEMS] if isinstance(v, _FRAMES))
    elif isinstance(value, dict) and len(value) <= _MAX_ITEMS:
        objs.extend(v for v in value.values() if isinstance(v, _FRAMES))
