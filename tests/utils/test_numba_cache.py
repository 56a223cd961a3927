"""numba's kernel cache recompiles when a sibling module of a kernel changes."""

import importlib
import os
import subprocess
import sys
import textwrap

import pytest
from numba.core.registry import CPUDispatcher

from sktraceprop.utils import _numba_cache

KERNEL_MODULES = [
    "sktraceprop._lineage._csv_kernel",
    "sktraceprop._lineage._csv_kernel_state",
    "sktraceprop._lineage._csv_plain",
    "sktraceprop.projection._kernels",
    "sktraceprop.projection._scatter",
    "sktraceprop.valuation._kernels",
]


@pytest.mark.parametrize("name", KERNEL_MODULES)
def test_every_cached_kernel_uses_the_package_locators(name):
    module = importlib.import_module(name)
    cached = [
        value
        for value in vars(module).values()
        if isinstance(value, CPUDispatcher) and value._cache.__class__.__name__ != "NullCache"
    ]
    assert cached
    for dispatcher in cached:
        assert isinstance(dispatcher._cache._impl.locator, _numba_cache.LOCATORS)


def test_directory_digest_changes_with_any_sibling(tmp_path):
    (tmp_path / "a.py").write_text("X = 1\n")
    (tmp_path / "b.py").write_text("Y = 1\n")
    (tmp_path / "notes.txt").write_text("not code")
    first = _numba_cache.directory_digest.__wrapped__(str(tmp_path))
    (tmp_path / "notes.txt").write_text("changed, still not code")
    assert _numba_cache.directory_digest.__wrapped__(str(tmp_path)) == first
    (tmp_path / "a.py").write_text("X = 2\n")
    assert _numba_cache.directory_digest.__wrapped__(str(tmp_path)) != first


_RUN = """
import sys
sys.path.insert(0, {root!r})
from sktraceprop.utils import _numba_cache
if {register}:
    _numba_cache._PACKAGE_DIR = {root!r}
else:
    for locator in _numba_cache.LOCATORS:
        _numba_cache.caching.CacheImpl._locator_classes.remove(locator)
import pkg.kernel
print(pkg.kernel.kernel())
"""


def _run(root, register):
    env = {**os.environ, "NUMBA_CACHE_DIR": os.path.join(root, "cache")}
    code = _RUN.format(root=root, register=register)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


def _package(root, value):
    pkg = os.path.join(root, "pkg")
    os.makedirs(pkg, exist_ok=True)
    open(os.path.join(pkg, "__init__.py"), "w").close()
    with open(os.path.join(pkg, "helper.py"), "w") as f:
        f.write(
            textwrap.dedent(
                f"""
                from numba import njit

                @njit(cache=True)
                def helper():
                    return {value}
                """
            )
        )
    kernel = os.path.join(pkg, "kernel.py")
    if not os.path.exists(kernel):
        with open(kernel, "w") as f:
            f.write(
                textwrap.dedent(
                    """
                    from numba import njit
                    from .helper import helper

                    @njit(cache=True)
                    def kernel():
                        return helper()
                    """
                )
            )


@pytest.mark.parametrize("register", [True, False])
def test_a_kernel_is_recompiled_after_only_its_helper_module_changed(tmp_path, register):
    root = str(tmp_path)
    _package(root, 1)
    assert _run(root, register) == 1
    _package(root, 2)  # kernel.py untouched: same mtime and size
    # numba alone loads the stale kernel; with the package locators it recompiles
    assert _run(root, register) == (2 if register else 1)


def test_each_numba_version_keeps_its_kernels_in_a_folder_of_its_own(tmp_path, monkeypatch):
    # two environments sharing one source tree (numba 0.6x with LLVM 22 and the oldest
    # supported numba with LLVM 14) wrote the same kernel files: one process then failed
    # loading the other's bitcode. Each version's files now stay in their own folder.
    import numba

    py_file = tmp_path / "mod.py"
    py_file.write_text("def f():\n    return 1\n")
    namespace = {}
    exec(compile(py_file.read_text(), str(py_file), "exec"), namespace)
    paths, real = {}, numba.__version__
    for version in (real, "0.0.0"):
        monkeypatch.setattr(numba, "__version__", version)
        for locator in _numba_cache.LOCATORS[:2]:
            monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "cache"))
            found = locator.from_function(namespace["f"], str(py_file))
            if found is None:  # (outside the package: the test's file is not ours)
                monkeypatch.setattr(_numba_cache, "_PACKAGE_DIR", str(tmp_path))
                found = locator.from_function(namespace["f"], str(py_file))
            paths[version, locator.__name__] = found.get_cache_path()
    for name in ("UserProvidedLocator", "InTreeLocator"):
        ours, other = paths[real, name], paths["0.0.0", name]
        assert ours != other
        assert os.path.basename(ours) == f"numba-{real}"
        assert os.path.basename(other) == "numba-0.0.0"
        assert os.path.dirname(ours) == os.path.dirname(other)
