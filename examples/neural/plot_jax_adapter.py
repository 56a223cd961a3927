r"""
=========================================================
A JAX MLP as a scikit-learn classifier, and its gradients
=========================================================

:class:`sktraceprop.adapters.JaxClassifier` wraps a pure JAX model, a picklable
``(init_fn, apply_fn)`` pair such as :func:`sktraceprop.adapters.mlp` returns, as a
scikit-learn classifier: ``fit``, ``predict_proba``, ``clone``, pickling and
``GridSearchCV`` work as usual. We train a small MLP on scikit-learn's digits, compute
the per-sample gradients of every training row's signed margin with
``jax.vmap(jax.grad)``, check a few rows against ``jax.grad`` on one row at a time, and
look at how the margin and its gradient norm relate.
"""

# %%
# Train a small MLP on the digits.
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sktraceprop.adapters import JaxClassifier, mlp
from sktraceprop.gradients._jax import (
    jax_margins,
    jax_parameter_names,
    jax_per_sample_gradients,
)

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)

init_fn, apply_fn = mlp(hidden=(32,))
clf = JaxClassifier(apply_fn, init_fn, n_epochs=40, batch_size=64, alpha=1e-4, random_state=0)
clf.fit(X_tr, y_tr)
print(f"test accuracy: {clf.score(X_te, y_te):.3f}")

# %%
# Per-sample gradients of the margin ``z_y - logsumexp_{j != y} z_j``, over all
# parameters and over the output layer only (the columns of the second are the last
# columns of the first).
names = jax_parameter_names(clf)
print("parameters:", names)
G = jax_per_sample_gradients(clf, X_tr, y_tr, block_size=256)
G_last = jax_per_sample_gradients(clf, X_tr, y_tr, parameters=["1.bias", "1.weight"])
print("gradient matrix:", G.shape, "output layer:", G_last.shape)
np.testing.assert_allclose(G_last, G[:, -G_last.shape[1] :], rtol=1e-5, atol=1e-6)

# %%
# Check five rows against ``jax.grad`` of the margin written out by hand.
for i in range(5):
    x, t = jnp.asarray(X_tr[i : i + 1]), int(y_tr[i])

    def margin(params, x=x, t=t):
        z = clf.apply_fn_(params, x)[0]
        return z[t] - jax.nn.logsumexp(jnp.delete(z, t))

    g = jax.grad(margin)(jax.tree_util.tree_map(jnp.asarray, clf.params_))
    flat = np.concatenate([np.ravel(leaf) for leaf in jax.tree_util.tree_leaves(g)])
    np.testing.assert_allclose(G[i], flat, rtol=1e-4, atol=1e-5)
print("vmap(grad) matches jax.grad row by row")

# %%
# The training loss gradient is ``-(1 - p_true)`` times the margin gradient (TRAK's
# re-weighting): rows the model already fits with confidence carry little gradient.
margins, p_true = jax_margins(clf, X_tr, y_tr)
G_loss = jax_per_sample_gradients(clf, X_tr, y_tr, output="loss")
np.testing.assert_allclose(G_loss, -(1 - p_true)[:, None] * G, rtol=1e-3, atol=1e-5)

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(margins, np.linalg.norm(G, axis=1), s=6, label="margin gradient")
ax.scatter(margins, np.linalg.norm(G_loss, axis=1), s=6, label="loss gradient")
ax.set_xlabel("signed margin of the true class")
ax.set_ylabel("per-sample gradient norm")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()
plt.show()
