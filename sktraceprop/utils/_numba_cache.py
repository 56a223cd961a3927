"""numba's on-disk cache of compiled kernels, made to notice changes in sibling modules.

numba keys a cached kernel on the modification time and size of the one file that
defines it. A kernel that calls a jitted helper or reads a constant from another
module (the CSV line scan calls ``_csv_kernel_state._count_to``; the projection kernels
inline ``_simd``'s intrinsics) would be loaded stale after only that other module
changed, for instance after a ``git checkout`` that touches one file: line numbers
computed by old code, with no error. The locators below add to numba's stamp a
SHA-256 of every ``.py`` file in the kernel's own package directory, so a change to
any of them recompiles. Importing this module registers them (``sktraceprop``'s
``__init__`` does, before any kernel module is imported).

The locators also keep each numba version's kernels in a folder of its own
(``__pycache__/numba-<version>``): numba names a cached kernel's file by the function
and the Python version only, so two environments sharing one source tree (an editable
install in two virtual environments) overwrote each other's files, and a process that
had read its index before the other wrote failed loading the other's LLVM bitcode
("LLVM bitcode parsing error").
"""

import hashlib
import os
from functools import cache

import numba
from numba.core import caching

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@cache
def directory_digest(directory):
    """SHA-256 over the names and bytes of the ``.py`` files in ``directory``."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py"):
            h.update(name.encode() + b"\0")
            with open(os.path.join(directory, name), "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def _ours(py_file):
    return os.path.abspath(py_file).startswith(_PACKAGE_DIR + os.sep)


class _PackageStamp:
    """Mixin: numba's stamp of the file, plus the digest of its package directory."""

    def get_source_stamp(self):
        own = super().get_source_stamp()
        return (own, directory_digest(os.path.dirname(os.path.abspath(self._py_file))))

    def get_cache_path(self):
        # (one folder per numba version: see the module's docstring)
        return os.path.join(super().get_cache_path(), f"numba-{numba.__version__}")

    @classmethod
    def from_function(cls, py_func, py_file):
        if not _ours(py_file):
            return None
        return super().from_function(py_func, py_file)


def _numba_locator(name):
    """numba's locator class ``name`` (before numba 0.60 its name began with ``_``)."""
    return getattr(caching, name, None) or getattr(caching, "_" + name)


class UserProvidedLocator(_PackageStamp, _numba_locator("UserProvidedCacheLocator")):
    """``NUMBA_CACHE_DIR``, as numba would use it."""


class InTreeLocator(_PackageStamp, _numba_locator("InTreeCacheLocator")):
    """The package's ``__pycache__``, as numba would use it."""


class UserWideLocator(_PackageStamp, _numba_locator("UserWideCacheLocator")):
    """The user's cache directory, where the package's own is not writable."""


LOCATORS = (UserProvidedLocator, InTreeLocator, UserWideLocator)


def register():
    """Put the locators first in numba's list (once): numba then asks them first."""
    classes = caching.CacheImpl._locator_classes
    for locator in reversed(LOCATORS):
        if locator not in classes:
            classes.insert(0, locator)


register()
