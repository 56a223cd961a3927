"""``read_csv(iterator=True)`` without ``chunksize``, as pandas allows: ``get_chunk()`` and
iterating read the rest of the file, ``get_chunk(size)`` the next ``size`` rows, each row
naming its line (checked against the file's raw bytes and against pandas' own reader).

Before, it was refused (``iterator=True only with chunksize``).
"""

import gzip
import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sktraceprop as stp
from sktraceprop.exceptions import LineageError
from tests._lineage.test_csv_get_chunk import _asked, _check_chunks, _check_lines, _quoted_file
from tests._lineage.test_csv_properties import documents

_SIZES = st.lists(st.one_of(st.none(), st.integers(1, 7)), min_size=1, max_size=8)


def test_get_chunk_then_the_rest_name_their_lines(tmp_path):
    path = tmp_path / "q.csv"
    truth = _quoted_file(path, 20)
    raw = path.read_text().split("\n")
    with stp.read_csv(path, iterator=True) as reader:
        chunks = [reader.get_chunk(3), reader.get_chunk(5), reader.get_chunk()]
        with pytest.raises(StopIteration):
            reader.get_chunk()
    theirs = pd.read_csv(path, iterator=True)
    want = [theirs.get_chunk(3), theirs.get_chunk(5), theirs.get_chunk()]
    assert [len(c) for c in chunks] == [len(c) for c in want] == [3, 5, 12]
    for got, expected in zip(chunks, want):
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
    _check_lines(chunks, truth, raw)


def test_iterating_gives_the_whole_file_as_one_read_does(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("key,v\n" + "".join(f"k{i},{i}\n" for i in range(50)))
    chunks = list(stp.read_csv(path, iterator=True))
    whole = stp.read_csv(path)
    assert len(chunks) == 1
    pd.testing.assert_frame_equal(chunks[0], whole)  # (the same row ids)
    assert stp.row_lineage(chunks[0])["line"].tolist() == list(range(2, 52))


def test_bad_lines_with_iterator_are_refused(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(ValueError, match="with iterator"):
        stp.read_csv(path, iterator=True, on_bad_lines="skip")


@pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents(), _SIZES)
@example(
    doc=(b"id,a\nr0,1\nr1,2\nr2,3\nr3,4\n", {}, {"r0": 2, "r1": 3, "r2": 4, "r3": 5}, False),
    sizes=[1, None, 2],
)
def test_iterator_chunks_name_the_line_the_writer_wrote(tmp_path_factory, doc, sizes):
    data, options, truth, gz = doc
    options.pop("skipfooter", None)  # (pandas does not iterate with it)
    path = tmp_path_factory.mktemp("csv") / ("doc.csv.gz" if gz else "doc.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    options = {"dtype": {"id": str}, "iterator": True, **options}
    try:
        expected = _asked(pd.read_csv(io.BytesIO(data), **options), sizes)
    except Exception as exc:  # noqa: BLE001 - ours must fail alike (pandas 2.2 with nrows)
        with pytest.raises((type(exc), LineageError)):
            _asked(stp.read_csv(path, source_id=path.parent.name, **options), sizes)
        return
    _check_chunks(path, data, options, sizes, expected, truth)
