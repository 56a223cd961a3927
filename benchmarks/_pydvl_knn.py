"""Run pyDVL's KNNShapleyValuation on arrays from an .npz file (in pyDVL's own venv).

Usage: python _pydvl_knn.py IN.npz OUT.npz N_NEIGHBORS
Writes ``values`` (in training-row order), ``seconds`` (wall time of ``fit``) and the
pyDVL and numpy versions. Called by bench_valuation.py; needs no sktraceprop.
"""

import sys
import time

import numpy as np
import pydvl
from pydvl.valuation.dataset import Dataset
from pydvl.valuation.methods.knn_shapley import KNNShapleyValuation
from sklearn.neighbors import KNeighborsClassifier


def main(src, dst, n_neighbors):
    data = np.load(src)
    train = Dataset(data["X_train"], data["y_train"])
    test = Dataset(data["X_val"], data["y_val"])
    model = KNeighborsClassifier(n_neighbors=n_neighbors)
    valuation = KNNShapleyValuation(model, test, progress=False)
    start = time.perf_counter()
    valuation.fit(train)
    seconds = time.perf_counter() - start
    result = valuation.result
    values = np.empty(len(result))
    values[result.indices] = result.values
    np.savez(dst, values=values, seconds=seconds, pydvl=pydvl.__version__, numpy=np.__version__)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
