"""Read a CSV file once, in chunks: its SHA-256, and where pandas' records start.

Runs beside ``pandas.read_csv`` (in a thread: hashing, decompressing and the numba scan
release the GIL), holding one chunk at a time, never the whole file: the line numbers
cost one int64 per row. The bytes of a thinned, evenly spread sample of records (and the
header, the first and the last data records) are kept for the content check
(``_csv_kept``). How the file is opened and decompressed is ``_csv_files``, how it is
hashed and re-encoded into chunks ``_csv_text``; the chunk size (:data:`CHUNK` bytes,
which the tests make small) and the scan are here.
"""

import csv
import sys
from dataclasses import dataclass, field

import numpy as np

from ._csv_files import _decompressed, check_stable, compression_of, open_text  # noqa: F401
from ._csv_kept import N_SAMPLED, _Kept  # noqa: F401 (re-exported, as the above)
from ._csv_lines import header_records
from ._csv_skiprows import SkipRows
from ._csv_text import _first_at_least, _Hashing, _utf8, _writable

#: Bytes read per chunk.
CHUNK = 1 << 22


def _rereads_after_cr():
    """Whether pandas' C tokenizer, on a line led by blanks that holds data, backtracks to
    the byte after the last ``"\\n"`` (pandas before 3.0), past a lone ``"\\r"``: it then
    reads earlier records again, until the rows its current read of the file asks for are
    read (in chunks, the rest of the chunk; read whole, a buffer of many thousands of
    rows, or it fails: "Buffer overflow caught"), so no line can be named for those rows
    (tests/_lineage/test_csv_lone_cr_reread.py). Where
    that read ended right at the ``"\\r"`` (the first data record's, or a chunk's last)
    it reads the line as written."""
    import pandas as pd

    return int(pd.__version__.split(".")[0]) < 3


def _marked_record(kwargs):
    """Whether a UTF-8 byte order mark starts the first record, not text before it.

    pandas' python engine reads the mark as the first character of the first line's
    first field, removed only after (``_check_for_bom``): that line is never blank or a
    comment line to it, nor does a quote after the mark open a quoted field, where the
    C tokenizer skips the mark first. The line is then the first header record; with
    ``header=None`` a data row, which the python engine drops after all where it is
    blank once the mark is removed, unless ``skip_blank_lines=False`` (pandas 2.2 and
    3.1)."""
    if kwargs.get("engine") != "python":
        return False
    return header_records(kwargs) > 0 or not kwargs.get("skip_blank_lines", True)


def _byte(value):
    return -1 if value is None else value.encode()[0]


def _span(chunk, base, tail, tail_base, start, end):
    """Bytes ``start .. end`` of the stream, from the carried tail and the current chunk."""
    if start >= base:
        return bytes(chunk[start - base : end - base])
    head = tail[start - tail_base : end - tail_base]
    return head if end <= base else head + chunk[: end - base]


def _joined(pieces):
    """One array of the lines found: arrays, and ``(first, n)`` for consecutive lines."""
    sizes = [p[1] if isinstance(p, tuple) else p.size for p in pieces]
    out = np.empty(sum(sizes), np.int64)
    ramp = np.arange(max((p[1] for p in pieces if isinstance(p, tuple)), default=0))
    at = 0
    for piece, size in zip(pieces, sizes):
        if isinstance(piece, tuple):
            np.add(ramp[:size], piece[0], out=out[at : at + size])
        else:
            out[at : at + size] = piece
        at += size
    return out


@dataclass
class Scan:
    """What one pass over the file found.

    Attributes
    ----------
    sha256 : str
        SHA-256 of the file's bytes (as stored, before decompression).
    n_bytes : int
        Bytes read from the file.
    lines : ndarray of int64
        Physical start line of every record emitted (header records included).
    samples : dict of int to bytes
        Record index -> the record's bytes, for a thinned sample of records.
    n_records : int
        Records emitted (at most ``max_records``).
    status : str or None
        Why pandas would fail, or None.
    n_lines : int or None
        Physical lines of the file (an unfinished last line counts), when it was scanned
        to its end.
    bounds : dict of int to bytes
        Record index -> the record's bytes, for the first and last record of every chunk
        (``every`` of :func:`scan_file`).
    bom : bool
        Whether the text starts with a UTF-8 byte order mark (in no record's bytes,
        but with ``engine="python"`` in the first record's, as that engine reads it).
    """

    sha256: str
    n_bytes: int
    lines: np.ndarray
    samples: dict = field(default_factory=dict)
    n_records: int = 0
    status: str = None
    n_lines: int = None
    bounds: dict = field(default_factory=dict)
    bom: bool = False


_NO_MASKS = np.zeros((4, 0), np.uint64)


def scan_file(
    path, kwargs, n_keep, last_kept, max_records=-1, fast=True, every=0, phase=0, wanted=()
):
    """One pass over ``path``: hash, decompress, re-encode and scan for records.

    Parameters
    ----------
    path : Path
    kwargs : dict
        The ``read_csv`` options.
    n_keep : int
        The bytes of records ``0 .. n_keep - 1`` (header and first data record) are kept.
    last_kept : int
        The bytes of the last ``last_kept`` records are kept (the last data record is
        before ``skipfooter`` footer records).
    max_records : int, default=-1
        Stop scanning after this many records (``nrows``); the file is still hashed.
    fast : bool, default=True
        Count runs of lines that are one record each (:func:`._csv_count.count_run`),
        and scan other chunks free of escape, comment and ``\r`` bytes with
        :func:`._csv_plain.scan_plain`; ``False`` runs the state machine on every byte
        (they must agree: the property tests compare them).
    every : int, default=0
        With a chunk size, the bytes of the first and last record of every ``every``
        data records (from record ``n_keep - 1``) are kept too.
    phase : int, default=0
        With ``every``, the chunks start at data record ``phase`` (modulo ``every``).
    wanted : tuple of int, default=()
        Data records whose bytes are kept too (in ``bounds``).

    Returns
    -------
    scan : Scan
    """
    from . import _csv_kernel as K
    from ._csv_count import count_run
    from ._csv_plain import scan_plain
    from ._csv_quoted import quote_masks

    sep = kwargs.get("sep", kwargs.get("delimiter", ","))
    delim = _byte(sep)
    quoting = kwargs.get("quoting", csv.QUOTE_MINIMAL)
    quote = -1 if quoting == csv.QUOTE_NONE else _byte(kwargs.get("quotechar", '"'))
    comment, escape = _byte(kwargs.get("comment")), _byte(kwargs.get("escapechar"))
    lineterminator = kwargs.get("lineterminator")
    term = 10 if lineterminator is None else _byte(lineterminator)
    carriage = 13 if lineterminator is None else -1
    stop_field = np.zeros(256, bool)
    stop_quoted = np.zeros(256, bool)
    stop_field[[b for b in (term, carriage, escape, delim, comment) if b >= 0]] = True
    stop_quoted[[b for b in (quote, escape) if b >= 0]] = True
    # Without a quote character in a chunk, a field's start is handled like its middle,
    # so delimiters need not stop the run of plain bytes: one run per record.
    stop_unquoted = stop_field.copy()
    if delim >= 0:
        stop_unquoted[delim] = False
    quote_byte = bytes([quote]) if quote >= 0 else None
    # Chunks without these bytes take the fast path.
    specials = [bytes([b]) for b in (escape, comment, 13) if b >= 0]
    # Bytes that keep a run of lines from being counted (0 for none: NUL bytes do anyway).
    count_specials = np.array([max(b, 0) for b in (quote, comment, escape)], np.uint8)
    flags = (
        bool(kwargs.get("doublequote", True)),
        bool(kwargs.get("skip_blank_lines", True)),
        bool(kwargs.get("skipinitialspace", False)),
        # (lines skipped, blank or commented out end as the python engine ends them)
        kwargs.get("engine") == "python",
    )
    in_record = {
        K.START_FIELD,
        K.ESCAPED_CHAR,
        K.IN_FIELD,
        K.IN_QUOTED_FIELD,
        K.ESCAPE_IN_QUOTED_FIELD,
        K.QUOTE_IN_QUOTED_FIELD,
        K.EAT_CRNL,
        K.EAT_COMMENT,
    }

    method = compression_of(path, kwargs.get("compression", "infer"))
    lines = []
    kept = _Kept(n_keep, last_kept, every, phase % every if every else 0, tuple(wanted))
    starts, ends, found = (np.empty(1 << 16, np.int64) for _ in range(3))
    skips = SkipRows(kwargs.get("skiprows"))
    st = None
    base = 0
    tail, tail_base = b"", 0
    last_byte = term
    start = 0  # where the scan starts (after a byte order mark, for the C tokenizer)
    bom = False
    complete = False  # scanned to the end (not stopped by max_records)
    with open(path, "rb") as fh:
        raw = _Hashing(fh)
        stream = _decompressed(raw, method, path)
        encoding = kwargs.get("encoding")
        chunks = _utf8(stream, encoding, kwargs.get("encoding_errors", "strict"), CHUNK)
        chunks = _first_at_least(chunks, 3)
        for chunk in chunks:
            if st is None:
                bom = chunk[:3] == b"\xef\xbb\xbf"
                start = 3 if bom and not _marked_record(kwargs) else 0
                st = K.new_state(start, header_records(kwargs))
            if max_records >= 0 and st[K.S_N_REC] >= max_records:
                break  # nrows reached: the rest is only hashed
            buf = _writable(chunk)
            skip = skips.mask
            if not skips.complete:  # (grown as far as this chunk's lines, not a value's)
                skip = skips.upto(int(st[K.S_FILE_LINES]) + K.count_line_ends(buf) + 2)
            counting = fast and term == 10 and sys.byteorder == "little"
            if fast and term == 10:
                head = min((-buf.ctypes.data) % 8, buf.size)
                words = buf[head : head + (buf.size - head) // 8 * 8].view(np.uint64)
            plain = None  # not yet looked at: a counted run does not need it
            masks = None  # made when scan_plain first takes a quoted chunk
            stops = stop_field  # right for any chunk (stop_unquoted: without quotes)
            pos = 0
            while pos < buf.size and not (max_records >= 0 and st[K.S_N_REC] >= max_records):
                first = int(st[K.S_N_REC])
                k, stop = 0, pos
                limit = max_records
                spans = lambda js: (starts[js], ends[js])  # noqa: E731
                run = None
                if counting:
                    run = count_run(
                        chunk, buf, words, head, pos, base, st, max_records, skip, count_specials,
                        delim,
                    )  # fmt: skip
                    if run is not None:
                        k, stop, run_line, spans = run
                        # What is left is the chunk's unfinished last line: the state
                        # machine's.
                        counting, plain = False, False
                    elif st[K.S_STATE] == K.START_RECORD:
                        counting = False  # refused: the other paths take the chunk
                    else:
                        # A record in progress: the state machine ends it (without a look
                        # at the whole chunk), then the census is tried again.
                        n_rec = int(st[K.S_N_REC])
                        limit = n_rec + 1 if max_records < 0 else min(max_records, n_rec + 1)
                if plain is None and not counting:
                    # (A delimiter ending the chunk is followed by a byte of the next chunk,
                    # which may open quotes; so is one followed by spaces skipinitialspace
                    # skips.)
                    ending = chunk.rstrip(b" ") if flags[2] and delim != 32 else chunk
                    quoted = quote_byte is not None and (
                        quote_byte in chunk or (ending[-1:] or b"\x00")[0] == delim
                    )
                    stops = stop_field if quoted else stop_unquoted
                    plain = fast and term == 10 and not any(b in chunk for b in specials)
                    if plain and quoted:
                        plain = not flags[2]  # skipinitialspace would open quotes after blanks
                if run is None and plain:
                    if masks is None:
                        masks = quote_masks(buf, quote, delim) if quoted else _NO_MASKS
                    k, stop = scan_plain(
                        buf, words, head, pos, base, st, limit, delim,
                        quote if quoted else -1, flags[0], flags[1], skip, starts, ends, found,
                        masks,
                    )  # fmt: skip
                    # The state machine hands the chunk back after its next record.
                    n_rec = int(st[K.S_N_REC])
                    limit = n_rec + 1 if max_records < 0 else min(max_records, n_rec + 1)
                if stop > pos:
                    pos = stop
                else:
                    # Not a line the fast paths may take: the state machine's.
                    k, pos = K.scan_chunk(
                        buf, pos, base, st, limit, delim, quote, comment, escape, term,
                        carriage, *flags, skip, stops, stop_quoted, starts, ends, found,
                    )  # fmt: skip
                lines.append((run_line, k) if run is not None else found[:k].copy())
                kept.add(
                    first,
                    k,
                    spans,
                    lambda a, b, c=chunk, o=base, t=tail, tb=tail_base: _span(c, o, t, tb, a, b),
                )
            state = int(st[K.S_STATE])
            if state in in_record or state == K.WHITESPACE_LINE:
                keep_from = st[K.S_WS_START] if state == K.WHITESPACE_LINE else st[K.S_REC_START]
                tail = _span(chunk, base, tail, tail_base, keep_from, base + len(chunk))
                tail_base = int(keep_from)
            else:
                tail, tail_base = b"", base + len(chunk)
            base += len(chunk)
            last_byte = chunk[-1]
        else:
            complete = True
        raw.drain(CHUNK)
    status = None
    if st is None:
        st = K.new_state()
    if st[K.S_CR_BLANK] and kwargs.get("engine") != "python" and _rereads_after_cr():
        import pandas as pd

        status = (
            f"line {int(st[K.S_CR_BLANK])} starts with a blank after a line ended by a lone "
            f"\\r, where the C tokenizer of pandas {pd.__version__} (before 3.0) backtracks "
            "past that \\r and reads earlier records again in place of the rows after it (or "
            "never ends), as its reads of the file happen to fall, so its rows are not the "
            "file's lines (engine='python' and pandas 3 read that line as it is written: "
            "read it so, or remove the blanks at the line's start)"
        )
    lines = _joined(lines)
    state = int(st[K.S_STATE])
    if not (max_records >= 0 and st[K.S_N_REC] >= max_records):
        end = None
        if state in (K.IN_FIELD, K.START_FIELD, K.QUOTE_IN_QUOTED_FIELD, K.EAT_COMMENT):
            end = base
        elif state == K.EAT_CRNL:
            end = int(st[K.S_REC_END])
        elif state in (K.IN_QUOTED_FIELD, K.ESCAPE_IN_QUOTED_FIELD):
            status = "the file ends inside a quoted field"
        elif state == K.ESCAPED_CHAR:
            status = "the file ends after an escape character"
        if end is not None:
            g = int(st[K.S_N_REC])
            text = _span(b"", base, tail, tail_base, int(st[K.S_REC_START]), end)
            kept.samples[g] = kept.recent[g] = text
            lines = np.append(lines, st[K.S_REC_LINE])
            st[K.S_N_REC] += 1
    samples = {**kept.samples, **kept.recent}
    n_lines = None
    if complete and int(st[K.S_COUNTED]) == base:
        # (no unfinished line after a last line end, nor in a file of a byte order mark)
        n_lines = int(st[K.S_LINE]) - (last_byte in (10, 13, term) or base == start)
    return Scan(
        raw.sha.hexdigest(),
        raw.n_bytes,
        lines,
        samples,
        int(st[K.S_N_REC]),
        status,
        n_lines,
        kept.bounds,
        bom,
    )
