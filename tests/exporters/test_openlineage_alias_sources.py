"""The OpenLineage row-lineage facet says which codes name one source.

Its ``sources`` list an entry per code (row ids name codes, so an alias code must stay
decodable), each with the source's ``nRows``: a file of 20 rows whose rows came under
its code and an alias (the code another process registered it under) read as two
sources of 20 rows. An alias entry now names the first code of its source
(``sameSourceAs``). Truth: the file's rows counted in its raw bytes.
"""

import dataclasses

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import sktraceprop as stp
from sktraceprop._lineage._ids import codes_of, lines_of, pack
from sktraceprop._lineage._source import REGISTRY
from sktraceprop.exporters import to_openlineage
from tests.exporters.test_openlineage import validate


def test_alias_code_entry_names_its_source(tmp_path):
    path = tmp_path / "f.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=20), "y": np.arange(20) % 2}).to_csv(path, index=False)
    n_file = len(path.read_bytes().splitlines()) - 1  # (the header line)
    frame = stp.read_csv(path, source_id="f")
    ids = np.asarray(frame.index)
    code = int(codes_of(ids)[0])
    alias = code + 1
    while REGISTRY.has_code(alias):
        alias += 1
    REGISTRY.adopt(dataclasses.replace(REGISTRY.by_code(code), code=alias))
    mixed = np.concatenate([ids[:12], pack(alias, lines_of(ids[12:]))])
    carried = frame.set_axis(pd.Index(mixed, name=frame.index.name))
    pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    run = pipe.fit(carried[["a"]], carried["y"]).lineage_
    event = to_openlineage(run)
    validate(event)
    sources = event["run"]["facets"]["sktraceprop_rowLineage"]["sources"]
    assert [s["code"] for s in sources] == [code, alias]  # (every code decodable)
    assert "sameSourceAs" not in sources[0]
    assert sources[1]["sameSourceAs"] == code  # (before: absent, 20 + 20 rows)
    groups = {}
    for s in sources:
        groups.setdefault(s.get("sameSourceAs", s["code"]), []).append(s)
    assert len(groups) == 1
    assert sum(g[0]["nRows"] for g in groups.values()) == n_file
    assert sum(s["trainingRows"] for s in sources) == n_file
    assert [s["trainingRows"] for s in sources] == [12, 8]
