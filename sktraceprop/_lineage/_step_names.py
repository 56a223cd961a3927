"""The names the step watch gives the steps of a traced pipeline, nested pipelines' too.

A pipeline among a traced pipeline's steps has its steps watched as steps, each named as
its parameter is (``outer__inner``), so a refusal names the inner step. The steps of the
pipeline that is the last step (and so on) keep their own names, as the runs' ops do.
"""

from sklearn.pipeline import Pipeline


def _walk(pipe, prefix, last_plain):
    """``(pipe, prefix)`` of ``pipe`` and of each pipeline among its steps, depth first,
    and ``(name, step, pipe, local name)`` of each step that is not a pipeline."""
    pipes, out, steps = [(pipe, prefix)], [], list(pipe.steps)
    for i, (local, step) in enumerate(steps):
        name = prefix + local
        if isinstance(step, Pipeline):
            last = last_plain and i == len(steps) - 1
            more_pipes, more = _walk(step, prefix if last else f"{name}__", last)
            pipes += more_pipes
            out += more
        else:
            out.append((name, step, pipe, local))
    return pipes, out


def named_steps(model):
    """``(name, step, pipeline holding it, its name there)`` of every step of ``model``,
    nested pipelines' steps in their place; a model that is not a pipeline is its one
    step, named as its run's op is (its class), held by none."""
    if not isinstance(model, Pipeline):
        return [(type(model).__name__.lower(), model, None, None)]
    return _walk(model, "", True)[1]


def pipelines(model):
    """``(pipe, prefix)`` of ``model`` (where a pipeline) and of each pipeline nested in
    it, ``prefix`` what the names of its steps begin with."""
    if not isinstance(model, Pipeline):
        return []
    return _walk(model, "", True)[0]
