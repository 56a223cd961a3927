"""Write a per-sample gradient matrix block by block, optionally projected, into memory or disk.

Framework-free: the torch and JAX modules pass a function that returns the gradients of
one block of rows, written in float32 (or float64, for a float64 JAX model).
"""

import os

import numpy as np

__all__ = ["write_blockwise"]


def write_blockwise(
    block_fn,
    n_samples,
    n_params,
    *,
    block_size=256,
    out=None,
    projector=None,
    rows_per_sample=1,
    dtype=np.float32,
):
    """Fill an ``(n_samples * rows_per_sample, d)`` matrix one block at a time.

    Parameters
    ----------
    block_fn : callable
        ``block_fn(start, stop) -> ndarray of shape ((stop - start) * rows_per_sample,
        n_params)``, the gradients of samples ``start:stop``.
    n_samples : int
        Number of rows.
    n_params : int
        Number of columns ``block_fn`` returns.
    block_size : int, default=256
        Rows per block; bounds the memory of one block to
        ``block_size * n_params * itemsize`` bytes (plus the framework's workspace).
    out : None, ndarray, numpy.memmap, str or path-like, default=None
        Where to write. None allocates an array in memory. An array (or memmap) of
        shape ``(n_samples, d)`` is written in place. A path creates a ``.npy`` file
        opened as a memmap (``numpy.lib.format.open_memmap``), which
        ``numpy.load(path, mmap_mode="r")`` reads back.
    projector : callable, default=None
        ``projector(G) -> P`` mapping a block (of ``dtype``) ``(n_block, n_params)`` to
        ``(n_block, k)`` (for example ``JLProjector(...).fit(...).transform``),
        applied to each block before it is written; then ``d = k``, else
        ``d = n_params``.
    rows_per_sample : int, default=1
        Output rows per sample (e.g. one curvature factor per direction).
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
        Precision of the blocks, of the projector's input and of the matrix allocated.

    Returns
    -------
    out : ndarray or numpy.memmap of shape (n_samples * rows_per_sample, d), dtype ``dtype``
        The filled matrix (the array passed as ``out`` when one was passed).
    """
    block_size = int(block_size)
    if block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size}.")
    r = int(rows_per_sample)
    target = None
    for start in range(0, n_samples, block_size):
        stop = min(start + block_size, n_samples)
        block = np.asarray(block_fn(start, stop), dtype=dtype)
        if projector is not None:
            block = np.asarray(projector(block), dtype=dtype)
            if block.ndim != 2 or block.shape[0] != (stop - start) * r:
                raise ValueError(
                    f"projector must return one row per input row; got shape {block.shape} "
                    f"for a block of {(stop - start) * r} rows."
                )
        if target is None:
            target = _allocate(out, n_samples * r, block.shape[1], dtype)
        target[start * r : stop * r] = block
    if target is None:
        target = _allocate(out, n_samples * r, n_params if projector is None else 0, dtype)
    if isinstance(target, np.memmap):
        target.flush()
    return target


def _allocate(out, n_samples, width, dtype):
    shape = (n_samples, width)
    if out is None:
        return np.empty(shape, dtype=dtype)
    if isinstance(out, (str, os.PathLike)):
        return np.lib.format.open_memmap(os.fspath(out), mode="w+", dtype=dtype, shape=shape)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be None, an ndarray, a memmap or a path; got {type(out)}.")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape}; expected {shape}.")
    if not np.can_cast(dtype, out.dtype, casting="same_kind"):
        raise ValueError(f"out must have a floating dtype, got {out.dtype}.")
    return out
