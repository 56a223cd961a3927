"""Where the warnings of ``read_csv``'s pandas calls point, and the check's parses' silence.

pandas points its warnings (``ParserWarning``, ``DtypeWarning``, its deprecations) at the
first frame outside pandas (its ``find_stack_level``): called by ``read_csv``, that was
sktraceprop's own module, so the user never saw their line, and the warnings filters'
"once per location" showed one of each per process, whichever line read the file. The
reads the user asked for are called here from a frame that stands for the user's line
(its file, line and module globals): pandas' own stack walk stops there, and the warning
is filtered, recorded and shown as if the user had called pandas. No process-wide state
is changed, so threads reading at once do not disturb each other's warnings.

The content checks parse a few records again with the caller's options; what pandas says
of those parses (the same ``ParserWarning`` again, or one of the sample alone) is not the
user's: they are called from a frame of a module name of their own
(``sktraceprop._lineage._csv_check_parse``), and one filter ignores the warnings pandas
attributes to it. ``warnings.catch_warnings`` is not used there: it is process-wide, and
ignoring every warning while a check parses dropped the warnings other threads raised
meanwhile (a fit's lineage warning). A filter list replaced later (``resetwarnings``, a
``catch_warnings`` block that began before the first check) shows the check's warnings
again, a duplicate at worst, never a warning lost.

The bad-lines parses must read pandas' "Skipping line N" warnings. Recording them with
``catch_warnings(record=True)`` took the warnings other threads raised meanwhile (given
again from the reading line) or lost them (a block left in another thread restored the
filters), and a filter that calls Python code to record is no way out: CPython 3.11
iterates the filter list through a borrowed reference, and a thread switch inside such a
filter let another thread's ``catch_warnings`` free the list under it (seen: "filters
item 2 isn't a 5-tuple", and crashes). So :func:`bad_lines_raised` calls pandas from a
frame of a module name of its own (standing for the user's line), and one filter, a
plain pattern matched in C, turns pandas' ``ParserWarning`` attributed to that module
into an exception: the parse stops there and its message names the lines; other
warnings, of this thread or others, are left alone.
"""

import re
import sys
import threading
import types
import warnings

from ..utils._stack import _PACKAGE

_LOCK = threading.Lock()


# (one line: the call's line is the code's first line, which stands for the user's)
_trampoline = lambda func, args, kwargs: func(*args, **kwargs)  # noqa: E731


def _without_columns(code):
    """``code`` with every instruction on its first line and no columns (a traceback
    through it shows the user's line without carets under columns of this module's),
    or ``code`` itself where the location table is not of the layout known here."""
    units = len(code.co_code) // 2
    table = bytearray()
    while units:  # entries "no columns" (13), at most 8 code units each, line delta 0
        n = min(units, 8)
        table += bytes([0x80 | (13 << 3) | (n - 1), 0])
        units -= n
    try:
        bare = code.replace(co_linetable=bytes(table))
        positions = set(bare.co_positions())
    except (ValueError, TypeError):
        return code
    first = code.co_firstlineno
    return bare if positions == {(first, first, None, None)} else code


_TRAMPOLINE = _without_columns(_trampoline.__code__)


def _user_frame():
    """The first frame outside sktraceprop (as ``user_stacklevel`` finds it)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    return frame


def as_user_call(func, *args, **kwargs):
    """``func(*args, **kwargs)``, called from a frame that pandas' warnings name as the
    user's line (the first caller outside sktraceprop)."""
    frame = _user_frame()
    if frame is None:
        return func(*args, **kwargs)
    code = _TRAMPOLINE.replace(
        co_filename=frame.f_code.co_filename,
        co_firstlineno=frame.f_lineno or frame.f_code.co_firstlineno,
        co_name="<pandas, called by sktraceprop.read_csv for this line>",
        co_qualname="<pandas, called by sktraceprop.read_csv for this line>",
    )
    call = types.FunctionType(code, frame.f_globals)
    del frame
    return call(func, args, kwargs)


_CHECK_MODULE = "sktraceprop._lineage._csv_check_parse"
_CHECK_GLOBALS = {"__name__": _CHECK_MODULE}
_CHECK_PATTERN = re.escape(_CHECK_MODULE) + r"\Z"
_CHECK_CALL = _TRAMPOLINE.replace(
    co_name="<sktraceprop.read_csv's check parse>",
    co_qualname="<sktraceprop.read_csv's check parse>",
)


def _ignoring_checks():
    """Whether the filter that ignores the check parses' warnings is in the list."""
    return any(
        f[0] == "ignore" and getattr(f[3], "pattern", f[3]) == _CHECK_PATTERN
        for f in warnings.filters
    )


def quietly(func, *args, **kwargs):
    """``func(*args, **kwargs)`` (a check's own parse), called from a frame of a module
    name of its own whose warnings one filter ignores; other warnings, of this thread or
    others, are left alone."""
    if not _ignoring_checks():
        warnings.filterwarnings("ignore", module=_CHECK_PATTERN)
    return types.FunctionType(_CHECK_CALL, _CHECK_GLOBALS)(func, args, kwargs)


_READ_MODULE = "sktraceprop._lineage._csv_bad_lines_read"
_SCAN_MODULE = "sktraceprop._lineage._csv_bad_lines_scan"
_RAISED_PATTERN = r"sktraceprop\._lineage\._csv_bad_lines_(read|scan)\Z"
_SCAN_PATTERN = re.escape(_SCAN_MODULE) + r"\Z"


def _raising_first():
    """Put first the filter that raises pandas' "Skipping line" ``ParserWarning`` of the
    bad-lines parses (a filter before it would decide them; its other ParserWarnings, a
    converter given with a dtype, are the user's), after it the one that ignores the
    scan's other warnings."""
    with _LOCK:
        top = warnings.filters[:2]
        if [(f[0], getattr(f[3], "pattern", None)) for f in top] == [
            ("error", _RAISED_PATTERN),
            ("ignore", _SCAN_PATTERN),
        ]:
            return
        from pandas.errors import ParserWarning

        warnings.filterwarnings("ignore", module=_SCAN_PATTERN)
        warnings.filterwarnings(
            "error", message="Skipping line", category=ParserWarning, module=_RAISED_PATTERN
        )


def bad_lines_raised(func, *args, scan=False, **kwargs):
    """``(func(*args, **kwargs), None)``, or ``(None, message)`` where pandas warned of
    bad lines: the ``ParserWarning`` raised in its place, which stopped the call. Other
    warnings are shown at the user's line (``scan``: ignored, the parse is the library's
    own)."""
    frame = _user_frame()
    code = _TRAMPOLINE
    if frame is not None:  # (shown at the user's line, and where the filter was lost)
        code = code.replace(
            co_filename=frame.f_code.co_filename,
            co_firstlineno=frame.f_lineno or frame.f_code.co_firstlineno,
        )
    del frame
    name = _SCAN_MODULE if scan else _READ_MODULE
    call = types.FunctionType(code, {"__name__": name})  # (a registry of its own)
    _raising_first()
    from pandas.errors import ParserWarning

    try:
        return call(func, args, kwargs), None
    except ParserWarning as exc:
        return None, str(exc)
