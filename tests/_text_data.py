"""Free-text CSV files shared by the text-pipeline tests: what the file's bytes say.

``write_text_csv`` writes records with the standard library's ``csv`` module (quoted
fields with commas, doubled quotes, embedded newlines) and returns, for each record,
the physical 1-based line where it starts, counted on the written text itself with
universal newlines (``\\r\\n``, a lone ``\\r`` or ``\\n`` each end one line): the
independent truth a traced row's line is checked against.
"""

import csv
import io
import re

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

#: Words of the generated notes: non-ASCII letters, an emoji, words with a comma and
#: with quotes, so that the writer quotes and doubles quotes in many fields.
WORDS = (
    "python",
    "java",
    "sql",
    "nurse",
    "fever",
    "cough",
    "lead",
    "café",
    "naïve",
    "señor",
    "😀",
    'say "hi"',
    "a, b",
    "pain",
    "team",
)


def write_text_csv(path, texts, x, labels, *, newline="\r\n", encoding="utf-8"):
    """Write ``id,text,x,label`` records to ``path`` in ``encoding``; None texts are
    empty.

    Returns
    -------
    lines : ndarray of int
        The physical line where each record starts.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    # the csv module quotes a field holding a character of its lineterminator only: a
    # "\r" in a "\n" file would end the record unquoted (pandas splits there too)
    quoted = csv.writer(buf, lineterminator=newline, quoting=csv.QUOTE_ALL)
    writer.writerow(["id", "text", "x", "label"])
    lines = []
    for i, (text, value, label) in enumerate(zip(texts, x, labels)):
        lines.append(1 + len(_LINE_BREAK.findall(buf.getvalue())))
        text = "" if text is None else text
        row = [i, text, repr(float(value)), int(label)]
        (quoted if _LINE_BREAK.search(text) else writer).writerow(row)
    with open(path, "w", encoding=encoding, newline="") as f:
        f.write(buf.getvalue())
    return np.array(lines)


def random_notes(rng, n, *, missing=0.1, multiline=0.15):
    """``n`` notes of 0-5 words of :data:`WORDS`; some missing (None), some empty and
    some spanning lines (``\\n`` or ``\\r\\n`` inside the quoted field)."""
    texts = []
    for _ in range(n):
        r = rng.random()
        words = " ".join(rng.choice(WORDS, rng.integers(0, 6)))
        if r < missing:
            words = None
        elif r < missing + multiline:
            words = f"{words}\n{rng.choice(WORDS)}\r\nend"
        texts.append(words)
    return texts


def read_notes(path, source_id="notes"):
    """The file read traced, the missing notes filled with ``""``: ``(X, y)``."""
    df = stp.read_csv(path, source_id=source_id)
    df["text"] = df["text"].fillna("")
    return df[["text", "x"]], df["label"]


def text_pipeline(vectorizer, final=None, **kwargs):
    """A traced pipeline: ``vectorizer`` on the text column beside the scaled ``x``."""
    pre = stp.make_traced_column_transformer((vectorizer, "text"), (StandardScaler(), ["x"]))
    final = LogisticRegression(tol=1e-10, max_iter=10_000) if final is None else final
    return stp.make_traced_pipeline(pre, final, **kwargs)


def notes_file(tmp_path, seed, n, name="notes.csv"):
    """``n`` random notes with a label that depends on their words, written to
    ``name`` and read back: ``(X, y, lines)``."""
    rng = np.random.default_rng(seed)
    texts = random_notes(rng, n)
    x = rng.normal(size=n)
    words = pd.Series([t or "" for t in texts])
    labels = (words.str.contains("python|fever") | (rng.random(n) < 0.25)).astype(int)
    lines = write_text_csv(tmp_path / name, texts, x, labels)
    X, y = read_notes(tmp_path / name)
    return X, y, lines


def zipf_notes(n, n_terms, n_classes=2, seed=0):
    """``n`` notes of Zipf-distributed terms from a vocabulary of ``n_terms`` words,
    labelled by a few of them: a frame (column ``text``) and its labels."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{j}" for j in range(n_terms)])
    freq = 1.0 / np.arange(1, n_terms + 1)
    freq /= freq.sum()
    texts = [" ".join(rng.choice(vocab, rng.integers(5, 30), p=freq)) for _ in range(n)]
    signal = np.array([sum(int(w[1:]) % n_classes for w in t.split()) for t in texts])
    y = (signal + rng.integers(0, 2, n)) % n_classes
    return pd.DataFrame({"text": texts}), y


def tfidf_pipeline(final):
    """A traced pipeline: TF-IDF of the ``text`` column into ``final``."""
    text = stp.make_traced_column_transformer((TfidfVectorizer(), "text"))
    return stp.make_traced_pipeline(text, final)
