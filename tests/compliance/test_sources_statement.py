"""The statement of Art. 26(4) counts the sources behind the training rows, and those
whose data reached the model only as input columns attached by position (columns, not
rows), each named with its columns. The truth: the sets counted by hand."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sktraceprop.compliance._section_input_data import _sources_said

_NAMES = ["A", "B", "C", "D"]


def test_no_attached_source_keeps_the_count_of_sources_of_rows():
    said = _sources_said([{"source_id": "A"}], [], 10)
    assert said == "For each of the 1 source behind the 10 training rows"


def test_a_source_attached_and_of_rows_is_counted_once():
    said = _sources_said(
        [{"source_id": "A"}, {"source_id": "B"}], [{"source_id": "B", "input_column": "x"}], 5
    )
    assert said == "For each of the 2 sources behind the 5 training rows"


def test_two_attached_sources_are_named_with_their_columns():
    attached = [
        {"source_id": "C", "input_column": "z"},
        {"source_id": "B", "input_column": "x"},
        {"source_id": "B", "input_column": "y"},
        {"source_id": "B", "input_column": "x"},  # (x matched two of B's columns)
    ]
    said = _sources_said([{"source_id": "A"}], attached, 7)
    assert said.startswith(
        "3 sources are behind the 7 training rows: 1 source of their rows, and 2 sources "
        "whose data reached them only as input columns attached by position, not as rows "
        "(B: input columns x, y; C: input column z; of them the record holds"
    )
    assert said.endswith("For each source of rows")


@settings(deadline=None, max_examples=60)
# (found: a column matching two columns of one source is named once, as one column)
@example(own={"B"}, attached=[("A", "x"), ("A", "x")], n=1)
@given(
    own=st.sets(st.sampled_from(_NAMES), min_size=1),
    attached=st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from("xyz")), max_size=6),
    n=st.integers(1, 10_000),
)
def test_the_count_is_of_distinct_sources(own, attached, n):
    said = _sources_said(
        [{"source_id": s} for s in sorted(own)],
        [{"source_id": s, "input_column": c} for s, c in attached],
        n,
    )
    extra = {s for s, _ in attached} - own
    if not extra:
        assert said.startswith(f"For each of the {len(own)} source")
    else:
        assert said.startswith(f"{len(own | extra)} sources are behind the {n} training rows")
        for s in extra:
            columns = sorted(
                {c for t, c in attached if t == s}, key=[c for t, c in attached if t == s].index
            )
            word = "column" if len(columns) == 1 else "columns"
            assert f"{s}: input {word} {', '.join(columns)}" in said
        for s in own:
            assert f"{s}: input" not in said
