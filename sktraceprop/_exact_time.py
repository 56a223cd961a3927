"""Stored times read to the nanosecond.

An audit event's time is the text its writer stamped (ISO 8601 with a UTC offset), and
the store's schema (``stored_time``) allows up to nine fractional digits. Python's
:meth:`datetime.fromisoformat` keeps six: it cuts ``...00.0000005`` to ``...00.000000``,
so a clock set back by less than a microsecond, or a report's time under its chain
head's by as little, would go unseen by a comparison of what it returns. Here the digits
below the microsecond are read from the text itself: :func:`iso_ns` gives the exact
count of nanoseconds since the epoch, and :class:`ExactTime` is a ``datetime`` that
compares (and orders, and hashes) by it.

The library's own stamps (:func:`~._lineage._source.utc_now`:
``2026-12-06T10:00:00.123456+00:00``) have six digits and a UTC offset, which
``datetime`` holds exactly: they are read by :meth:`datetime.fromisoformat` alone, once
their layout shows it (one at a time in :func:`exact_time`, a list at once in
:func:`own_stamps`), and every other time by the exact general reading.
"""

import re
from datetime import datetime, timedelta, timezone

__all__ = ["ExactTime", "exact_time", "exact_times", "iso_ns", "ns_between", "own_stamps"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: A run of fractional digits longer than ``datetime`` keeps.
_FINE = re.compile(r"[.,]\d{7}")
#: A stored time as the schema writes it (``stored_time``): where it has more than six
#: fractional digits, a time must be in this form, so that they are its seconds'
#: (Python also reads other forms, and offsets with fractional seconds).
_STORED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(?:Z|[+-]\d{2}:\d{2})")
_fromisoformat = datetime.fromisoformat
#: A stored time's separators up to its fraction's, ``YYYY-MM-DDTHH:MM:SS.``: every
#: third character from the fifth (``text[4:20:3]``).
_LAYOUT = "--T::."
#: The library's own stamp (``utc_now``): its width, and each separator's place in it.
_OWN_WIDTH = 32
_OWN_MARKS = (
    (4, "-"),
    (7, "-"),
    (10, "T"),
    (13, ":"),
    (16, ":"),
    (19, "."),
    (26, "+"),
    (27, "0"),
    (28, "0"),
    (29, ":"),
    (30, "0"),
    (31, "0"),
)


class TimeOutOfRange(ValueError, OverflowError):
    """An ISO 8601 time that lies before year 1 or after year 9999 once moved to UTC,
    where no ``datetime`` holds it: a :class:`ValueError` (a time the library cannot
    read as a moment, as callers that check times expect) that is also the
    :class:`OverflowError` Python raised for it."""


def _below_microsecond(text):
    """The nanoseconds (0-999) the fraction of ``text`` holds below its microseconds,
    which :meth:`datetime.fromisoformat` drops; a fraction finer than a nanosecond is
    refused rather than cut in turn."""
    if len(text) <= 32 and text[-6:-5] in ("+", "-") and text[4:20:3] == _LAYOUT:
        return 0  # (a stored time with at most six digits before its offset, ±HH:MM)
    if _FINE.search(text) is None:
        return 0  # (six digits or fewer: datetime holds them all)
    found = _STORED.fullmatch(text)
    if found is None:
        raise ValueError(
            f"the time {text!r} has more fractional digits than a microsecond's but is not "
            "written as a stored time is (2026-12-06T10:00:00.123456789+00:00, up to nine "
            "digits): which instant it names is not read to the nanosecond"
        )
    return int(found.group(1)[6:].ljust(3, "0"))


def _micros(moment):
    """Microseconds since the epoch of an aware datetime (integers only: exact)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def iso_ns(text, *, naive_utc=False):
    """Nanoseconds since the Unix epoch of the ISO 8601 time ``text`` (exact, to the
    nine fractional digits a stored time may have).

    A time with no UTC offset names no instant: :class:`ValueError`, unless
    ``naive_utc`` (then it is read as UTC).
    """
    moment = _fromisoformat(text)
    if moment.tzinfo is None:
        if not naive_utc:
            raise ValueError(f"the time {text!r} has no UTC offset")
        moment = moment.replace(tzinfo=timezone.utc)
    # (not moved to UTC: an instant before year 1 there, 0001-01-01T00:00+01:00, is one)
    return _micros(moment) * 1_000 + _below_microsecond(text)


def exact_time(text, *, naive_utc=True):
    """The ISO 8601 time ``text`` as an aware datetime in UTC, exact: an
    :class:`ExactTime` where it has digits below the microsecond, else a plain
    ``datetime`` (which holds it exactly, and compares in C: a report sorts a million
    of them). Naive times are read as UTC, unless ``naive_utc`` is False: then
    :class:`ValueError`."""
    # YYYY-MM-DDTHH:MM:SS. then at most six digits before a UTC offset (the library's
    # own stamps): datetime reads it exactly, in UTC, if it is a time
    if text[-6:] == "+00:00":
        if len(text) <= 32 and text[4:20:3] == _LAYOUT:
            return _fromisoformat(text)
    elif text[-1:] == "Z" and len(text) <= 27 and text[4:20:3] == _LAYOUT:
        return _fromisoformat(text)
    return _read_exact(text, naive_utc)


def _read_exact(text, naive_utc):
    """:func:`exact_time` of any ISO 8601 time: the digits below the microsecond read
    from the text, the offset applied."""
    moment = _fromisoformat(text)
    if moment.tzinfo is None:
        if not naive_utc:
            raise ValueError(f"the time {text!r} has no UTC offset")
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        moment = moment.astimezone(timezone.utc)
    except OverflowError:
        raise TimeOutOfRange(
            f"the time {text!r} lies outside the years 1 to 9999 once moved to UTC, "
            "where no datetime holds it"
        ) from None
    ns = _below_microsecond(text)
    return ExactTime.of(moment, ns) if ns else moment


def own_stamps(texts):
    """The times of ``texts`` (a list) as :func:`exact_time` reads them, where every one
    is stamped as the library stamps (``2026-12-06T10:00:00.123456+00:00``); else None.

    Their layout is checked on all of them at once (their characters at each
    separator's place, in their text joined), and :meth:`datetime.fromisoformat`
    reads them (refusing any that is not a time), exactly: no digit lies below the
    microsecond.
    """
    n = len(texts)
    if not n:
        return []
    try:
        joined = "".join(texts)
    except TypeError:  # (one is not a text)
        return None
    # (each is 32 characters long: none longer, and all of them as long as 32 each)
    if len(joined) != _OWN_WIDTH * n or max(map(len, texts)) != _OWN_WIDTH:
        return None
    for at, mark in _OWN_MARKS:
        if joined[at::_OWN_WIDTH] != mark * n:
            return None
    try:
        return list(map(_fromisoformat, texts))
    except ValueError:
        return None


def exact_times(texts, *, naive_utc=True):
    """:func:`exact_time` of each of ``texts``, in order: the library's own stamps
    read at once (:func:`own_stamps`) where every one is such a stamp."""
    texts = list(texts)
    found = own_stamps(texts)
    if found is not None:
        return found
    return [exact_time(text, naive_utc=naive_utc) for text in texts]


def _ns_of(value):
    return value.nanosecond if isinstance(value, ExactTime) else 0


class ExactTime(datetime):
    """A ``datetime`` with the nanoseconds below its microsecond (``nanosecond``,
    0-999): compared, ordered and hashed as the exact instant; moved by a
    ``timedelta`` it keeps them.

    What can only hold microseconds does not: :meth:`isoformat` and ``strftime`` write
    the time cut to the microsecond (the report's figures are written so), and the
    difference of two is a ``timedelta`` rounded to the nearest microsecond. Compare
    them, never their text or their difference, to order two times.
    """

    __slots__ = ("nanosecond",)

    def __new__(cls, *args, nanosecond=0, **kwargs):
        self = super().__new__(cls, *args, **kwargs)
        if not 0 <= nanosecond < 1_000:
            raise ValueError(f"nanosecond must be in 0..999, not {nanosecond}")
        self.nanosecond = int(nanosecond)
        return self

    @classmethod
    def of(cls, moment, nanosecond=0):
        """``moment`` (a datetime) with ``nanosecond`` below its microsecond."""
        return cls(*_fields(moment), fold=moment.fold, nanosecond=nanosecond)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (_plain(self), self.nanosecond))

    def __repr__(self):
        return f"{type(self).__name__}({_plain(self)!r}, nanosecond={self.nanosecond})"

    # comparisons: the microseconds first (datetime's own, aware or naive as it says),
    # then the nanoseconds below them
    def _cmp(self, other):
        if datetime.__eq__(self, other) is True:
            return (self.nanosecond > _ns_of(other)) - (self.nanosecond < _ns_of(other))
        return 1 if datetime.__gt__(self, other) else -1

    def __eq__(self, other):
        if not isinstance(other, datetime):
            return NotImplemented
        return datetime.__eq__(self, other) is True and self.nanosecond == _ns_of(other)

    def __ne__(self, other):
        if not isinstance(other, datetime):
            return NotImplemented
        return not self.__eq__(other)

    def __lt__(self, other):
        if not isinstance(other, datetime):
            return NotImplemented
        return self._cmp(other) < 0

    def __le__(self, other):
        if not isinstance(other, datetime):
            return NotImplemented
        return self._cmp(other) <= 0

    def __gt__(self, other):
        if not isinstance(other, datetime):
            return NotImplemented
        return self._cmp(other) > 0

    def __ge__(self, other):
        if not isinstance(other, datetime):
            return NotImplemented
        return self._cmp(other) >= 0

    def __hash__(self):
        # equal to a plain datetime's where no nanosecond is below its microsecond
        plain = datetime.__hash__(self)
        return plain if not self.nanosecond else hash((plain, self.nanosecond))

    def __add__(self, other):
        if isinstance(other, timedelta):
            return ExactTime.of(datetime.__add__(self, other), self.nanosecond)
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, timedelta):
            return ExactTime.of(datetime.__sub__(self, other), self.nanosecond)
        if isinstance(other, datetime):
            return _rounded(ns_between(other, self))
        return NotImplemented

    def __rsub__(self, other):
        if isinstance(other, datetime):
            return _rounded(ns_between(self, other))
        return NotImplemented

    def exact_isoformat(self):
        """The time in ISO 8601 to its microsecond, and to its nanosecond where one is
        below it (nine digits): the text of a time as fine as it was stamped."""
        text = datetime.isoformat(self, timespec="microseconds")
        if not self.nanosecond:
            return text
        at = text.index(".") + 7
        return f"{text[:at]}{self.nanosecond:03d}{text[at:]}"

    def replace(self, *args, nanosecond=None, **kwargs):
        """As :meth:`datetime.replace`; the nanoseconds are kept unless the
        microseconds are replaced (then 0) or ``nanosecond`` is given."""
        if nanosecond is None:
            touched = len(args) >= 7 or "microsecond" in kwargs
            nanosecond = 0 if touched else self.nanosecond
        return ExactTime.of(datetime.replace(self, *args, **kwargs), nanosecond)

    def astimezone(self, tz=None):
        return ExactTime.of(datetime.astimezone(self, tz), self.nanosecond)


def ns_between(start, end):
    """The exact nanoseconds from ``start`` to ``end`` (datetimes; an
    :class:`ExactTime` counts its nanoseconds)."""
    micros = datetime.__sub__(end, start) // timedelta(microseconds=1)
    return micros * 1_000 + _ns_of(end) - _ns_of(start)


def _rounded(ns):
    """A difference in nanoseconds as a timedelta (to the nearest microsecond)."""
    return timedelta(microseconds=(ns + 500) // 1_000)


def _fields(moment):
    """A datetime's positional fields, year to tzinfo."""
    return (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
        moment.tzinfo,
    )


def _plain(moment):
    return datetime(*_fields(moment), fold=moment.fold)


def _rebuild(moment, nanosecond):
    return ExactTime.of(moment, nanosecond)
