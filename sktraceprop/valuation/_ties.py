"""What a valuer says when ties in distance decided values: they depend on row order.

KNN-Shapley ranks the neighbours of a validation row by distance, and two training rows
at equal distance by their index (the smaller first), as scikit-learn's neighbours
do. Where tied rows differ in what the utility counts (one carries the validation row's
label, the other not; two targets), that rule decides which of them takes the nearer
rank, and so their values: the same data in another row order (the sources
concatenated the other way round) gets other values, and other per-source sums. One-hot
or binned features tie often. The kernel flags each validation row where this happened
(``_kernels._tie_decides``); the valuer counts them and says so.

The utility that ``score`` reports depends on the rule too, but only where such a run
straddles the K-th rank: which of its rows are among the K nearest is then the rule's
choice. The same pass over each validation row flags both.
"""

__all__ = ["score_tie_warning", "tie_warning"]


def _message(n_tied, n_val, task, decided, counter):
    what = "targets" if task == "regression" else "labels (one matching, one not)"
    return (
        f"In {n_tied} of {n_val} validation rows, training rows at equal distance with "
        f"different {what} {decided}. {counter} counts these rows; features that tell "
        "the rows apart (a continuous column beside one-hot or binned ones) leave fewer "
        "ties."
    )


def tie_warning(n_tied, n_val, task):
    """The warning of a ``value`` call in which ties decided ``n_tied`` of the ``n_val``
    validation rows' values."""
    decided = (
        "were ranked by their position in the training data (ties go to the smaller "
        "index): their values, and the sums of by_source() and by_op(), depend on the "
        "order of the training rows (the sources concatenated in another order get "
        "other values)"
    )
    return _message(n_tied, n_val, task, decided, "n_ties_ranked_by_index_")


def score_tie_warning(n_tied, n_val, task):
    """The warning of a ``score`` call in which ties decided ``n_tied`` of the ``n_val``
    validation rows' utilities."""
    decided = (
        "straddle the K-th neighbour and were ranked by their position in the training "
        "data (ties go to the smaller index): which of them count among the K nearest, "
        "and so the score, depend on the order of the training rows"
    )
    return _message(n_tied, n_val, task, decided, "n_score_ties_ranked_by_index_")
