"""The integrity check's salt digests: every value reads back as a dict would give it,
in 40 bytes a call, and a report's chain read holds each call's hash in 32 bytes.

Truth: a dict given the same assignments; tracemalloc for the memory.
"""

import hashlib
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from sktraceprop.compliance._chain_read import _call
from sktraceprop.stores._prediction_erasures import State
from sktraceprop.stores._salt_digests import SaltDigests

_HEX = st.binary(min_size=32, max_size=32).map(bytes.hex)
_DIGESTS = st.one_of(
    _HEX,
    _HEX.map(str.upper),  # (not as sktraceprop writes it: kept as it is)
    st.none(),
    st.text(max_size=70),
    st.integers(),
    st.lists(st.integers(), max_size=2),
)
_SEQS = st.one_of(
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=2**63 - 2, max_value=2**64),  # (beyond int64)
    st.integers(min_value=-(2**64), max_value=-1),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_SEQS, _DIGESTS), max_size=40), st.lists(_SEQS, max_size=10))
def test_reads_as_a_dict(assignments, probes):
    held, truth = SaltDigests(), {}
    for seq, digest in assignments:
        held[seq] = digest
        truth[seq] = digest
    assert len(held) == len(truth)
    assert sorted(held.items(), key=repr) == sorted(truth.items(), key=repr)
    for seq in [s for s, _ in assignments] + probes:
        assert (seq in held) == (seq in truth)
        assert held.get(seq, "absent") == truth.get(seq, "absent")
        if seq in truth:
            assert held[seq] == truth[seq]


def _digests(n):
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]


def test_salted_calls_take_40_bytes_each():
    n = 20_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        state = State()
        for seq in range(1, n + 1):
            # each payload decoded afresh, as the walk decodes it, and dropped after
            digest = hashlib.sha256(str(seq - 1).encode()).hexdigest()
            state.add(seq, "prediction", {"input_commitment": "c", "salt_sha256": digest})
        del digest
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held / n < 48, f"{held / n:.0f} bytes a salted call"
    assert state.salted[n] == hashlib.sha256(str(n - 1).encode()).hexdigest()


def test_a_call_holds_its_hash_in_32_bytes():
    digests = _digests(3)
    events = [
        {"seq": i, "run_id": "r", "created_at": "t", "hash": h, "payload": {"n_rows": 1}}
        for i, h in enumerate(digests + ["not hex"])
    ]
    calls = [_call(event, 1) for event in events]
    assert [c["hash"] for c in calls] == digests + ["not hex"]
    assert [type(c.hash) for c in calls] == [bytes, bytes, bytes, str]
