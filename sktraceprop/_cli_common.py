"""What every ``sktraceprop`` command shares: its usage error, text from data shown
with control characters escaped, and a store opened read-only (and verified)."""

import re
import sys
from pathlib import Path


class _UsageError(Exception):
    """A problem with what the user asked for (exit code 2)."""


#: What a terminal obeys rather than shows: C0 and C1 controls (escape sequences that
#: recolour, retitle, erase or move the cursor; a backspace or carriage return that
#: overwrites what was printed) and Unicode's bidirectional controls.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_CONTROL_OR_NEWLINE = re.compile(f"[{_CONTROLS}\n]")


def _escaped(match):
    return match.group().encode("unicode_escape").decode("ascii")


def _shown(value):
    """A value from a store or a data file as one line of text: its control characters
    (a newline included, which would forge an output line) shown escaped (``\\x1b``)."""
    return _CONTROL_OR_NEWLINE.sub(_escaped, str(value))


def _count(n, noun, plural=None):
    """``"1 run"``, ``"3 runs"``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


class _OutputClosed(Exception):
    """Standard output's reader went away (``sktraceprop ... | head``): not an error of
    the command, which stops printing (see :func:`sktraceprop.cli.main`)."""


def _print(*args, out=None, file=None):
    """Print, with control characters shown escaped: what the command prints holds
    names and lines from data files, which must reach the terminal as text."""
    text = " ".join(_CONTROL.sub(_escaped, str(a)) for a in args)
    _write_line(text, file=file or (out if out is not None else sys.stdout))


def _write_line(text, file):
    """``print(text, file=file)``; a closed pipe on standard output raises
    :class:`_OutputClosed` (a broken pipe anywhere else stays an error)."""
    try:
        print(text, file=file)
    except BrokenPipeError:
        if file is sys.stdout:
            raise _OutputClosed from None
        raise


def _open_store(db, full_check=False):
    """An existing SQLite store, read-only: no command but ``erase`` and
    ``erase-predictions`` writes to a store."""
    from .stores import SQLiteStore

    path = Path(db)
    if not path.exists() and _is_postgres_dsn(str(db)):
        # (its text is not repeated: a connection string may hold a password)
        raise _UsageError(
            "the command line reads SQLite store files only, and this is a PostgreSQL "
            "connection string, not a file: check a PostgreSQL store from Python, "
            "sktraceprop.stores.PostgresStore(dsn).check() (or .verify())"
        )
    if path.is_dir():
        raise _UsageError(f"{db} is a directory, not a store file")
    if not path.is_file():
        raise _UsageError(f"no store at {db} (the file does not exist)")
    return SQLiteStore(path, mode="ro", check_on_open="full" if full_check else "header")


def _is_postgres_dsn(text):
    """Whether ``text`` is a PostgreSQL connection string (a URI or ``key=value`` pairs)."""
    import re

    return bool(
        re.match(r"(?i)postgres(ql)?://", text)
        or re.search(r"(?i)(^|\s)(dbname|host|user|service)\s*=", text)
    )


def _verified_store(db):
    """An existing SQLite store whose record verifies (:meth:`~BaseStore.verify`).

    What ``runs`` and ``trace`` print is read from the store's rows (run records,
    unlearning events) as they now read: a row edited outside sktraceprop would be
    printed as if it were the record (a removed row shown as never removed). They
    print nothing from a store that does not verify (exit 1, naming each problem).
    A schema-1 store (sktraceprop 0.1), whose runs are outside any chain, is read
    with a note saying so.
    """
    from .exceptions import CorruptStoreError, StoreError

    store = _open_store(db)
    try:
        store.verify()
    except CorruptStoreError:
        raise
    except StoreError as exc:
        if store.schema_version != 1:
            raise
        _print(f"note: {exc}", file=sys.stderr)
    return store
