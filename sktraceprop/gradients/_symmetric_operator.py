"""The ``@`` glue of a symmetric ``p x p`` operator applied to rows: ``V @ op``, ``op @ v``.

An inverse Hessian applied without its matrix (:class:`~._woodbury.WoodburyInverse`,
:class:`~sktraceprop.influence._matrix_free.MatrixFreeInverse`) defines ``apply(A)``,
``A M`` for the rows of ``A``; this mixin makes it stand where a dense symmetric matrix
stood: ``V @ op`` for a vector or rows, ``op @ v`` for a vector or columns, and
``shape``.
"""

import numpy as np

__all__ = ["SymmetricOperator"]


class SymmetricOperator:
    """``@`` and ``shape`` of a symmetric operator that defines ``apply`` and ``n_params``.

    ``apply(A)`` returns ``A M`` for the rows of ``A`` (q, p); ``M`` symmetric, so
    ``M v`` is ``apply`` of ``v`` as a row and ``M B`` is ``apply(B.T).T``.
    """

    # numpy defers ``ndarray @ self`` to :meth:`__rmatmul__`
    __array_ufunc__ = None

    @property
    def shape(self):
        return (self.n_params, self.n_params)

    def __rmatmul__(self, V):
        V = np.asarray(V, dtype=np.float64)
        return self.apply(V)[0] if V.ndim == 1 else self.apply(V)

    def __matmul__(self, v):
        v = np.asarray(v, dtype=np.float64)
        return self.apply(v)[0] if v.ndim == 1 else self.apply(v.T).T
