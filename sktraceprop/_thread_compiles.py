"""No numba kernel is ever compiled on a thread the library starts.

numba's compiler wraps its work in ``warnings.catch_warnings`` (type inference, its
error handling, a retry without rewrites): process-wide state, not a thread's. A compile
on a library thread while the program records warnings in its own ``catch_warnings``
block (``pytest.warns``, an audit tool's capture, the library's own record of a fit's
warnings) restores, when it ends, the filters and handler that block had replaced: the
block records nothing more, and warnings raised meanwhile are silently lost (seen: a
fit's ``LineageWarning`` missing from the recorded warnings in 2 of 3 fresh processes).

Loading a kernel from numba's on-disk cache does not run the compiler, so a thread may
load. What a thread may need to *compile* is not known beforehand: numba compiles one
specialisation per combination of argument types (dtype, layout, a read-only array is
a type of its own), which depend on the data. So rather than guess them, work handed to
a thread runs under :func:`attempt`: a numba compile asked for there is refused before
numba's compiler starts (a listener on numba's ``"numba:compile"`` event, which numba
triggers only when it compiles, not when it loads from its cache, raises
:class:`CompileRefused`), and the caller redoes the work in its own thread
(:func:`result`), where numba compiles it. Refused work must therefore be safe to redo:
pure, or writing only what the redo writes again. Once a kernel is compiled (or loaded)
in the process, later calls run on the thread as before: only a process's first use of
a specialisation loses the overlap.

The listener marks the event's data ``{"sktraceprop_refused": True}`` before it
raises, so that other listeners (a test counting compiles per thread) can tell a refused
compile, which never reached numba's compiler, from one that ran.
"""

import threading

_local = threading.local()
_register_lock = threading.Lock()
_registered = False


class CompileRefused(BaseException):  # noqa: N818 - not an error: a signal to redo
    """A numba compile asked for on a library thread, refused before numba's compiler
    ran (a ``BaseException``: no ``except Exception`` in the work may swallow it and
    carry on without the kernel)."""


def _listener():
    from numba.core import event

    class Refuse(event.Listener):
        def on_start(self, ev):
            if getattr(_local, "refuse", False):
                data = ev.data if isinstance(ev.data, dict) else {}
                data["sktraceprop_refused"] = True
                func = getattr(data.get("dispatcher"), "py_func", None)
                name = getattr(func, "__qualname__", "a kernel")
                raise CompileRefused(f"numba would compile {name} on a library thread")

        def on_end(self, ev):
            pass

    return event, Refuse()


def prepare():
    """Register the refusing listener with numba, once per process (a forked child
    keeps its parent's). Called in the caller's thread before it hands work to a
    thread (:func:`submit` does): it imports numba, which a thread must not (a program
    importing numba meanwhile could get a partially initialised module)."""
    global _registered
    if _registered:
        return
    with _register_lock:
        if not _registered:
            event, listener = _listener()
            event.register("numba:compile", listener)
            _registered = True


def attempt(fn, *args, **kwargs):
    """``(True, fn(*args, **kwargs))``, run on this (library) thread, or ``(False,
    None)`` where it asked numba to compile a kernel (refused: see the module). Submit
    this to a thread instead of ``fn`` (after :func:`prepare`), and take the result
    with :func:`result`."""
    prepare()  # done by the caller; here only should it have been forgotten
    _local.refuse = True
    try:
        return True, fn(*args, **kwargs)
    except CompileRefused:
        return False, None
    finally:
        _local.refuse = False


def result(outcome, fn, *args, **kwargs):
    """The value of an :func:`attempt` of ``fn(*args, **kwargs)`` (``outcome``), or, where
    it was refused a compile, ``fn(*args, **kwargs)`` run here, in the caller's thread
    (compiling there)."""
    done, value = outcome
    return value if done else fn(*args, **kwargs)


def submit(executor, fn, *args, **kwargs):
    """Submit ``fn(*args, **kwargs)`` to ``executor`` as an :func:`attempt`; returns a
    callable giving its value (:func:`result`: redone here where a compile was refused).
    Raises what ``executor.submit`` raises (``RuntimeError`` at shutdown)."""
    prepare()
    future = executor.submit(attempt, fn, *args, **kwargs)

    def value():
        return result(future.result(), fn, *args, **kwargs)

    return value
