"""Feature lineage as a dict (feature name -> input names), and the run's note for
feature names given to more than one model input."""

from ._target_name import TARGET


def by_feature(out_names, deps, inputs=()):
    """Feature lineage as a dict (feature name -> input names), and the names given to
    more than one output feature.

    A name given to several features (``PolynomialFeatures`` of inputs ``a``, ``b`` and
    ``"a b"`` outputs two ``"a b"``) maps to the inputs of all of them, a superset of
    each one's: a dict cannot tell them apart. Their inputs are listed in the order of
    ``inputs`` (the input names), :data:`TARGET` last.
    """
    rank = {name: k for k, name in enumerate(inputs)}
    lineage, count = {}, {}
    for name, dep in zip(out_names, deps):
        count[name] = count.get(name, 0) + 1
        if count[name] == 1:
            lineage[name] = dep
            continue
        both = {*lineage[name], *dep}
        columns = sorted(both - {TARGET}, key=lambda c: (rank.get(c, len(rank)), c))
        lineage[name] = [*columns, TARGET] if TARGET in both else columns
    return lineage, [name for name, n in count.items() if n > 1]


def duplicate_note(shared):
    """The run's note for feature names given to more than one model input."""
    listed = ", ".join(repr(n) for n in shared[:6]) + (
        f" and {len(shared) - 6} more" if len(shared) > 6 else ""
    )
    return (
        f"feature name(s) {listed} are each given to more than one model input: feature "
        "lineage lists under such a name the input columns of all the features of that "
        "name (a superset of each one's), and counts them as one feature; rename the "
        "input columns whose names the preprocessing's output names repeat"
    )
