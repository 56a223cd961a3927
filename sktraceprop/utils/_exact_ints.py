"""Integers beyond 2**53 in JSON: written as decimal strings, so that no reader rounds them.

JavaScript's ``JSON.parse`` (and every JSON reader that holds numbers as doubles) reads
an integer beyond 2**53 - 1 in magnitude as a neighbouring one, without a word. Row ids
are int64 (``source code << 36 | line``) and mostly beyond it: three removed rows of one
file read back as one id. What sktraceprop writes as JSON for other programs (compliance
reports, OpenLineage events, OpenTelemetry attributes) holds such an integer as its
decimal string instead: ``BigInt(x)`` and ``int(x)`` read numbers and strings alike.
"""

#: The largest integer a double holds exactly together with its neighbours.
MAX_EXACT = 2**53 - 1


def _beyond(value):
    return type(value) is int and not -MAX_EXACT <= value <= MAX_EXACT


def exact_view(value):
    """A copy of a JSON value with every integer beyond 2**53 - 1 in magnitude written
    as its decimal string (everything else as it is)."""
    if _beyond(value):
        return str(value)
    if isinstance(value, dict):
        return {k: exact_view(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [exact_view(v) for v in value]
    return value


def rounded_pointers(value, pointer="", limit=5):
    """``(JSON pointer, integer)`` of the integers in ``value`` (at most ``limit``) that
    a reader of numbers as doubles would read as another number."""
    found = []

    def walk(item, where):
        if len(found) >= limit:
            return
        if _beyond(item):
            found.append((where or "/", item))
        elif isinstance(item, dict):
            for key, v in item.items():
                walk(v, f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}")
        elif isinstance(item, list | tuple):
            for i, v in enumerate(item):
                walk(v, f"{where}/{i}")

    walk(value, pointer)
    return found
