"""RFC 8785, the JSON Canonicalization Scheme (JCS): one byte string per JSON value.

A report's SHA-256, its per-field digests and its signature (format version 5 and
later) are computed over these bytes, so that anyone can check them with any JSON
reader: parse the report, drop ``integrity``, write it back as JCS (in JavaScript,
``JSON.stringify`` of each value with the keys of every object sorted), and hash the
UTF-8. Reading and writing a report again (``json.load``/``json.dump``, ``jq``,
``JSON.parse``/``JSON.stringify``) leaves its JCS bytes as they were: ``1.0`` and ``1``
are one number, ``1e-07`` and ``1e-7`` too.

The rules (RFC 8785, section 3.2): no whitespace; object members sorted by their keys'
UTF-16 code units; strings as ECMAScript's ``JSON.stringify`` writes them (``\\b``,
``\\t``, ``\\n``, ``\\f``, ``\\r``, ``\\"``, ``\\\\``, other control characters as
``\\u00xx``, everything else as itself); numbers as ECMAScript writes an IEEE 754 double
(``Number.prototype.toString``); ``true``, ``false``, ``null``. NaN, infinities, lone
surrogates and integers beyond the largest double have no JCS form: :class:`ValueError`.
An integer beyond 2**53 - 1 is read as the nearest double, as every reader of JSON
numbers as doubles reads it: a report holds none (it writes such an integer as its
decimal string, and a check names one written as a number).
"""

import math
from decimal import Decimal

from ..utils._exact_ints import MAX_EXACT

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_ESCAPES["\r"] = "\\r"
for _code in range(0x20):
    _ESCAPES.setdefault(chr(_code), f"\\u{_code:04x}")
_TABLE = str.maketrans(_ESCAPES)


def jcs_bytes(value):
    """The JCS bytes (UTF-8) of a JSON value (dict, list, str, int, float, bool, None).

    Raises
    ------
    ValueError
        For a value with no JCS form (see the module's notes), naming it.
    TypeError
        For a value that is not JSON (a set, bytes, an object).
    """
    parts = []
    _write(value, parts.append)
    return "".join(parts).encode("utf-8")


def _write(value, out):
    if value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, str):
        out(_string(value))
    elif isinstance(value, int):
        if -MAX_EXACT <= value <= MAX_EXACT:
            out(str(int(value)))
        else:  # a JSON number is a double (RFC 8785, 3.2.2.3): read as one
            try:
                out(es_number(float(value)))
            except OverflowError:
                raise ValueError(f"the integer {value} is beyond every double") from None
    elif isinstance(value, float):
        out(es_number(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys are strings, not {type(key).__name__}")
        out("{")
        for i, key in enumerate(sorted(value, key=_utf16)):
            if i:
                out(",")
            out(_string(key))
            out(":")
            _write(value[key], out)
        out("}")
    elif isinstance(value, list | tuple):
        out("[")
        for i, item in enumerate(value):
            if i:
                out(",")
            _write(item, out)
        out("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


def _utf16(key):
    return key.encode("utf-16-be", "surrogatepass")


def _string(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"the string {text[:40]!r} holds a lone surrogate: it has no JCS form"
        ) from None
    return '"' + text.translate(_TABLE) + '"'


def es_number(x):
    """``x`` as ECMAScript's ``Number.prototype.toString`` writes it (RFC 8785, 3.2.2.3).

    Python's ``repr`` gives the same shortest digits that round-trip; only their layout
    differs (``1e-07``/``1e-7``, ``1e+16``/``10000000000000000``, ``1.0``/``1``).
    """
    if not math.isfinite(x):
        raise ValueError(f"{x!r} has no JCS form: JSON has no NaN or infinity")
    if x == 0:
        return "0"  # -0 too
    sign, digits, exponent = Decimal(repr(x)).as_tuple()
    # x = 0.d1...dk * 10**n, as ECMAScript's algorithm names the shortest digits
    n = len(digits) + exponent
    digits = "".join(map(str, digits)).lstrip("0").rstrip("0")
    k = len(digits)
    minus = "-" if sign else ""
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return minus + body
