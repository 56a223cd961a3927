"""Sphinx configuration: ``make docs`` (user guide, API reference and gallery, offline).

The build treats every warning as an error (``make docs`` runs ``sphinx-build -W``),
fails when a public name is missing from ``api.rst`` (``api_check.py``) and when a
gallery example draws no figure.
"""

import os
import re
import sys
from pathlib import Path

# Figures of the gallery are rendered to files; the examples leave the backend alone.
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_check import missing_names

import sktraceprop

project = "sktraceprop"
release = version = sktraceprop.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
autosummary_generate = True


def _members_from_outside():
    """``{public name of a class: its public members defined outside its subpackage}``.

    ``class_mixins.rst`` documents a class split into mixins (one job per module: the
    stores' ``BaseStore``, the unlearner, the explainer) with every public member its
    mixins give it, less these: what it inherits from scikit-learn (``get_params``) or
    from mixins shared across the package (predictions delegated to the fitted model),
    which are documented there, as a class documented by ``class.rst`` leaves them out.
    """
    from api_check import public_names

    outside = {}
    for name, obj in public_names().items():
        if not isinstance(obj, type):
            continue
        package = obj.__module__.rpartition(".")[0]
        owners = {m: next((k for k in obj.__mro__ if m in vars(k)), None) for m in dir(obj)}
        outside[name] = sorted(
            m
            for m, owner in owners.items()
            if not m.startswith("_")
            and owner is not None
            and owner.__module__.rpartition(".")[0] != package
        )
    return outside


autosummary_context = {"members_from_outside": _members_from_outside()}
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "doc_module": ("sktraceprop",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"sktraceprop": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []


def _check_api(app):
    missing = missing_names()
    if missing:
        from sphinx.errors import ExtensionError

        raise ExtensionError(
            "public names missing from doc/api.rst (add them to an autosummary table): "
            + ", ".join(missing)
        )


def _check_figures(app, exception):
    """Every example drew at least one figure (sphinx-gallery saved its image)."""
    if exception is not None or app.builder.name != "html":
        return
    if str(getattr(app.config, "plot_gallery", True)).lower() in ("0", "false", "no", "off"):
        return  # -D plot_gallery=0: the examples were not run, so none drew a figure
    source = Path(app.srcdir)
    examples = sorted((source.parent / "examples").glob("*/plot_*.py"))
    without = [
        f"{p.parent.name}/{p.name}"
        for p in examples
        if not (
            source / "auto_examples" / p.parent.name / "images" / f"sphx_glr_{p.stem}_001.png"
        ).exists()
    ]
    if without:
        from sphinx.errors import ExtensionError

        raise ExtensionError("gallery examples that drew no figure: " + ", ".join(without))


# "name : type" lines of numpydoc sections; their type is rendered as reStructuredText
_TYPE_LINE = re.compile(r"^(\s*[\w*][\w, *]* : )(.+)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def _quote_fitted_names(app, what, name, obj, options, lines):
    """``(n_features_in_,)`` in a type reads as a link target to docutils: quote it."""
    for i, line in enumerate(lines):
        match = _TYPE_LINE.match(line)
        if match:
            head, kind = match.groups()
            lines[i] = head + _TRAILING_UNDERSCORE.sub(r"``\1``", kind)


def _skip_request_methods(app, what, name, obj, skip, options):
    """scikit-learn generates ``set_*_request`` on estimators with metadata routing;
    their docstrings point into scikit-learn's own glossary."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("builder-inited", _check_api)
    app.connect("build-finished", _check_figures)
    app.connect("autodoc-process-docstring", _quote_fitted_names, priority=400)
    app.connect("autodoc-skip-member", _skip_request_methods)
