"""Whether a skorch net trains on the plain cross-entropy the neural methods assume.

TRAK, the Gauss-Newton influence and the neural removal differentiate the mean
cross-entropy of softmax (or sigmoid) outputs, every row weighted alike. A skorch
criterion with class weights, ``pos_weight``, label smoothing, a summed reduction, an
``ignore_index`` that is a class, a criterion of another kind (``MSELoss`` of a
``NeuralNetRegressor``, a custom loss) or a net whose ``get_loss`` is overridden trains
on another objective: the scores or the correction would be those of a model the net is
not, so such a net is refused, naming what differs. So is a net whose training iterator
does not take every row alike: a ``sampler`` or ``batch_sampler`` (rows drawn more or
less often than others, or never) and ``drop_last=True`` without shuffling (the rows of
the last incomplete batch, the same in every epoch, are never trained on, yet would be
scored as training rows).
"""

__all__ = ["check_torch_objective"]


def _plain_criteria():
    import torch

    return (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss, torch.nn.BCEWithLogitsLoss)


def _differences(net, criterion):
    """What makes ``criterion`` of ``net`` differ from the plain mean cross-entropy."""
    import torch

    bases = [c for c in _plain_criteria() if isinstance(criterion, c)]
    name = type(criterion).__name__
    if not bases:
        return [
            f"its criterion is {name}, not CrossEntropyLoss, NLLLoss (on a softmax) or "
            "BCEWithLogitsLoss"
        ]
    found = []
    if type(criterion).forward is not bases[0].forward:
        found.append(f"its criterion {name} overrides the forward of {bases[0].__name__}")
    if getattr(criterion, "weight", None) is not None:
        found.append(f"{name} has per-class weights (weight=...)")
    if getattr(criterion, "pos_weight", None) is not None:
        found.append(f"{name} has pos_weight (per-class weights)")
    if float(getattr(criterion, "label_smoothing", 0.0) or 0.0) != 0.0:
        found.append(f"{name} has label_smoothing={criterion.label_smoothing}")
    if getattr(criterion, "reduction", "mean") != "mean":
        found.append(f"{name} has reduction={criterion.reduction!r} (the methods need 'mean')")
    ignore = getattr(criterion, "ignore_index", -100)
    if isinstance(criterion, torch.nn.CrossEntropyLoss | torch.nn.NLLLoss) and ignore >= 0:
        found.append(f"{name} has ignore_index={ignore}, a class whose rows it leaves out")
    get_loss = getattr(type(net), "get_loss", None)
    if get_loss is not None and not getattr(get_loss, "__module__", "").startswith("skorch"):
        found.append(f"{type(net).__name__} overrides get_loss")
    return found


def _iterator_differences(net):
    """What makes ``net``'s training iterator take some rows more, less or never."""
    get_params_for = getattr(net, "get_params_for", None)
    if get_params_for is None:
        return []
    params = get_params_for("iterator_train")
    found = [
        f"its training iterator draws rows by iterator_train__{key}="
        f"{type(params[key]).__name__} (rows drawn more or less often than others, or "
        "never)"
        for key in ("sampler", "batch_sampler")
        if params.get(key) is not None
    ]
    full_batch = params.get("batch_size", getattr(net, "batch_size", None)) == -1
    if params.get("drop_last") and not params.get("shuffle") and not full_batch:
        found.append(
            "iterator_train__drop_last=True without iterator_train__shuffle=True drops the "
            "same last rows in every epoch (those after the last full batch): they are never "
            "trained on"
        )
    return found


def _unfitted_criterion(net):
    """The criterion an unfitted skorch ``net`` will train with, built as skorch builds
    it (its ``criterion`` with the ``criterion__*`` parameters), so that a net trained
    on another objective is refused before it is fitted; None where it cannot be built
    here (the check then runs on the fitted net's ``criterion_``)."""
    spec = getattr(net, "criterion", None)
    if spec is None:
        return None
    if not isinstance(spec, type):
        return spec  # an instance: what the net will use
    try:
        return spec(**net.get_params_for("criterion"))
    except Exception:  # noqa: BLE001 - the fit reports a criterion it cannot build
        return None


def check_torch_objective(net, what="the influence scores"):
    """Raise ``ValueError`` unless the fitted skorch ``net`` trains on a plain cross-entropy.

    Parameters
    ----------
    net : skorch net
        Its ``criterion_`` is inspected, or for an unfitted net the criterion it will
        build (a module without a net is not checked: its loss is the caller's choice).
    what : str, default="the influence scores"
        What would be wrong, for the message.

    Raises
    ------
    ValueError
        If the criterion is not ``CrossEntropyLoss``, ``NLLLoss`` or
        ``BCEWithLogitsLoss`` with their defaults (no weights, no label smoothing,
        ``reduction='mean'``), the net overrides ``get_loss``, or its training
        iterator does not take every row alike (a ``sampler`` or ``batch_sampler``,
        ``drop_last=True`` without ``shuffle=True``).
    """
    criterion = getattr(net, "criterion_", None)
    if criterion is None:
        criterion = _unfitted_criterion(net)
    found = [] if criterion is None else _differences(net, criterion)
    found += _iterator_differences(net)
    if found:
        raise ValueError(
            f"{type(net).__name__} trains on another objective than the plain mean "
            f"cross-entropy assumed by {what}: {'; '.join(found)}. {what[0].upper()}"
            f"{what[1:]} would be computed for an objective the net did not train on. "
            "Train with "
            "CrossEntropyLoss (or NLLLoss on a softmax, or BCEWithLogitsLoss for a "
            "NeuralNetBinaryClassifier) with its defaults, every row taken alike (no "
            "sampler; drop_last only with shuffle); for class balance, resample the rows "
            "instead of weighting the loss."
        )
