"""A brute force of ``read_csv``'s lines: small CSV files whose every physical line names
itself, read with options in combination, checked against the raw bytes.

Each physical line the writer ends (``\\n``, ``\\r\\n`` or a lone ``\\r``) starts with a
token ``T<n>Z``, after at most some spaces, a quote or a comment character; blank lines
and lines of an empty first field hold none at their start. The fields after the token are
drawn raw (open and closing quotes, escapes, delimiters, comment characters, numbers):
what pandas makes of them is not the writer's to say. The truth is the raw text only
(:func:`token_lines`): a row whose first field (the key, always read) starts with a
token started on that token's line, whatever pandas parsed; a row whose key does not
cannot have started on a line that starts with a token; and a row started on or before
the first line any token in it comes from. A read either returns pandas' own frame with
such lines, or raises.

Most files (four in five) are drawn for pandas to read: records of the header's width,
fields quoted where they hold the delimiter or a quote, preamble lines of the header's
width, and options made to agree (:func:`_tidy`: the engine supports them, ``names``
fit the header); the others keep the raw draw, malformed lines and clashing options
included.
"""

import bz2
import csv
import functools
import gzip
import io
import re
import warnings
import zipfile

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageError, LineageWarning

_TOKEN = re.compile(r"T\d+Z")
_LINE_END = re.compile(r"\r\n|\r|\n")
_SEPS = [",", ";", "\t", "|", " "]
# raw field text: quotes that open or close fields, escapes, comment characters,
# numbers with thousands and decimal marks, missing-value markers, blanks
_FRAGMENTS = [
    "1", "2.5", "-3", "", "a", "a b", "NA", "#N/A", "-", '"q"', '"a,b"', '"x', 'y"', "'s'",
    "'o", "\\", '\\"', "#c", "%c", "1.000,5", "1,000", "é", "中", " ", "\t", '""', "\xa0",
    # not line ends to pandas, line ends to str.splitlines
    "\x0c", "\x1e", "\x85", "\u2028", "\x0b",
]  # fmt: skip


def token_lines(text):
    """``token -> physical line`` of every token in ``text``, and the lines that start
    with one (after blanks, quotes, comment characters and a byte order mark)."""
    ends = [m.end() for m in _LINE_END.finditer(text)]
    where = {}
    for m in _TOKEN.finditer(text):
        where[m.group()] = 1 + int(np.searchsorted(ends, m.start(), side="right"))
    starting = set()
    for number, line in enumerate(_LINE_END.split(text), 1):
        if _TOKEN.match(line.lstrip(" \t\"'#%\ufeff")):
            starting.add(number)
    return where, starting


@st.composite
def hunt_files(draw):
    """``(name, data, options, sep)``: a small CSV file (its name says its compression),
    ``read_csv`` options, mostly supported ones, in combination, and the delimiter it
    was written with."""
    sep = draw(st.sampled_from(_SEPS))
    n_fields = draw(st.integers(1, 4))
    # most files are ones pandas can read (records of the header's width, fields quoted
    # where they hold a delimiter or a quote, options that go together); a few are not
    clean = draw(st.integers(0, 4)) > 0
    lines = []  # (text, ending); tokens are numbered by line, as the writer counts

    def token():
        return f"T{len(lines) + 1}Z"

    def fields(n):
        frags = draw(st.lists(st.sampled_from(_FRAGMENTS), min_size=n, max_size=n))
        frags = [f for f in frags if not (sep in " \t" and f in (" ", "\t"))]
        return [_quoted(f, sep) for f in frags] if clean else frags

    def ending():
        return draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))

    for _ in range(draw(st.integers(0, 3))):  # a preamble
        kind = draw(st.sampled_from(["meta", "meta", "blank", "comment"]))
        if kind == "meta":
            text = token() + sep + "meta" + draw(st.sampled_from(["", '"', ",x"]))
            if clean:  # (of the header's width: pandas may take it for the header)
                text = sep.join([token(), "meta", *[""] * (n_fields - 2)][:n_fields])
        else:
            text = "" if kind == "blank" else "#" + token() + draw(st.sampled_from(["", ' "']))
            if clean and kind == "comment":
                text = "#" + token() + sep * (n_fields - 1)
        lines.append((text, ending()))
    names = [f"T{len(lines) + 1}Z", *(f"c{k}" for k in range(1, n_fields))]
    lines.append((sep.join(names), ending()))
    width = n_fields
    index_names = draw(st.integers(0, 6)) == 0
    if index_names:
        # a line of k fields after the header, and records of the header's count plus k:
        # pandas' python engine takes it for index names (the C engine fails)
        k = draw(st.integers(1, 2))
        lines.append((sep.join([token(), *fields(k - 1)]), ending()))
        width = n_fields + k
    for _ in range(draw(st.integers(0, 10))):
        kinds = ["data"] * 6 + ["blank", "comment", "empty key"] + ["bad"] * (not clean)
        kind = draw(st.sampled_from(kinds))
        lead = "" if sep in " \t" else draw(st.sampled_from(["", "", " ", "  "]))
        quote = draw(st.sampled_from(["", "", "", '"', "'"]))
        if kind == "blank":
            text = draw(st.sampled_from(["", "", " ", "\t", "  "]))
        elif kind == "comment":
            text = draw(st.sampled_from(["#", "%"])) + token() + " " + "".join(fields(2))
        elif kind == "empty key":
            text = sep.join(["", *fields(width - 1)]) if width > 1 else '""'
        else:
            n = width + (draw(st.sampled_from([-1, 1, 2])) if kind == "bad" else 0)
            key = lead + quote + token() + quote
            text = sep.join([key, *fields(max(n - 1, 0))])
        lines.append((text, ending()))
    if lines and draw(st.booleans()):
        lines[-1] = (lines[-1][0], "")  # no line end at the end
    text = "".join(t + e for t, e in lines)
    options = _options(draw, sep, names, len(lines))
    if clean:
        _tidy(draw, options, sep, names, index_names)
    encoding = options.get("encoding", "utf-8")
    if encoding == "utf-8-sig" or (encoding == "utf-8" and draw(st.integers(0, 5)) == 0):
        text = "\ufeff" + text
    try:
        data = text.encode(encoding)
    except UnicodeError:
        data = text.encode("utf-8")
    if encoding in ("latin-1", "cp1252") and draw(st.integers(0, 3)) == 0:
        data = b"\xef\xbb\xbf" + data  # a UTF-8 byte order mark, read as three characters
    compression = draw(st.sampled_from([None] * 5 + ["gz", "zip", "bz2"]))
    if compression == "gz":
        data = gzip.compress(data)
    elif compression == "bz2":
        data = bz2.compress(data)
    elif compression == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("f.csv", data)
        data = buffer.getvalue()
    return "f.csv" + ("." + compression if compression else ""), data, options, sep


def _quoted(field, sep):
    """``field`` as a writer quotes it where it holds the delimiter or a quote (doubled
    inside); the others unchanged."""
    if sep in field or '"' in field:
        return '"' + field.replace('"', '""') + '"'
    return field


# options pandas' pyarrow engine refuses (pandas 2.2 and 3.1), and the C engine's
_PYARROW_NOT = {
    "chunksize", "comment", "converters", "delim_whitespace", "iterator", "lineterminator",
    "nrows", "quoting", "skipfooter", "skipinitialspace", "thousands",
}  # fmt: skip


def _tidy(draw, o, written, names, index_names):
    """Make drawn options ``o`` ones that go together, as a caller's would: the engine
    given supports them, names fit the header (``names``), a file with an index-names
    line (``index_names``) is read by the python engine; most read with the delimiter
    ``written``."""
    if index_names:
        o["engine"] = "python"
        # (options sktraceprop refuses with the python engine, whatever the file: the
        # names line is then never read, whole or in chunks)
        o.pop("nrows", None)
        o.pop("on_bad_lines", None)
    if o.get("delim_whitespace"):
        del o["delim_whitespace"]  # (deprecated in pandas 2.2, gone in 3)
        o["sep"] = r"\s+"
    # (sktraceprop refuses the pyarrow engine and regex delimiters: a few such reads
    # check the refusal, more would be draws wasted)
    if o.get("engine") == "pyarrow" and draw(st.integers(0, 3)):
        del o["engine"]
    if len(o.get("sep") or ",") > 1 and draw(st.integers(0, 3)):
        o["sep"] = written
    engine = o.get("engine")
    sep = o.get("sep", o.get("delimiter"))
    regex = ("sep" in o and sep is None) or len(sep or ",") > 1 and sep != r"\s+"
    if engine == "pyarrow":
        for k in _PYARROW_NOT & set(o):
            del o[k]
        if regex:
            o.pop("sep")
        if not isinstance(o.get("skiprows", 0), int):
            del o["skiprows"]
    elif engine == "c" and (regex or "skipfooter" in o):
        o["engine"] = engine = "python"
    if engine != "c" and (engine == "python" or regex or "skipfooter" in o):
        o.pop("lineterminator", None)
    if isinstance(o.get("index_col"), str) and o.get("header", 0) != 0 and "names" not in o:
        o["index_col"] = 0
    if o.get("header") == [0, 1]:
        del o["header"]
    if "names" in o:
        o["names"] = ["key", *(f"n{k}" for k in range(1, len(names)))]
        if o.get("index_col") not in (None, False, 0, [0, 1]):
            o["index_col"] = "key"
    if "usecols" in o and not callable(o["usecols"]):
        if isinstance(o.get("index_col"), str) or engine == "pyarrow":
            del o["usecols"]
        elif "names" in o:
            o["usecols"] = [o["names"][0], o["names"][-1]]
    if engine == "pyarrow" and len(o.get("sep") or ",") > 1:
        del o["sep"]


def _options(draw, sep, names, n_lines):
    """``read_csv`` options for a file of ``n_lines`` lines written with ``sep``."""
    o = {}

    def maybe(p=0.3):
        return draw(st.integers(0, 99)) < 100 * p

    engine = draw(st.sampled_from([None, None, "c", "python", "python", "pyarrow"]))
    if engine is not None:
        o["engine"] = engine
    how = draw(st.sampled_from(["sep"] * 8 + ["delimiter", "none", "regex", "whitespace"]))
    if how == "sep":
        o["sep"] = sep if not maybe(0.1) else draw(st.sampled_from(_SEPS))
    elif how == "delimiter":
        o["delimiter"] = sep
    elif how == "none":
        o["sep"] = None
    elif how == "regex":
        o["sep"] = draw(st.sampled_from([r"\s+", "[,;]", r"\|", r"\t"]))
    elif maybe(0.5):
        o["delim_whitespace"] = True
    header = draw(st.sampled_from(["infer", "infer", 0, 1, None, None, [0, 1]]))
    if header != "infer":
        o["header"] = header
    if header is None or maybe(0.1):
        o["names"] = ["key", *(f"n{k}" for k in range(1, len(names) + draw(st.integers(-1, 1))))]
    index_col = draw(st.sampled_from([None] * 5 + [0, False, [0, 1], "name"]))
    if index_col == "name":
        index_col = o["names"][0] if "names" in o else names[0]
    if index_col is not None:
        o["index_col"] = index_col
    if maybe(0.2) and len(names) > 1:
        o["usecols"] = draw(st.sampled_from([[0, len(names) - 1], "names", "callable"]))
        if o["usecols"] == "names":
            o["usecols"] = [(o.get("names") or names)[0], (o.get("names") or names)[-1]]
        elif o["usecols"] == "callable":
            first = (o.get("names") or names)[0]
            o["usecols"] = functools.partial(_first_or_one, first=first)
    skip = draw(st.sampled_from([None] * 4 + ["int", "list", "callable"]))
    if skip == "int":
        o["skiprows"] = draw(st.integers(0, 3))
    elif skip == "list":
        o["skiprows"] = draw(st.lists(st.integers(0, n_lines + 1), max_size=4, unique=True))
    elif skip == "callable":
        m, r = draw(st.integers(2, 5)), draw(st.integers(0, 4))
        o["skiprows"] = functools.partial(_every_mth, m=m, r=r)
    if maybe(0.15):
        o["skipfooter"] = draw(st.integers(1, 2))
    elif maybe(0.2):
        o["nrows"] = draw(st.integers(0, n_lines))
    if maybe(0.4):
        o["comment"] = draw(st.sampled_from(["#", "#", "%"]))
    if maybe(0.15):
        o["quotechar"] = "'"
    if maybe(0.1):
        o["quoting"] = draw(st.sampled_from([csv.QUOTE_NONE, csv.QUOTE_ALL]))
    if maybe(0.2):
        o["escapechar"] = "\\"
    if maybe(0.15):
        o["doublequote"] = False
    if maybe(0.2):
        o["skipinitialspace"] = True
    if maybe(0.3):
        o["skip_blank_lines"] = False
    if maybe(0.2):
        o["encoding"] = draw(st.sampled_from(["utf-8-sig", "utf-16", "latin-1", "cp1252"]))
    if maybe(0.1) and engine != "python":
        o["lineterminator"] = draw(st.sampled_from(["\n", "\r", ";"]))
    if maybe(0.15):
        o["na_values"] = draw(st.sampled_from([["a"], ["-", "#c"], {"c1": ["1"]}]))
        o["keep_default_na"] = draw(st.booleans())
    if maybe(0.2):
        o["on_bad_lines"] = draw(st.sampled_from(["skip", "warn"]))
    if maybe(0.1):
        o["dtype"] = draw(st.sampled_from([str, "category", {"c1": str}]))
    elif maybe(0.1):
        o["converters"] = {1: _strip}
    if maybe(0.1):
        o["thousands"], o["decimal"] = draw(st.sampled_from([(".", ","), (",", "."), ("_", ".")]))
    if "skipfooter" in o:
        pass  # (pandas reads no chunks with it)
    elif maybe(0.15):
        o["chunksize"] = draw(st.integers(1, 4))
    elif maybe(0.1):
        o["iterator"] = True
    return o


# (module functions bound by functools.partial, not lambdas: a drawn file's options are
# pickled to the process that reads it in a timed hunt, tests._lineage._csv_hunt_run)
def _first_or_one(c, first):
    return c == first or str(c).endswith("1")


def _every_mth(k, m, r):
    return k > 0 and k % m == r % m


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def read_all(reader, options, sizes):
    """A whole frame from ``read_csv``'s result: a frame, or chunks (``iterator``:
    ``get_chunk`` of ``sizes`` in turn, then the rest)."""
    if isinstance(reader, pd.DataFrame):
        return reader
    with reader:
        if options.get("iterator") and options.get("chunksize") is None:
            parts = []
            try:
                for size in sizes:
                    parts.append(reader.get_chunk(size))
            except StopIteration:
                pass  # (pandas' reader is closed then: no rest to read)
            else:
                parts += list(reader)
        else:
            parts = list(reader)
    return pd.concat(parts) if parts else None


def _file_levels(df):
    """The index levels read from the file: a traced frame's but its row ids, a pandas
    frame's unless it is a plain row count."""
    if "stp_row_id" in df.index.names:
        return [df.index.get_level_values(k) for k in range(df.index.nlevels - 1)]
    if df.index.equals(pd.RangeIndex(len(df))):
        return []
    return [df.index.get_level_values(k) for k in range(df.index.nlevels)]


def _keys(df):
    """Each row's key: the first index level read from the file where there is one,
    else the first column."""
    levels = _file_levels(df)
    if levels:
        return list(levels[0])
    if df.shape[1] == 0:
        return [None] * len(df)
    return list(df.iloc[:, 0])


def _tokens_in(df):
    """Per row, every token in its values and file index."""
    out = [set() for _ in range(len(df))]
    for values in [*_file_levels(df), *(df.iloc[:, j] for j in range(df.shape[1]))]:
        for i, v in enumerate(values):
            if isinstance(v, str):
                out[i].update(_TOKEN.findall(v))
    return out


def wrong_lines(df, lines, text, keyed=True, record_end=None, comment_rows=None):
    """The rows of a frame (traced, or pandas' own of the same rows) whose ``lines``
    (``row_lineage``'s) the raw ``text`` contradicts: a list of ``(row, key, line, why)``.

    ``keyed``: the key is the first field as written (the delimiter read is the one
    written), so a row whose key holds no token did not start on a line that starts
    with one. ``record_end``: the ``lineterminator`` read with (a record after the
    ``"\\r"`` of a ``"\\r\\n"`` starts with its ``"\\n"``, on the line after it: such a
    key is not said to hold no token). ``comment_rows``: the comment character of a read
    by pandas' python engine, which may read a line that starts with it as a row of
    missing values (the first line after a byte order mark: its first field is the mark
    before the comment): such a row, its key missing, is not said to hold no token.
    """
    where, starting = token_lines(text)
    texts = _LINE_END.split(text)
    blanks = " \t\"'#%\ufeff"
    bad = []
    for i, (key, tokens) in enumerate(zip(_keys(df), _tokens_in(df))):
        line = int(lines[i])
        lead = key.lstrip(blanks) if isinstance(key, str) else ""
        m = _TOKEN.match(lead)
        if m and m.group() in where:
            if where[m.group()] != line:
                bad.append((i, key, line, f"key's line is {where[m.group()]}"))
        elif keyed and line in starting and not (record_end == "\r" and str(key)[:1] == "\n"):
            cut = comment_rows is not None and texts[line - 1].lstrip("\ufeff")[:1] == comment_rows
            if not (cut and (key is None or key == "" or pd.isna(key))):
                bad.append((i, key, line, "a line that starts with another key"))
        first = min((where[t] for t in tokens if t in where), default=None)
        if first is not None and line > first:
            bad.append((i, key, line, f"after line {first}, whose token it holds"))
    return bad


def hunt_one(tmp_path, name, data, options, sep, sizes=(2, 1)):
    """Read one drawn file (written with ``sep``) with pandas and with ``stp.read_csv``.

    Returns
    -------
    outcome : str
        ``"read"``, ``"both failed"``, ``"refused: <what>"`` or ``"BUG: <what>"``.
    """
    from sktraceprop._lineage import REGISTRY

    REGISTRY.clear()  # (a file of the same bytes read before is said to be a copy)
    path = tmp_path / name
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = read_all(pd.read_csv(path, **options), options, sizes)
        except Exception as exc:  # noqa: BLE001 (any failure of pandas: stp must fail too)
            expected = exc
    text = _decoded(path, data, options)
    keyed = options.get("sep", options.get("delimiter", ",")) == sep
    if callable(options.get("usecols")):
        # (it keeps the key column by the writer's header name: a header line moved by
        # skiprows or blank lines names it otherwise, and the first column read is no key)
        keyed = False
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        try:
            df = read_all(stp.read_csv(path, source_id="hunt", **options), options, sizes)
        except (LineageError, ValueError, TypeError) as exc:
            if isinstance(expected, Exception):
                return "both failed"
            refused = "refused: " + _refusal_kind(exc)
            if expected is None or not len(expected):
                return refused
            # (a line finder's slip caught by the content check alone, on these distinct
            # keys, would pass on values that repeat: the blind read must refuse too)
            blind = _blind(path, options, expected, text, keyed, sizes)
            return blind if blind.startswith("BUG") else refused
        except Exception as exc:  # noqa: BLE001
            if isinstance(expected, Exception):
                return "both failed"
            return f"BUG: crashed ({type(exc).__name__}: {exc})"
    if isinstance(expected, Exception):
        return f"BUG: read where pandas failed ({type(expected).__name__}: {expected})"
    if any(issubclass(w.category, LineageWarning) for w in said):
        return "refused: warned"
    if (df is None) != (expected is None):
        return "BUG: a frame where pandas read none, or none where it read one"
    if df is None:
        return "read"
    plain = df.reset_index(level="stp_row_id", drop=True)
    if plain.index.nlevels == 1 and plain.index.name is None and df.index.nlevels == 1:
        plain = plain.reset_index(drop=True)
        expected = expected.reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(plain, expected, check_index_type=False)
    except AssertionError as exc:
        return f"BUG: not pandas' frame ({str(exc)[:200]})"
    lines = stp.row_lineage(df)["line"].to_numpy()
    bad = wrong_lines(
        df, lines, text, keyed, options.get("lineterminator"), _comment_rows(options)
    )
    if bad:
        return f"BUG: wrong lines {bad[:3]}"
    if not len(expected):
        return "read"
    blind = _blind(path, options, expected, text, keyed, sizes)
    return blind if blind.startswith("BUG") else "read" + blind


def _comment_rows(options):
    """The comment character where pandas' python engine reads (it may read a comment
    line as a row of missing values: see :func:`wrong_lines`), else None."""
    python = options.get("engine") == "python" or options.get("skipfooter")
    python = python or ("sep" in options and options["sep"] is None)
    return options.get("comment") if python else None


def _same_value(_):
    return "v"


def _blind(path, options, expected, text, keyed, sizes):
    """Read again with every value converted to one and the same (the content check
    then sees no key): the lines must still be the keys' (taken from pandas' frame of
    the same rows). Returns ``""``, ``" (blind refused)"`` or a ``"BUG: ..."``."""
    width = expected.shape[1] + len(_file_levels(expected))
    blind = {k: v for k, v in options.items() if k not in ("dtype", "converters")}
    blind["converters"] = dict.fromkeys(range(width), _same_value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if len(read_all(pd.read_csv(path, **blind), blind, sizes)) != len(expected):
                return " (blind: other rows)"
        except Exception:  # noqa: BLE001 (pandas cannot read it so: nothing to check)
            return " (blind: pandas failed)"
        try:
            df = read_all(stp.read_csv(path, source_id="blind", **blind), blind, sizes)
        except (LineageError, ValueError, TypeError):
            return " (blind refused)"
    lines = stp.row_lineage(df)["line"].to_numpy()
    bad = wrong_lines(
        expected, lines, text, keyed, options.get("lineterminator"), _comment_rows(options)
    )
    if bad:
        return f"BUG: blind read, wrong lines {bad[:3]}"
    return ""


def _decoded(path, data, options):
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    elif path.suffix == ".bz2":
        data = bz2.decompress(data)
    elif path.suffix == ".zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            data = archive.read(archive.namelist()[0])
    return data.decode(options.get("encoding") or "utf-8")


def _refusal_kind(exc):
    """A short name for a refusal (counted in the hunt's report)."""
    text = str(exc)
    for needle, kind in [
        ("could not match", "could not match (count)"),
        ("does not equal the record", "content check"),
        ("do not parse", "content check (parse)"),
        ("does not support", "unsupported option"),
        ("supports", "unsupported option"),
        ("must be one ASCII", "unsupported option"),
        ("lineterminator", "unsupported option"),
        ("after the header, is blank", "blank after header"),
        ("both start on line", "two rows one line"),
        ("ended by a lone \\r", "pandas 2 re-read after a lone \\r"),
        ("skipfooter", "skipfooter"),
        ("engine='python'", "python engine"),
        ("bad line", "bad lines"),
    ]:
        if needle in text:
            return kind
    # (without the file's path, which differs in every read: the same reason counts once)
    reason = re.sub(r"^sktraceprop\.read_csv: [^:]*: ", "", text)
    return f"other ({type(exc).__name__}: {reason[:120]})"
