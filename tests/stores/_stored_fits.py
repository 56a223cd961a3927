"""The fitted state of the fixture stores' logistic regressions, bit for bit.

The stores under ``data/`` were written by a model fitted on another machine. The same
``LogisticRegression`` fitted here on the same rows, by the same numpy, scipy and
scikit-learn, can end some bits away where the CPU makes OpenBLAS pick other kernels
(an AVX-512 machine's against the AVX2 "Haswell" ones that fitted the stores): its
fingerprint then differs from the stored run's, and a test of fingerprint schemes would
fail for a reason that has nothing to do with them. So each store's fitted state
(``coef_``, ``intercept_``, ``n_iter_``) is kept beside it (``*.npz``) and put into the
model refitted here. The npz is not trusted alone: the tests compare the fingerprint of
the model holding it with what the store recorded, which it must match bit for bit.

``python -m tests.stores._stored_fits`` writes them again (the f5988b3 store's under
``tests/exporters/data``), each only where the model refitted here reproduces the
store's recorded fingerprint: run it with ``OPENBLAS_CORETYPE=Haswell`` on an AVX-512
machine for the stores written before 2026-12-05, without it for
``fingerprint5``, written on an AVX-512 machine.
"""

import sys
from pathlib import Path

import numpy as np

import sktraceprop as stp

#: The attributes of a fitted LogisticRegression whose values depend on the floating
#: point kernels (the others are counts, classes and names).
STATE = ("coef_", "intercept_", "n_iter_")

DATA = Path(__file__).parent / "data"


def install_fitted_state(model, path):
    """Put the fitted state kept in ``path`` into ``model`` (a fitted LogisticRegression)."""
    with np.load(path) as saved:
        for name in STATE:
            current = getattr(model, name)
            value = saved[name]
            if value.shape != current.shape or value.dtype != current.dtype:
                raise AssertionError(
                    f"{path.name}: {name} kept as {value.dtype}{value.shape}, the model "
                    f"refitted here has {current.dtype}{current.shape}"
                )
            setattr(model, name, value.copy())


def save_fitted_state(model, path):
    """Keep ``model``'s fitted state in ``path``."""
    np.savez(path, **{name: getattr(model, name) for name in STATE})


def _refitted_models(tmp):
    """``(npz path, model refitted here, its recorded fingerprint)`` of every store."""
    from tests.stores import test_earlier_fingerprints as scheme1
    from tests.stores._old_fingerprint_stores import maker_module, refit

    _, stored, est, _ = scheme1._refit(tmp / "s1", install=False)
    yield DATA / "frame_digest1_fit.npz", est.estimator_, stored.ops[-1].fingerprint
    from tests.stores import test_old_scheme_fingerprints as schemes

    store = stp.stores.SQLiteStore(schemes.F5988B3, mode="ro")
    runs = [store.load_run(r) for r in store.list_runs(source="sites")["run_id"]]
    (stored,) = [run for run in runs if len(run.sources) == 1]
    yield (
        schemes.F5988B3.parent / "sites_fit.npz",
        schemes.sites_model(),
        stored.ops[-1].fingerprint,
    )
    for scheme in (2, 3, 4, 5):
        folder = DATA / f"fingerprint{scheme}"
        out = tmp / f"s{scheme}"
        out.mkdir()
        with maker_module(folder, f"make_fingerprint{scheme}") as maker:
            _, stored, pipe, _ = refit(folder, out, maker, install=False)
        recorded = {op.name: op.fingerprint for op in stored.ops}
        model = pipe.named_steps["logisticregression"]
        yield folder / "fit.npz", model, recorded["logisticregression"]


def main():
    import tempfile

    from sktraceprop._lineage._fingerprint_match import matching_scheme

    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "s1").mkdir()
        for path, model, recorded in _refitted_models(Path(tmp)):
            if matching_scheme(model, recorded) is not None:
                save_fitted_state(model, path)
                print(f"wrote {path.relative_to(DATA.parents[1])}")
            else:
                failed += 1
                shown = path.relative_to(DATA.parents[1])
                print(f"{shown}: the model refitted here is not the stored one")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
