"""Lines of free-text CSV files: quoted commas, doubled quotes, embedded newlines.

A hiring or clinical file's text column holds CV summaries and notes: fields quoted
because of a comma, quotes doubled inside them, line breaks (``\\n``, ``\\r\\n``, a lone
``\\r``) inside the quotes, non-ASCII letters and emoji, empty and missing values;
UTF-8, with a byte-order mark, or UTF-16. Each traced row, through ``read_csv``, a text
vectorizer in a traced pipeline and ``trace``, must name the physical line where its
record starts in the written bytes (counted here with universal newlines, independently
of the library), and hold the text that was written.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

import sktraceprop as stp
from tests._text_data import notes_file, text_pipeline, write_text_csv

_PIECES = st.sampled_from(
    ["a", "b", "zz", " ", ",", '"', '""', "\n", "\r\n", "\r", "é", "ß", "😀", "中", "\t", "'"]
)
_TEXT = st.one_of(st.none(), st.lists(_PIECES, max_size=8).map("".join))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(_TEXT, min_size=2, max_size=12),
    newline=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_traced_text_rows_name_the_line_their_record_starts_on(tmp_path, texts, newline, encoding):
    n = len(texts)
    labels = np.arange(n) % 2
    x = np.linspace(-1.0, 1.0, n)
    path = tmp_path / "notes.csv"
    lines = write_text_csv(path, texts, x, labels, newline=newline, encoding=encoding)

    df = stp.read_csv(
        path, source_id="notes", encoding=encoding, dtype={"text": str}, keep_default_na=False
    )
    assert df.shape[0] == n
    # the text read is the text written (empty and missing are both an empty field)
    assert df["text"].tolist() == ["" if t is None else t for t in texts]
    np.testing.assert_array_equal(stp.row_lineage(df)["line"].to_numpy(), lines)

    pipe = text_pipeline(HashingVectorizer(n_features=32), SGDClassifier(random_state=0))
    pipe.fit(df[["text", "x"]], df["label"])
    traced = pipe.trace(list(range(n)))
    np.testing.assert_array_equal(traced["line"].to_numpy(), lines)
    assert set(traced["source_id"]) == {"notes"}


@pytest.mark.parametrize("vectorizer", [TfidfVectorizer(), HashingVectorizer(n_features=64)])
def test_a_split_text_frame_traces_to_the_written_lines(tmp_path, vectorizer):
    # fillna, train_test_split and the vectorizer in between: the ids go with the rows
    X, y, lines = notes_file(tmp_path, seed=3, n=60)
    assert np.any(np.diff(lines) > 1)  # multi-line records push later rows down
    X_tr, _, y_tr, _ = train_test_split(X, y, random_state=0)
    pipe = text_pipeline(vectorizer).fit(X_tr, y_tr)
    # the written line of each training row, found by its position in the file's rows
    positions = pd.Index(stp.row_ids(X)).get_indexer(stp.row_ids(X_tr))
    traced = pipe.trace(list(range(len(X_tr))))
    np.testing.assert_array_equal(traced["line"].to_numpy(), lines[positions])
