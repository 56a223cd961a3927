"""What each fingerprint scheme hashes by code, in the words a run's notes and reports
use (``_fingerprint_schemes``). Reports verify against these words as written, so the
words of an earlier scheme never change: a new scheme adds its own."""

#: The scope of what scheme 3 hashed by code, said where the scheme is described (a
#: report of a scheme-3 run holds these words).
SCOPE_3 = (
    "functions and classes of user code (__main__, a notebook, a module not installed) "
    "are hashed by their code, defaults, closure contents and the plain values and user "
    "functions they read as globals (not by file name or line numbers; not globals they "
    "assign, nor class attributes other than functions); those of installed "
    "packages (Python's standard library, sktraceprop, scikit-learn, NumPy, SciPy, "
    "pandas, joblib, anything under site-packages) and C functions are named by module "
    "and qualified name only, so an edited installed package is not told apart"
)
#: The scope of what scheme 4 hashed by code (a report of a scheme-4 run made before
#: scheme 5 holds these words).
SCOPE_4 = (
    "functions and classes of user code (__main__, a notebook, a module not installed, "
    "an editable install, a package installed from a folder, an archive or a "
    "version-control checkout rather than a package index, or copied into "
    "site-packages by hand) are hashed by their code, defaults, closure contents, the "
    "values they read as globals and the attributes of user classes (through their user "
    "base classes): plain values, arrays, estimators, frames, regular expressions and "
    "user functions and classes by content, other objects by their class only; not by "
    "file name or line numbers, nor the globals they assign; a class attribute or "
    "global changed by use (a counter, a cache) changes the fingerprint as it changes. "
    "Functions and classes of Python's standard library, sktraceprop, scikit-learn, "
    "NumPy, SciPy, pandas, joblib, packages installed from a package index, and C "
    "functions are named by module and qualified name only, so an installed package "
    "edited in place is not told apart"
)
#: The scope of what scheme 5 hashed by code (a report of a scheme-5 run made before
#: scheme 6 holds these words).
SCOPE_5 = (
    "functions and classes of user code (__main__, a notebook, a module not installed, "
    "a module of a standard library name read from outside the standard library's "
    "folder, an editable install, a package installed from a folder, an archive or a "
    "version-control checkout rather than a package index, or copied into "
    "site-packages by hand) are hashed by their code, defaults, closure contents, the "
    "values they read as globals and the attributes of user classes (through their user "
    "base classes): plain values, arrays, estimators, frames, regular expressions and "
    "user functions and classes by content, other objects by their class only; not by "
    "file name or line numbers, nor the globals they assign, nor the class attributes "
    "the class's own functions assign, nor the contents of a dict, list, set, bytearray "
    "or deque class attribute they change in place (a cache: by its type); a global or "
    "class attribute changed by other code changes the fingerprint as it changes. "
    "Functions and classes of packages installed from a package index are named with "
    "their distribution and the SHA-256 of their module's file, so such a package "
    "edited in place or upgraded is told apart. Functions and classes of Python's "
    "standard library, sktraceprop, scikit-learn, NumPy, SciPy, pandas and joblib (whose "
    "versions a run records) and C functions of builtin modules are named by module and "
    "qualified name only; a file of a recorded package edited in place (no longer the "
    "SHA-256 its installed RECORD lists) is named with its SHA-256, while an edited file "
    "of the standard library, or of a recorded package whose RECORD lists no hash (an "
    "editable or source install), is not told apart"
)
#: What scheme 6 says of user code, before what it follows of modules (shared by
#: :data:`SCOPE_6` and :data:`SCOPE`; the words are part of reports: keep them exact).
_USER_CODE_6 = (
    "functions and classes of user code (__main__, a notebook, a module not installed, "
    "a module of a standard library name read from outside the standard library's "
    "folder, an editable install, a package installed from a folder, an archive or a "
    "version-control checkout rather than a package index, or copied into site-packages "
    "by hand) are hashed by their code, defaults, closure contents, the values they "
    "read as globals, the attributes they read of a module of user code or of a package "
    "from a package index they hold as a global (mymod.helper(X) after import mymod, "
    "_utils.helper() after from . import _utils: the helper by its code, so an edited, "
    "reloaded or replaced helper is told apart) and the attributes of user classes "
    "(through their user base classes): plain values, arrays, estimators, frames, "
    "regular expressions and user functions and classes by content, other objects by "
    "their class only; not by file name or line numbers, nor the globals they assign, "
    "nor the class attributes the class's own functions assign, nor the contents of a "
    "dict, list, set, bytearray or deque class attribute they change in place (a cache: "
    "by its type); a global, module attribute or class attribute changed by other code "
    "changes the fingerprint as it changes. "
)
#: What scheme 6 says of installed packages, after what it follows of modules.
_PACKAGES_6 = (
    "Functions and classes of packages installed from a package index are named with "
    "their distribution and the SHA-256 of their module's file, so such a package "
    "edited in place or upgraded is told apart. Functions and classes of Python's "
    "standard library, sktraceprop, scikit-learn, NumPy, SciPy, pandas and joblib "
    "(whose versions a run records) and C functions of builtin modules are named by "
    "module and qualified name only; a file of a recorded package edited in place (no "
    "longer the SHA-256 its installed RECORD lists) is named with its SHA-256, while an "
    "edited file of the standard library (the run records the Python version, not its "
    "files), or of a recorded package whose RECORD lists no hash (an editable or source "
    "install, such as a development checkout of sktraceprop or scikit-learn), is not "
    "told apart"
)
#: The scope of what scheme 6 hashed by code as first written (a report of a scheme-6
#: run made before it followed getattr, closure cells, imports in a function and methods
#: replaced on an instance holds these words).
SCOPE_6 = (
    _USER_CODE_6
    + (
        "Not seen: a module reached other than by attribute reads from a global "
        "(getattr(mymod, name), a module in a local variable, a closure or a default: by "
        "its name only), and a method replaced on one fitted instance rather than its "
        "class. "
    )
    + _PACKAGES_6
)

#: The scope of what scheme 6 hashed by code before it followed a module's attributes
#: through a local alias and an argument's default, imports by importlib.import_module
#: and __import__, and took module-level caches for state (a report of a scheme-6 run
#: made then holds these words).
SCOPE_6_FOLLOWED = (
    _USER_CODE_6
    + (
        "A module of user code or of a package from a package index is followed also "
        'through getattr(mymod, "name") (as mymod.name) and through a closure cell, and '
        "hashed whole (every attribute) where the code uses it as a value (passed on, "
        "getattr(mymod, name) with a name computed at run time); a module of user code a "
        "function imports when it runs (import mymod inside it) is hashed by its file's "
        "SHA-256; a method replaced on one fitted instance (obj.transform = fn) is hashed "
        "with the instance. Not seen: a module held in a default or reached through "
        "importlib.import_module (by its name only), a module of an installed package "
        "imported inside a function, and a helper of a module imported inside a function "
        "replaced at run time rather than edited in its file. "
    )
    + _PACKAGES_6
)

#: What scheme 6 follows of a module since it followed a local alias and a default (shared by
#: :data:`SCOPE_6_ALIASED` and :data:`SCOPE`; the words are part of reports: keep them
#: exact): how it is reached, then how it is hashed, then what is not seen beyond its name.
_REACHED_6 = (
    "A module of user code or of a package from a package index is followed also "
    'through getattr(mymod, "name") (as mymod.name), through a local variable '
    "assigned it once (h = mymod), through a closure cell and through an argument's "
    "default (def f(X, h=mymod))"
)
_HASHED_6 = (
    ", and hashed whole where the code uses it as a value "
    "(passed on, getattr(mymod, name) with a name computed at run time): every "
    "attribute but the state its own functions keep (the names they assign as "
    "globals: named; the dict, list, set, bytearray or deque they change in place: "
    "by its type). A global dict, list, set, bytearray or deque a user function "
    "changes in place (a memo: _memo[key] = value) is state, hashed by its type, so "
    "its initial contents edited are not told apart. A module of user code a "
    "function imports when it runs (import mymod inside it, "
    'importlib.import_module("mymod") or __import__("mymod") with a constant name) '
    "is hashed by its file's SHA-256; a method replaced on one fitted instance "
    "(obj.transform = fn) is hashed with the instance. Not followed, so not seen "
    "beyond its name: a module passed in a container"
)
_NOT_SEEN_6 = (
    ", a module of an installed package imported "
    "inside a function, and a helper of a module imported inside a function "
    "replaced at run time rather than edited in its file; not seen at all: a "
    "module the code gets from importlib.import_module or __import__ with a name "
    "computed at run time or with other arguments. "
)

#: The scope of what scheme 6 hashed by code before it followed a module bound to a
#: function's argument by a partial or a FunctionTransformer's kw_args (a report of a
#: scheme-6 run made then holds these words).
SCOPE_6_ALIASED = (
    _USER_CODE_6
    + _REACHED_6
    + _HASHED_6
    + ", a partial's arguments or a FunctionTransformer's kw_args"
    + _NOT_SEEN_6
    + _PACKAGES_6
)


#: The scope of what scheme 6 (the current scheme) hashes by code.
SCOPE = (
    _USER_CODE_6
    + _REACHED_6
    + (
        " or bound to it by a functools.partial "
        "(partial(f, h=mymod)) or a FunctionTransformer's kw_args or inv_kw_args"
    )
    + _HASHED_6
    + " or to a function's **kwargs"
    + _NOT_SEEN_6
    + _PACKAGES_6
)
