"""Whether dense parameter-sized matrices fit in memory, said before they are allocated.

The exact influence and the Newton correction of a linear model build the dense
``p x p`` Hessian of its ``p`` parameters (the explainer also its eigenvectors and
inverse). A text vectorizer's vocabulary makes ``p`` 10^4 to 10^6: at 10^5 one such
matrix is 80 GB. Allocated anyway, it fails with NumPy's bare ``MemoryError``, or, where
the operating system overcommits memory, the process (a notebook's kernel) is killed
without a word once the pages are touched. :func:`check_dense_fits` raises first,
naming the size and what makes it smaller.
"""

import os

__all__ = ["check_dense_fits", "physical_memory"]


def physical_memory():
    """Bytes of physical memory of this machine, or None where the system cannot say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_dense_fits(n_params, copies, what):
    """Raise ``MemoryError`` when ``copies`` dense ``n_params x n_params`` float64
    matrices exceed the machine's physical memory.

    Parameters
    ----------
    n_params : int
    copies : int
        How many such matrices are held at once.
    what : str
        What needs them, for the message.
    """
    need = 8 * int(n_params) ** 2 * int(copies)
    total = physical_memory()
    if total is None or need <= total:
        return
    raise MemoryError(
        f"{what} needs {copies} dense {n_params} x {n_params} float64 matrices "
        f"({need / 2**30:,.1f} GiB), more than this machine's {total / 2**30:,.1f} GiB of "
        f"memory: the model has {n_params} parameters. With a text vectorizer, limit its "
        "vocabulary (max_features=, min_df=, or a selection step such as SelectKBest) or "
        "hash it into fewer columns (HashingVectorizer(n_features=...)). Nothing was "
        "allocated or changed."
    )
