"""Row values or influence grouped by source file, with their spread."""

import math
import warnings

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._erasures_unreachable import said_once
from .._lineage import row_lineage
from .._lineage._ids import codes_of
from .._lineage._labels import content_key, source_order
from .._lineage._source import REGISTRY
from .._lineage._uri_path import same_file_uri
from .._state_format import RecordedFormatMixin
from ..exceptions import ErasedRowsHeldWarning
from ..utils._stack import user_stacklevel
from ..valuation._erased import erased_valued, said_by_call
from ._base import axes, count_of_rows, shortened, source_names


class BySourceDisplay(RecordedFormatMixin):
    """Distribution per source file of the rows' values or influence.

    One box per source (quartiles, whiskers at 1.5 IQR, outliers as points) with its
    mean marked, so that a source's total is read together with how its rows spread:
    a source whose mean is low because of a few very harmful rows looks different from
    one whose rows are all slightly harmful. Tick labels longer than 40 characters are
    shortened in the middle (``…``); the keys of ``values`` keep them whole. Build it
    with :meth:`from_estimator` (KNN-Shapley values) or :meth:`from_explanation`
    (influence).

    Parameters
    ----------
    values : dict of str to ndarray
        The numbers of each source's rows, by source label, in drawing order.
    xlabel : str
        What the numbers are.
    title : str, default=None
        Title of the axes.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the boxes.
    figure_ : matplotlib Figure
        Figure holding the axes.
    boxes_ : dict
        What :meth:`matplotlib.axes.Axes.boxplot` returned.
    means_ : ndarray of shape (n_sources,)
        Mean of each source's rows, in the order of ``values``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import sktraceprop as stp
    >>> from sktraceprop.plotting import BySourceDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = pd.concat([stp.from_numpy(rng.randn(20, 2), s) for s in ("shop_a", "shop_b")])
    >>> y = (X["x0"] > 0).astype(int)
    >>> valuer = stp.KNNShapleyValuer(n_neighbors=3).fit(X, y)
    >>> display = BySourceDisplay.from_estimator(valuer, X, y)
    >>> list(display.values)
    ['shop_a (20 rows)', 'shop_b (20 rows)']
    """

    _state_format = 1  # (its pickle records it: see _state_format)

    def __init__(self, *, values, xlabel, title=None):
        self.values = values
        self.xlabel = xlabel
        self.title = title

    def plot(self, ax=None, **kwargs):
        """Draw one box per source.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.boxplot` (``widths``,
            ``patch_artist``, ``boxprops``, ``showfliers``, ...). ``positions``,
            ``orientation`` and ``vert`` are refused: the boxes would no longer sit
            beside their source's label.

        Returns
        -------
        display : BySourceDisplay
        """
        if not self.values:
            raise ValueError("BySourceDisplay has no sources to draw: values is empty")
        placing = sorted({"positions", "orientation", "vert"} & set(kwargs))
        if placing:
            raise TypeError(
                f"BySourceDisplay.plot places the boxes itself, one beside each source's "
                f"label: {', '.join(placing)} cannot be passed to boxplot"
            )
        ax = axes(ax, "BySourceDisplay.plot", figsize=(6, 0.6 * len(self.values) + 1.4))
        labels = list(self.values)
        data = [np.asarray(self.values[label], dtype=np.float64) for label in labels]
        missing = [
            f"{label}: {np.isnan(d).sum()} of {d.size}"
            for label, d in zip(labels, data)
            if np.isnan(d).any()
        ]
        if missing:
            # matplotlib draws no box and no mean for such a source, and says nothing
            raise ValueError(
                f"values hold NaN ({'; '.join(missing)}): no box or mean of them can be "
                "drawn; drop or fill them first"
            )
        positions = np.arange(len(data))[::-1] + 1
        self.boxes_ = ax.boxplot(data, positions=positions, orientation="horizontal", **kwargs)
        # correctly rounded, as the valuer's by_source() sums and means
        self.means_ = np.array([math.fsum(d) / d.size if d.size else np.nan for d in data])
        ax.scatter(self.means_, positions, marker="D", color="tab:red", zorder=3, label="mean")
        ax.set_yticks(positions, shortened(labels))
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(self.xlabel)
        ax.legend(loc="best")
        if self.title:
            ax.set_title(self.title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, valuer, X=None, y=None, *, ax=None, **kwargs):
        """KNN-Shapley values of the training rows, per source file.

        Parameters
        ----------
        valuer : KNNShapleyValuer
            A fitted valuer.
        X, y : array-like, default=None
            Validation data: values are computed with ``valuer.value(X, y)``. If None,
            the values of the valuer's last :meth:`~sktraceprop.KNNShapleyValuer.value`
            call are drawn.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.boxplot` (see :meth:`plot`).

        Returns
        -------
        display : BySourceDisplay

        Warns
        -----
        ErasedRowsHeldWarning
            Where training rows drawn were erased at request (an erasure request made
            in this process, or one the store of its traced ``transformer`` records,
            named them: the valuer was fitted on them since, or pickled before): the
            boxes hold their values.
        """
        # (its transformer's store unreadable: said once; sklearn's check_is_fitted reads
        # values_ for the plot, which says what it holds below)
        with said_once(), said_by_call():
            if X is not None:
                with warnings.catch_warnings():
                    # (said below, of the plot)
                    warnings.simplefilter("ignore", ErasedRowsHeldWarning)
                    values = valuer.value(X, y)
            else:
                check_is_fitted(valuer, "values_", msg="No values_ yet: pass X and y to value.")
                values = valuer.values_
            with warnings.catch_warnings():
                # (its words are of a frame of file lines shown: said below of the plot)
                warnings.simplefilter("ignore", ErasedRowsHeldWarning)
                lines = row_lineage(np.asarray(valuer.row_ids_))
            # the requests made here and those its transformer's store records
            hit, named = erased_valued(valuer)
        positions = lines["row"].to_numpy()
        _warn_erased_drawn(
            "BySourceDisplay.from_estimator",
            positions,
            np.zeros(positions.size, bool) if hit is None else hit[positions],
            named,
            "KNN-Shapley values",
        )
        groups = {
            label: np.asarray(values)[rows]
            for label, rows, _ in _groups(lines, valuer._sources.__getitem__)
        }
        display = cls(
            values=groups,
            xlabel="KNN-Shapley value of a training row",
            title="Data value by source",
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_explanation(cls, explanation, *, over="train_rows", ax=None, **kwargs):
        """Influence per source file.

        Parameters
        ----------
        explanation : Explanation
            Returned by :meth:`sktraceprop.InfluenceExplainer.explain`.
        over : {"train_rows", "test_rows"}, default="train_rows"
            ``"train_rows"``: one number per training row, its influence averaged over
            the explained test rows (needs the score matrix: ``keep_scores=True``).
            ``"test_rows"``: one number per explained test row, the summed influence
            of the source's rows on it.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.boxplot` (see :meth:`plot`).

        Returns
        -------
        display : BySourceDisplay

        Raises
        ------
        ValueError
            Where a removal or erasure dropped the fit that scored the explanation, as
            :meth:`~sktraceprop.influence.Explanation.top` does.

        Warns
        -----
        ErasedRowsHeldWarning
            Where training rows drawn were erased at request (the explained model's
            store records it, or it was made in this process): the boxes hold their
            influence.
        """
        refuse = getattr(explanation._explainer, "refuse_if_forgotten", None)
        if refuse is not None:  # (a removal dropped the fit that scored it: as top())
            refuse()
        _warn_erased_explained(explanation)
        if over == "train_rows":
            # (read as held: refused and erased rows said above)
            if explanation._scores is None:
                raise ValueError(
                    "over='train_rows' needs every score: explain with keep_scores=True, "
                    "or use over='test_rows'"
                )
            per_row = explanation._scores.mean(axis=0)
            groups = {
                label: per_row[rows]
                for label, rows, _ in _groups(explanation._train_rows, REGISTRY.by_code)
            }
            xlabel = "mean influence of a training row on the test margins"
        elif over == "test_rows":
            found = _groups(explanation._train_rows, REGISTRY.by_code)
            # source_scores has a column per source (one content), named in by_source()
            table = explanation._by_source()  # (erased rows said once, above)
            keys = zip(table["source_id"], map(same_file_uri, table["uri"]), table["sha256"])
            column = dict(zip(keys, table["label"]))
            groups = {
                label: explanation._source_scores[column[_content(source)]].to_numpy()
                for label, rows, source in found
            }
            xlabel = "summed influence of the source on a test margin"
        else:
            raise ValueError(f"over must be 'train_rows' or 'test_rows', got {over!r}")
        display = cls(values=groups, xlabel=xlabel, title="Influence by source")
        return display.plot(ax=ax, **kwargs)


def _warn_erased_explained(explanation):
    """:func:`_warn_erased_drawn` of the training rows of ``explanation`` that an erasure
    request recorded in its model's store, or made in this process, named."""
    train_index = np.unique(explanation._train_rows["train_index"].to_numpy())
    hit, seqs, _, _ = explanation._explainer._erased_marks(train_index)
    if hit is None:
        return
    named = [f"store.erasure event seq {s}" if not isinstance(s, str) else s for s in seqs]
    _warn_erased_drawn(
        "BySourceDisplay.from_explanation", train_index, hit, named, "influence scores"
    )


def _warn_erased_drawn(what, positions, erased, named, drawn):
    """Warn where the training rows at ``positions`` drawn include rows ``erased`` (a
    boolean per position) at the request of ``named`` (their words): the plot holds
    their ``drawn`` (numbers computed from their data), not their files and lines."""
    rows = np.unique(np.asarray(positions)[np.asarray(erased, dtype=bool)])
    if not rows.size:
        return
    warnings.warn(
        f"{what}: {rows.size} of the {np.unique(positions).size} training row(s) drawn "
        f"are, or were built from, rows erased at request ({'; '.join(map(str, named))}): "
        f"the boxes and means hold their {drawn}, computed from their data. Refit on the "
        "rows kept (the erasure could not reach this object), or discard it.",
        ErasedRowsHeldWarning,
        stacklevel=user_stacklevel(),
    )


def _groups(lines, sources):
    """``(label, training positions, Source)`` per source (one content), sorted by source
    id, URI and load time, from lines such as :func:`sktraceprop.row_lineage`'s
    (``train_index`` or ``row``, ``row_id``): a merged row counts for each source of its
    parents, once. ``sources`` maps a code to its :class:`Source`. Labels are
    ``"file (n rows)"``, widened until two sources never share one."""
    position = "train_index" if "train_index" in lines else "row"
    codes = codes_of(lines["row_id"].to_numpy())
    # one content is one source, whatever its code (an alias from another process)
    unique = np.unique(codes)
    found_at, group = {}, []
    for code in unique:
        source = sources(int(code))
        group.append(found_at.setdefault(_content(source), (len(found_at), source))[0])
    of_row = np.asarray(group)[np.searchsorted(unique, codes)]
    pairs = pd.DataFrame({"row": lines[position].to_numpy(), "group": of_row}).drop_duplicates()
    first = {g: source for g, source in found_at.values()}
    found = [(first[g], part["row"].to_numpy()) for g, part in pairs.groupby("group", sort=False)]
    found.sort(key=lambda f: source_order(f[0]))
    names = source_names([source for source, _ in found])
    return [
        (f"{name} ({count_of_rows(rows.size)})", rows, source)
        for name, (source, rows) in zip(names, found)
    ]


def _content(source):
    # (content_key: an older record's file:///c:/ and a new one's file:///C:/ are one)
    return content_key(source)
