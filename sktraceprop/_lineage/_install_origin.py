"""Where a module came from: Python's standard library, a package whose version a run
records, a package installed from a package index, or the user's own code.

The fingerprint (``_fingerprint_code``) hashes user code by its code and names the
rest; this module says which a module is, from its name and the file it was read from:

- ``"builtin"``: compiled into the interpreter (no file);
- ``"stdlib"``: Python's standard library. Up to fingerprint scheme 4 a module was taken
  for the standard library by its top-level name alone (``sys.stdlib_module_names``), so
  a user's ``statistics.py`` or ``tokenize.py`` in the working folder, imported in place
  of the standard one, was named and not hashed; from scheme 5 the name must also be
  read from the standard library's folder (``sysconfig``'s ``stdlib``/``platstdlib``,
  not ``site-packages``), or from no file (frozen, built in);
- ``"recorded"``: sktraceprop, scikit-learn, NumPy, SciPy, pandas and joblib, whose
  versions a run records;
- ``"index"``: under ``site-packages`` or ``dist-packages``, of a distribution installed
  from a package index (no ``direct_url.json``, PEP 610), or named by a legacy
  ``.egg-info``;
- ``"user"``: anything else: ``__main__``, a module made at run time, a module outside
  ``site-packages`` (a script's folder, an editable install), or under it but installed
  from a folder, an archive or a version-control checkout (``direct_url.json``), or
  copied there by hand (no distribution lists its file).

:func:`installed_identity` gives what names the code of an ``"index"`` module from
scheme 5: its distribution's name and version and the SHA-256 of the module's file as
read (made again when the file changes), so that a package from an index edited in place
under ``site-packages``, or another version of it, is told apart.
:func:`recorded_integrity` checks a ``"recorded"`` module's file against the SHA-256 its
distribution's RECORD lists: nothing when it is as installed (the run records the
version), the file's SHA-256 when it was edited in place.
"""

import base64
import functools
import hashlib
import json
import os
import re
import sys
import sysconfig

#: Packages whose versions a run records (``library_versions``): named, not hashed.
RECORDED = frozenset({"sktraceprop", "sklearn", "numpy", "scipy", "pandas", "joblib"})
_INSTALLED_DIRS = ("site-packages", "dist-packages")


def _parts(path):
    return str(path).replace("\\", "/").split("/")


@functools.lru_cache(maxsize=1)
def _stdlib_dirs():
    paths = sysconfig.get_paths()
    dirs = set()
    for key in ("stdlib", "platstdlib"):
        if paths.get(key):
            dirs.add(os.path.realpath(paths[key]))
    return tuple(sorted(dirs))


def _in_stdlib_dir(path):
    """Whether ``path`` is a file of the standard library's folders (not of a
    ``site-packages`` folder inside them)."""
    real = os.path.realpath(path)
    if any(part in _INSTALLED_DIRS for part in _parts(real)):
        return False
    return any(real.startswith(folder + os.sep) for folder in _stdlib_dirs())


@functools.lru_cache(maxsize=4096)
def origin(name, scheme):
    """``"builtin"``, ``"stdlib"``, ``"recorded"``, ``"index"`` or ``"user"``: where the
    module ``name`` came from, as fingerprint ``scheme`` (3, 4 or 5) tells."""
    if name == "__main__":
        return "user"
    top = name.partition(".")[0]
    if top in RECORDED:
        return "recorded"
    if top == "builtins":
        return "builtin"
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if top in sys.stdlib_module_names:
        if scheme < 5 or path is None or _in_stdlib_dir(path):
            return "stdlib"
        # scheme 5: a module of a standard library name read from another folder (a
        # user's statistics.py beside the script) is not the standard library's
    if path is None:
        # a module made at run time (exec, a notebook's cells, one not imported) holds
        # user code; one compiled into the interpreter does not
        return "builtin" if name in sys.builtin_module_names else "user"
    parts = _parts(path)
    at = [i for i, part in enumerate(parts) if part in _INSTALLED_DIRS]
    if not at:
        return "user"
    if scheme < 4:
        return "index"
    # scheme 4: installed from a folder, an archive or a checkout, or by hand
    site = "/".join(parts[: at[-1] + 1])
    rel = "/".join(parts[at[-1] + 1 :])
    return "user" if _installed_by_user(site, rel, top) else "index"


def _normal(name):
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.lru_cache(maxsize=64)
def _records(site):
    """``{file path in site: its .dist-info folder}`` for every wheel-style distribution
    in ``site`` (read once a process, and only where a module's own name does not lead
    to its distribution), and the files ``.egg-info`` folders list as top-level names."""
    owners, legacy = {}, set()
    for entry in _entries(site):
        folder = os.path.join(site, entry)
        if entry.endswith(".dist-info"):
            for rel in _record_files(folder):
                owners.setdefault(rel, folder)
        elif entry.endswith(".egg-info"):
            legacy.update(_top_level(folder))
    return owners, legacy


@functools.lru_cache(maxsize=256)
def _record_files(folder):
    """``{file: its hash as listed}`` for the files a .dist-info's RECORD lists (read
    once a process: torch's lists tens of thousands)."""
    try:
        with open(os.path.join(folder, "RECORD"), encoding="utf-8") as f:
            rows = [line.rstrip("\r\n").split(",") for line in f if line.strip()]
    except OSError:
        return {}
    return {row[0]: (row[1] if len(row) > 1 else "") for row in rows}


@functools.lru_cache(maxsize=64)
def _entries(site):
    try:
        return tuple(os.listdir(site))
    except OSError:
        return ()


def _top_level(folder):
    try:
        with open(os.path.join(folder, "top_level.txt"), encoding="utf-8") as f:
            return {line.strip() for line in f if line.strip()}
    except OSError:
        return set()


#: Distributions not named as their module (``scikit-learn`` installs ``sklearn``).
_DIST_OF = {"sklearn": "scikit_learn"}


@functools.lru_cache(maxsize=4096)
def _owner(site, rel, top, scan_all=True):
    """The ``.dist-info`` folder whose RECORD lists the file ``rel`` of ``site``,
    ``"legacy"`` where an ``.egg-info`` names ``top``, or None (no distribution; with
    ``scan_all`` False, none named as the module or in ``_DIST_OF``)."""
    wanted = {_normal(top), _normal(_DIST_OF.get(top, top))}
    for entry in _entries(site):  # the distribution named as the module, most often
        if entry.endswith(".dist-info") and _normal(entry.split("-", 1)[0]) in wanted:
            folder = os.path.join(site, entry)
            if rel in _record_files(folder):
                return folder
    if not scan_all:
        return None
    owners, legacy = _records(site)
    owner = owners.get(rel)
    if owner is None and top in legacy:
        return "legacy"
    return owner


def _installed_by_user(site, rel, top):
    """Whether the file ``rel`` of ``site`` (a site-packages folder) is the user's: of
    a distribution installed from a direct URL (``direct_url.json``: a folder, an
    archive, a checkout, not a package index), or of none (copied in by hand). A file an
    ``.egg-info`` names as its top level (a legacy install, no origin recorded) is not."""
    owner = _owner(site, rel, top)
    if owner is None:
        return True
    if owner == "legacy":
        return False
    try:
        with open(os.path.join(owner, "direct_url.json"), encoding="utf-8") as f:
            json.load(f)
    except FileNotFoundError:
        return False  # from a package index
    except (OSError, ValueError):
        return True  # a direct_url.json that cannot be read: hashed, the sound side
    return True


#: ``{path: ((size, mtime, ctime, inode), bytes)}``: a module file's identity, made again
#: when the file is another (a reloaded edit is seen; an edit not reloaded is a false
#: alarm, never a silent match). The status-change time is in the key because an edit of
#: the same size whose modification time is set back (``cp -p``, ``rsync -t``,
#: ``os.utime``) keeps size, mtime and inode; it changes the ctime.
_IDENTITIES = {}


def installed_identity(name):
    """What names the code of the ``"index"`` module ``name`` (scheme 5), as bytes:
    its distribution's folder name (name and version: ``fpidx-1.0.dist-info``,
    ``legacy`` for an ``.egg-info``) and the SHA-256 of the module's file, kept while
    the file's size, times (modification and status change) and inode stay the same.
    A file that cannot be read is said so, in bytes of their own."""
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if path is None:
        return b"n"
    try:
        stat = os.stat(path)
        key = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    except OSError:
        key = None
    kept = _IDENTITIES.get(path)
    if key is not None and kept is not None and kept[0] == key:
        return kept[1]
    parts = _parts(path)
    at = [i for i, part in enumerate(parts) if part in _INSTALLED_DIRS]
    owner = None
    if at:
        site = "/".join(parts[: at[-1] + 1])
        owner = _owner(site, "/".join(parts[at[-1] + 1 :]), name.partition(".")[0])
    dist = "none" if owner is None else os.path.basename(owner)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        text = f"{dist}\0unreadable:{type(exc).__name__}".encode()
        return b"%d:" % len(text) + text
    text = f"{dist}\0{os.path.basename(path)}\0{digest.hexdigest()}".encode()
    out = b"%d:" % len(text) + text
    if key is not None:
        _IDENTITIES[path] = (key, out)
    return out


#: ``{module name: bytes}``: what :func:`recorded_integrity` found, once a process.
_CHECKED = {}


def recorded_integrity(name):
    """For a module of a package whose version a run records (scikit-learn, NumPy,
    SciPy, pandas, joblib, sktraceprop), from scheme 5: ``b""`` when its file is as its
    distribution's RECORD lists it (its SHA-256), or when nothing lists it with a hash
    (an editable or source install: nothing to check against); else, the file edited in
    place after it was installed, its distribution, path and SHA-256 as bytes. Checked
    once a process (the code a process runs is what it imported)."""
    kept = _CHECKED.get(name)
    if kept is not None:
        return kept
    out = b""
    path = getattr(sys.modules.get(name), "__file__", None)
    parts = _parts(path) if path else []
    at = [i for i, part in enumerate(parts) if part in _INSTALLED_DIRS]
    if at:
        site = "/".join(parts[: at[-1] + 1])
        rel = "/".join(parts[at[-1] + 1 :])
        owner = _owner(site, rel, name.partition(".")[0], scan_all=False)
        listed = _record_files(owner).get(rel, "") if owner not in (None, "legacy") else ""
        if listed.startswith("sha256="):
            digest = hashlib.sha256()
            try:
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        digest.update(block)
                now = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
                found = None if now == listed[7:] else digest.hexdigest()
            except OSError as exc:
                found = f"unreadable:{type(exc).__name__}"
            if found is not None:
                text = f"{os.path.basename(owner)}\0{rel}\0{found}".encode()
                out = b"%d:" % len(text) + text
    _CHECKED[name] = out
    return out
