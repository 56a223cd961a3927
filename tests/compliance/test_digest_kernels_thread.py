"""The row digests' numba kernels are never compiled on the row hash's helper thread.

numba's compiler wraps its work in ``warnings.catch_warnings``: process-wide state, not a
thread's. A compile on the helper thread while the program records warnings in its own
``catch_warnings`` block (``pytest.warns``, an audit tool's capture) undoes that block's
handler when it ends, and warnings raised meanwhile are lost: seen as a fit's
``LineageWarning`` (a column attached by position) missing from the warnings recorded in
2 of 3 fresh processes, the kernels compiled by the warm-up that a logged model's fit
starts. The truth is numba's own compile events, each with the thread it ran on, in a
process whose numba cache is empty (so that every kernel is compiled).
"""

from tests.test_thread_compiles import compiles_in_a_fresh_process

_SCRIPT = r"""
import threading
from numba.core import event

compiled = []


class Seen(event.Listener):
    def on_start(self, ev):
        name = getattr(ev.data.get("dispatcher"), "py_func", None)
        compiled.append((threading.current_thread().name, getattr(name, "__qualname__", "?")))

    def on_end(self, ev):
        pass


event.register("numba:compile", Seen())

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression

import sktraceprop as stp
from sktraceprop._row_hash_start import _executor


class Numbers(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        if sp.issparse(X):
            return X.toarray()[:, :2]
        X = pd.DataFrame(X) if not isinstance(X, pd.DataFrame) else X
        return np.column_stack([pd.to_numeric(X.iloc[:, i], errors="coerce") for i in (0, 1)])


rng = np.random.default_rng(0)
n = 3000
X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
y = rng.integers(0, 2, n)
pipe = stp.make_traced_pipeline(
    Numbers(), LogisticRegression(), store=stp.stores.MemoryStore(), log_predictions=True
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    pipe.fit(X, y)
    text = X.assign(t=pd.Series(rng.choice(["x", "ü", None], n), dtype="string[pyarrow]"))
    inputs = [
        X,  # numbers only: laid out once, the table kernel
        X.to_numpy(),
        X.to_numpy(np.float32),
        X.astype({"a": "int64"}).iloc[:50],
        text,  # numbers and pyarrow text
        text.astype({"t": object}),  # object text: column by column
        text.astype({"t": "category"}),
        sp.csr_matrix(X.to_numpy()),
        pd.concat([X] * 20, ignore_index=True),  # large: hashed on the helper thread
        pd.concat([text] * 20, ignore_index=True),
    ]
    for inp in inputs:
        pipe.predict(inp)
_executor().submit(lambda: None).result()
off = sorted({c for c in compiled if c[0].startswith("sktraceprop-row-hash")})
print("OFF", off)
print("N", len(compiled))
"""


def test_no_digest_kernel_is_compiled_on_the_helper_thread(tmp_path):
    n, off = compiles_in_a_fresh_process(tmp_path, _SCRIPT)
    assert n > 0  # the kernels were compiled in this process
    assert off == "[]", f"compiled on the helper thread: {off}"
