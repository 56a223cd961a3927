"""LineageDisplay draws one node per source, however many codes its rows carry.

A source's rows can reach one run under two codes: an alias adopted from another process
(a code probed there, ``REGISTRY.adopt``), and the record of that process may spell an
SMB share in another case (``\\\\SERVER\\Share\\f.csv`` and ``\\\\server\\share\\f.csv``
are one file: share names are case-insensitive). Before, the graph drew a node per code:
two nodes with one id (``source:f@<sha>``), each with part of the rows (10 and 10 of
20), where every per-source table already counted one source of 20 rows.

Truth: the spellings folded here by hand (host and share name in lower case, the folders
after them as written, as Windows compares share names and the library compares paths)
and the rows packed under each code by the test.
"""

import dataclasses
from pathlib import PureWindowsPath

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of, lines_of, pack
from sktraceprop.plotting import LineageDisplay

plt = pytest.importorskip("matplotlib.pyplot")

_N = 20


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("alias") / "f.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=_N), "y": np.arange(_N) % 2}).to_csv(path, index=False)
    frame = stp.read_csv(path, source_id="f")
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    return pipe.fit(frame[["a"]], frame["y"]).lineage_


def _flip(text, flips):
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips))


@st.composite
def _spellings(draw):
    """UNC paths of one share, each a case spelling; some with a folder in another case
    (another file: the folders after the share keep their case)."""
    n = draw(st.integers(1, 4))
    out = []
    for _ in range(n):
        host = _flip("server", draw(st.lists(st.booleans(), min_size=6, max_size=6)))
        share = _flip("share", draw(st.lists(st.booleans(), min_size=5, max_size=5)))
        folder = draw(st.sampled_from(["data", "Data"]))
        out.append(f"\\\\{host}\\{share}\\{folder}\\f.csv")
    return out


def _file_of(spelling):
    """Brute force: the file a UNC spelling names (host and share without case)."""
    _, _, host, share, *rest = spelling.split("\\")
    return host.lower(), share.lower(), *rest


@settings(max_examples=25, deadline=None)
@given(spellings=_spellings(), data=st.data())
def test_one_source_under_alias_codes_is_one_node(run, spellings, data):
    (code,) = run.sources
    base = run.sources[code]
    codes = [code + k for k in range(len(spellings))]
    sources = {
        c: dataclasses.replace(base, code=c, uri=PureWindowsPath(s).as_uri())
        for c, s in zip(codes, spellings)
    }
    which = data.draw(
        st.lists(st.integers(0, len(codes) - 1), min_size=_N, max_size=_N), label="code of row"
    )
    lines = lines_of(run.row_ids)
    ids = np.concatenate([pack(codes[k], lines[[i]]) for i, k in enumerate(which)])
    # (a run holds the sources its rows come from)
    sources = {c: s for c, s in sources.items() if c in set(codes_of(ids).tolist())}
    aliased = dataclasses.replace(run, sources=sources, row_ids=ids)

    display = LineageDisplay.from_lineage(aliased)
    plt.close(display.figure_)
    nodes = [n for n in display.nodes if n["kind"] == "source"]
    # rows per file, from the codes the test packed
    rows = {}
    for c in codes_of(ids).tolist():
        f = _file_of(spellings[codes.index(c)])
        rows[f] = rows.get(f, 0) + 1
    assert len(nodes) == len(rows)  # (before: one node per code)
    assert len({n["id"] for n in display.nodes}) == len(display.nodes)
    drawn = sorted(int(n["label"].rsplit("\n", 1)[1].split()[0]) for n in nodes)
    assert drawn == sorted(rows.values())
    assert sum(drawn) == _N
    # every source feeds the scaler, once
    feeding = [e for e in display.edges if e[1] == "op:standardscaler"]
    assert sorted(src for src, _ in feeding) == sorted(n["id"] for n in nodes)
    assert len(display.arrows_) == len(display.edges) == len(set(display.edges))
    assert len(display.ax_.texts) == len(display.nodes)
