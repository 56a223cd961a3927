"""The line finder's kernels far into a file: byte offsets past 2**32, lines past 2**31.

A file of several GiB is too slow to scan in a test, so each kernel is run on one chunk
twice: as the file's first bytes, and as bytes starting at a large offset after many
lines (the state vector a scan would carry there). Every byte span must move by the
offset and every line by the lines before, exactly: no width in the kernels may wrap.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop._lineage import _csv_kernel as K
from sktraceprop._lineage._csv_count import count_run
from sktraceprop._lineage._csv_plain import scan_plain
from sktraceprop._lineage._csv_quoted import quote_masks
from sktraceprop._lineage._ids import MAX_LINE, lines_of, pack

# (offset, lines before): past 2**32 bytes and 2**31 lines, and the last lines a row id holds
FAR = [(0, 0), (2**32 + 5, 2**31 + 7), (2**40 + 3, MAX_LINE - 100)]
TEXTS = [
    b"a,b\n1,2\n3,4\n5,6\n",
    b'a,b\n"x\ny",2\n\n3,"4"\n  \n5,6\n',
    b"a,b\r\n1,2\r\n3,4\r5,6\n#c\n7,8\n",
]


def _state(base, before):
    state = K.new_state(base)
    state[K.S_LINE] = 1 + before
    state[K.S_FILE_LINES] = before
    return state


def _outputs():
    return tuple(np.empty(64, np.int64) for _ in range(3))


def _machine(text, base, before):
    buf = np.frombuffer(text, np.uint8)
    state = _state(base, before)
    starts, ends, lines = _outputs()
    stop_field = np.zeros(256, bool)
    stop_field[[10, 13, 44, 35]] = True
    stop_quoted = np.zeros(256, bool)
    stop_quoted[34] = True
    k, pos = K.scan_chunk(
        buf, 0, base, state, -1, 44, 34, 35, -1, 10, 13, True, True, False, False,
        np.zeros(0, bool), stop_field, stop_quoted, starts, ends, lines,
    )  # fmt: skip
    assert pos == buf.size
    return starts[:k], ends[:k], lines[:k], state


def _plain(text, base, before):
    buf = np.frombuffer(text, np.uint8)
    head = (-buf.ctypes.data) % 8
    words = buf[head : head + (buf.size - head) // 8 * 8].view(np.uint64)
    state = _state(base, before)
    starts, ends, lines = _outputs()
    k, _ = scan_plain(
        buf, words, head, 0, base, state, -1, 44, 34, True, True, np.zeros(0, bool),
        starts, ends, lines, quote_masks(buf, 34, 44),
    )  # fmt: skip
    return starts[:k], ends[:k], lines[:k], state


def _counted(text, base, before):
    buf = np.frombuffer(text, np.uint8)
    head = (-buf.ctypes.data) % 8
    words = buf[head : head + (buf.size - head) // 8 * 8].view(np.uint64)
    state = _state(base, before)
    specials = np.array([34, 0, 0], np.uint8)
    run = count_run(text, buf, words, head, 0, base, state, -1, np.zeros(0, bool), specials, 44)
    n, _, first_line, spans = run
    starts, ends = spans(np.arange(n))
    return starts, ends, first_line + np.arange(n), state


def _same_far(scan, text, base, before):
    starts0, ends0, lines0, st0 = scan(text, 0, 0)
    starts, ends, lines, st1 = scan(text, base, before)
    assert lines0.size
    np.testing.assert_array_equal(starts, starts0 + base)
    np.testing.assert_array_equal(ends, ends0 + base)
    np.testing.assert_array_equal(lines, lines0 + before)
    assert st1[K.S_LINE] == st0[K.S_LINE] + before
    assert st1[K.S_COUNTED] == st0[K.S_COUNTED] + base
    return lines


@pytest.mark.parametrize("base, before", FAR)
@pytest.mark.parametrize("text", TEXTS)
def test_state_machine_far_into_a_file(text, base, before):
    lines = _same_far(_machine, text, base, before)
    # the lines found pack into row ids and read back exactly
    np.testing.assert_array_equal(lines_of(pack(1, lines)), lines)


@pytest.mark.parametrize("base, before", FAR)
def test_fast_paths_far_into_a_file(base, before):
    _same_far(_plain, b'a,b\n1,"2\n3"\n4,5\n', base, before)
    _same_far(_counted, b"a,b\n1,2\n3,4\n" * 300, base, before)


@settings(deadline=None, max_examples=40)
@given(
    st.lists(st.sampled_from([b"1,2", b"x", b'"q\nr"', b"", b"  ", b"a\rb"]), min_size=1),
    st.integers(0, 2**62),
    st.integers(0, MAX_LINE - 10_000),
)
def test_state_machine_far_into_a_file_property(records, base, before):
    text = b"h,i\n" + b"\n".join(records) + b"\n"
    starts0, _, lines0, _ = _machine(text, 0, 0)
    starts, _, lines, _ = _machine(text, base, before)
    np.testing.assert_array_equal(starts, starts0 + base)
    np.testing.assert_array_equal(lines, lines0 + before)


def test_a_line_past_the_row_id_field_is_refused():
    with pytest.raises(ValueError, match="line numbers must be in"):
        pack(1, [MAX_LINE + 1])
