r"""
======================================================
Projecting gradients without storing the random matrix
======================================================

Attribution methods such as TRAK compare per-sample gradients, which have as many
columns as the model has parameters. :class:`sktraceprop.JLProjector` maps them onto a
few thousand dimensions with a sparse random matrix distributed as scikit-learn's
``SparseRandomProjection``, but generated on the fly from a hash of the seed: it is never
stored, and any block of rows projects exactly as it would inside the full batch. Here we
check how well inner products survive as ``n_components`` grows, and what the projector
costs in memory next to scikit-learn's.
"""

# %%
# Synthetic "gradients": 200 rows of 50,000 float32 columns with shared structure, so
# that pairs of rows have inner products of all signs and sizes.
import pickle

import matplotlib.pyplot as plt
import numpy as np
from sklearn.random_projection import SparseRandomProjection

import sktraceprop as stp

rng = np.random.default_rng(0)
n_rows, n_features = 200, 50_000
G = rng.standard_normal((n_rows, 8)) @ rng.standard_normal((8, n_features))
G += 2 * rng.standard_normal((n_rows, n_features))
G = G.astype(np.float32)
norms = np.linalg.norm(G.astype(np.float64), axis=1)
cos = (G.astype(np.float64) @ G.T.astype(np.float64)) / np.outer(norms, norms)
i, j = np.triu_indices(n_rows, k=1)

# %%
# Project with growing ``n_components`` and measure the error on the cosine-scaled inner
# products ``<Rg_i, Rg_j> / (|g_i| |g_j|)``. For a random projection its standard
# deviation is about ``sqrt((1 + cos^2) / n_components)``.
sizes = [64, 128, 256, 512, 1024, 2048]
observed, predicted = [], []
for k in sizes:
    Z = stp.JLProjector(n_components=k, random_state=0).fit_transform(G).astype(np.float64)
    err = (Z @ Z.T / np.outer(norms, norms) - cos)[i, j]
    observed.append(err.std())
    predicted.append(np.sqrt(((1 + cos[i, j] ** 2) / k).mean()))
    print(f"n_components={k:5d}  std of inner-product error {observed[-1]:.4f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(sizes, observed, "o-", label="JLProjector")
ax.loglog(sizes, predicted, "k--", label=r"$\sqrt{(1+\cos^2)/k}$")
ax.set_xlabel("n_components")
ax.set_ylabel("std of inner-product error")
ax.legend()
fig.tight_layout()

# %%
# The same seed gives the same projection whichever way the rows are fed: batches of
# 37 rows reproduce the full transform bit for bit.
proj = stp.JLProjector(n_components=1024, random_state=0).fit(G)
full = proj.transform(G)
batched = np.vstack([proj.transform(G[s : s + 37]) for s in range(0, n_rows, 37)])
assert np.array_equal(batched, full), "batched rows projected differently from the full batch"
print("batched == full: True", "dtype:", full.dtype)

# %%
# Memory: scikit-learn stores its sparse matrix (about
# ``density * n_components * n_features`` nonzeros); the fitted JLProjector is a handful
# of numbers.
srp = SparseRandomProjection(n_components=1024, random_state=0).fit(G)
C = srp.components_
srp_bytes = C.data.nbytes + C.indices.nbytes + C.indptr.nbytes
print(f"SparseRandomProjection matrix: {srp_bytes / 1e6:.1f} MB")
print(f"JLProjector pickled:          {len(pickle.dumps(proj))} bytes")
