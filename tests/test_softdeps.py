"""Importing sktraceprop stays light, and every module imports without optional extras."""

import subprocess
import sys
import textwrap


def _run(code):
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_does_not_load_heavy_dependencies():
    out = _run(
        """
        import sys
        import sktraceprop
        heavy = [
            m
            for m in ("torch", "jax", "skorch", "numba", "imblearn", "polars")
            if m in sys.modules
        ]
        print(heavy)
        """
    )
    assert out.strip() == "[]"


def test_public_modules_import_without_torch_and_jax():
    out = _run(
        """
        import sys
        import scipy.stats  # noqa: F401  (scipy probes for torch while importing)
        import sklearn.base  # noqa: F401
        for name in ("torch", "jax", "jaxlib", "skorch", "optax", "polars"):
            sys.modules[name] = None  # makes "import name" raise ImportError
        import sktraceprop
        failed = []
        for name in sktraceprop.__all__:
            if name == "TracedImbPipeline":
                continue  # needs imbalanced-learn, an optional extra
            try:
                getattr(sktraceprop, name)
            except ImportError as exc:
                failed.append((name, str(exc)))
        print(failed)
        """
    )
    assert out.strip() == "[]"
