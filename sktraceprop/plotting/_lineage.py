"""The lineage of a run as a graph: source files -> ops -> model."""

from collections import Counter

import numpy as np

from .._lineage._current import check_unchanged
from .._lineage._ids import codes_of
from .._lineage._labels import content_key, row_groups, source_order
from .._lineage._uri_path import same_file_uri
from .._state_format import RecordedFormatMixin
from ..utils._prefit import unfrozen
from ._base import axes, count_of_rows, shortened, source_names

_COLORS = {"source": "#dbe9f6", "derived": "#dbe9f6", "op": "#fdebd0", "model": "#d5f5e3"}


def _short(cls_path):
    return cls_path.rsplit(".", 1)[-1]


class LineageDisplay(RecordedFormatMixin):
    """The graph of one run: source files, the ops their rows went through, the model.

    Columns from left to right: the source files (with the number of training rows
    each contributed; "given to fit" where a sampler without ``sample_indices_``, such
    as SMOTE, made the training rows, which the run does not record), sources derived
    from them (a :func:`~sktraceprop.merge`, an :func:`~sktraceprop.aggregate`), ops
    fitted on a single source outside the pipeline (such as a scaler per hospital,
    :class:`~sktraceprop.TracedEstimator`), then the pipeline's steps in order (the
    branches of a column transformer side by side, each fed by the sources that hold its
    input columns), and the final model. A name longer than 32
    characters is shortened in the middle in its box (``…``); ``nodes`` keeps it whole.
    Build it with :meth:`from_estimator` or :meth:`from_lineage`.

    Parameters
    ----------
    nodes : list of dict
        One per node: ``id``, ``label``, ``kind`` (``"source"``, ``"derived"``,
        ``"op"`` or ``"model"``) and ``column`` (its position from the left).
    edges : list of tuple of str
        ``(from_id, to_id)`` pairs.
    title : str, default=None
        Title of the axes.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the graph.
    figure_ : matplotlib Figure
        Figure holding the axes.
    texts_ : dict of str to matplotlib Text
        The box of each node, by node id.
    arrows_ : list of matplotlib FancyArrowPatch
        One per edge, in the order of ``edges``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> import sktraceprop as stp
    >>> from sktraceprop.plotting import LineageDisplay
    >>> X = stp.from_numpy(np.random.RandomState(0).randn(30, 2), "lineage_rows")
    >>> pipe = stp.make_traced_pipeline(StandardScaler(), LogisticRegression())
    >>> pipe = pipe.fit(X, (X["x0"] > 0).astype(int))
    >>> LineageDisplay.from_estimator(pipe).edges[0]
    ('source:lineage_rows', 'op:standardscaler')
    """

    _state_format = 1  # (its pickle records it: see _state_format)

    def __init__(self, *, nodes, edges, title=None):
        self.nodes = nodes
        self.edges = edges
        self.title = title

    def plot(self, ax=None, **kwargs):
        """Draw the graph.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.text` for every node's box
            (``fontsize``, ``color``, ``alpha``, ...), over the display's own; a
            ``bbox`` given here replaces the boxes coloured by kind.

        Returns
        -------
        display : LineageDisplay
        """
        n_columns = max(node["column"] for node in self.nodes) + 1
        per_column = np.bincount([node["column"] for node in self.nodes])
        ax = axes(
            ax, "LineageDisplay.plot", figsize=(2.4 * n_columns, 0.9 * per_column.max() + 1.2)
        )
        from matplotlib.patches import FancyArrowPatch

        position = _layout(self.nodes, self.edges)
        # a long file name is shortened in its box (kept whole in nodes): a box wider
        # than its column ran over its neighbours and out of the figure
        lines = [node["label"].split("\n") for node in self.nodes]
        heads = shortened([first for first, *_ in lines], width=32)
        drawn = ["\n".join([head, *rest]) for head, (_, *rest) in zip(heads, lines)]
        self.texts_ = {
            node["id"]: ax.text(
                *position[node["id"]],
                text,
                **{
                    "ha": "center",
                    "va": "center",
                    "fontsize": 8,
                    "zorder": 3,
                    "bbox": {"boxstyle": "round", "facecolor": _COLORS[node["kind"]]},
                    **kwargs,
                },
            )
            for node, text in zip(self.nodes, drawn)
        }
        self.arrows_ = []
        for src, dst in self.edges:
            # clipped at the two boxes (drawn after them, when their size is known)
            arrow = FancyArrowPatch(
                position[src],
                position[dst],
                patchA=self.texts_[src].get_bbox_patch(),
                patchB=self.texts_[dst].get_bbox_patch(),
                arrowstyle="-|>",
                connectionstyle=f"arc3,rad={_bend(position, src, dst)}",
                mutation_scale=12,
                color="grey",
                zorder=4,
            )
            ax.add_patch(arrow)
            self.arrows_.append(arrow)
        half = max(abs(y) for _, y in position.values()) + 0.6
        ax.set_xlim(-0.6, n_columns - 0.4)
        ax.set_ylim(-half, half)
        ax.set_axis_off()
        if self.title:
            ax.set_title(self.title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **kwargs):
        """The graph of the run recorded by a fitted traced estimator.

        Parameters
        ----------
        estimator : fitted TracedPipeline, TracedEstimator or TracedColumnTransformer
            Anything with a ``lineage_`` (also inside a ``FrozenEstimator``).
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.text` for every node (see :meth:`plot`).

        Returns
        -------
        display : LineageDisplay
        """
        lineage = getattr(unfrozen(estimator), "lineage_", None)
        if lineage is None:
            raise ValueError(
                f"{type(estimator).__name__} has no lineage_: fit it as a traced estimator "
                "(make_traced_pipeline, TracedEstimator) to record one"
            )
        check_unchanged(unfrozen(estimator), "drawing its run as this model's lineage")
        return cls.from_lineage(lineage, ax=ax, **kwargs)

    @classmethod
    def from_lineage(cls, lineage, *, ax=None, **kwargs):
        """The graph of a run (:class:`~sktraceprop.Lineage`), e.g. loaded from a store.

        Parameters
        ----------
        lineage : Lineage
            The run.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure if None.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.text` for every node (see :meth:`plot`).

        Returns
        -------
        display : LineageDisplay
        """
        nodes, edges = _graph(lineage)
        title = f"Run {lineage.run_id[:8]}: {_short(lineage.estimator)}"
        return cls(nodes=nodes, edges=edges, title=title).plot(ax=ax, **kwargs)


def _graph(lineage):
    """Nodes and edges of a run; see :class:`LineageDisplay` for the layout."""
    counts = _source_counts(lineage)
    untraced = lineage._untraced_sampler() is not None
    nodes, edges, siblings = [], [], {}

    def add(node_id, label, kind):
        nodes.append({"id": node_id, "label": label, "kind": kind})

    # one node per content (content_key): a source read under two codes (an alias
    # adopted from another process, one share spelled in two cases) is one source
    contents = {}
    for source in sorted(lineage.sources.values(), key=source_order):
        contents.setdefault(content_key(source), source)
    sources = list(contents.values())
    # several sources of one source_id (two folders' data.csv, two versions of a file):
    # a node each, told apart by the SHA-256, then by the file
    versions = Counter(source.source_id for source in sources)
    copies = Counter(source.key for source in sources)

    def node_of(source):
        if versions[source.source_id] == 1:
            return f"source:{source.source_id}"
        node = f"source:{source.source_id}@{source.sha256[:12]}"
        return f"{node}@{same_file_uri(source.uri)}" if copies[source.key] > 1 else node

    leaves = [source for source in sources if source.parents is None]
    names = dict(zip([source.code for source in leaves], source_names(leaves)))
    # Where each source's rows enter the next step, with the columns that flow there:
    # the source itself, the merge that combined it, or the ops fitted on it outside
    # the pipeline (for the columns they were fitted on).
    entries = {}
    for source in leaves:
        node = node_of(source)
        rows = count_of_rows(int(counts.get(content_key(source), 0)))
        if untraced:  # the rows given to fit: the model's own were made by the sampler
            rows += " given to fit"
        add(node, f"{names[source.code]}\n{rows}", "source")
        entries.setdefault(source.source_id, []).append(
            (node, set(source.columns_read()), {source.sha256})
        )
    for source in sources:
        if source.parents is None:
            continue
        node = node_of(source)
        # a derived source (a merge, an aggregate) is fed by the sources of its parents
        add(node, f"{source.kind}\n{source.source_id}", "derived")
        codes = np.unique(codes_of(source.parents.ids))
        parents = [lineage.sources[int(code)] for code in codes]
        parents = sorted({node_of(p): p for p in parents}.values(), key=node_of)
        for parent in parents:
            parent_node = node_of(parent)
            edges.append((parent_node, node))
            left = [e for e in entries.get(parent.source_id, []) if e[0] != parent_node]
            entries[parent.source_id] = left
        entries.setdefault(source.source_id, []).append(
            (node, set(source.columns_read()), {source.sha256})
        )

    for op in lineage.ops:
        if op.sources is None:
            continue
        node = f"op:{op.name}"
        # an op records the contents it was fitted on (source_keys: source id and
        # SHA-256); one recorded before that names source ids only, and one that several
        # sources carry does not say which of them
        contents = None
        if op.source_keys is not None:
            contents = {}
            for source_id, sha in op.source_keys:
                contents.setdefault(source_id, set()).add(sha)
        unsure = sorted(i for i in op.sources if versions[i] > 1) if contents is None else []
        unsure = f"\nfitted on {', '.join(unsure)}: which source not recorded" if unsure else ""
        add(node, _op_label(op) + unsure, "op")
        wanted = set(op.features_in)
        for source_id in op.sources:
            shas = None if contents is None else contents.get(source_id, set())
            kept, out, fed = [], set(op.features_out) or set(wanted), set()
            for src, columns, of in entries.get(source_id, []):
                if (shas is None or of & shas) and (not wanted or wanted & columns):
                    edges.append((src, node))
                    fed |= of
                    out |= columns if not wanted else set()
                    columns = columns - wanted if wanted else set()
                if columns:
                    kept.append((src, columns, of))
            if source_id in entries:
                entries[source_id] = [*kept, (node, out, fed or set(shas or ()))]
    inputs = [entry[:2] for ids in entries.values() for entry in ids]

    steps = [op for op in lineage.ops if op.sources is None]
    top = [op for op in steps if "/" not in op.name]
    for i, op in enumerate(top):
        node = f"op:{op.name}"
        children = [c for c in steps if c.name.startswith(op.name + "/")]
        for child in children:
            child_node = f"op:{child.name}"
            add(child_node, _op_label(child), "op")
            siblings.setdefault(node, []).append(child_node)
            wanted = set(child.features_in)
            # a branch of a column transformer reads the inputs holding its columns
            edges.extend(
                (src, child_node)
                for src, columns in inputs
                if columns is None or not wanted or wanted & columns
            )
            edges.append((child_node, node))
        if not children:
            edges.extend((src, node) for src, _ in inputs)
        add(node, _op_label(op), "model" if i == len(top) - 1 else "op")
        inputs = [(node, None)]

    edges = list(dict.fromkeys(edges))  # an op fitted on several sources: one edge each
    # layers: a node sits one column right of its farthest predecessor
    column = {node["id"]: 0 for node in nodes}
    for _ in range(2):
        for _ in nodes:
            for src, dst in edges:
                column[dst] = max(column[dst], column[src] + 1)
        # the branches of one column transformer side by side, in one column
        for members in siblings.values():
            last = max(column[m] for m in members)
            column.update(dict.fromkeys(members, last))
    for node in nodes:
        node["column"] = column[node["id"]]
    return nodes, edges


def _layout(nodes, edges):
    """``{node id: (column, height)}``: sources spread evenly from the top, every other
    node at the mean height of its predecessors (fewer crossings), kept one apart."""
    preds = {}
    for src, dst in edges:
        preds.setdefault(dst, []).append(src)
    position = {}
    for column in range(max(node["column"] for node in nodes) + 1):
        ids = [node["id"] for node in nodes if node["column"] == column]
        if column == 0:
            wanted = [(len(ids) - 1) / 2 - i for i in range(len(ids))]
        else:
            wanted = [np.mean([position[p][1] for p in preds.get(i, [])] or [0.0]) for i in ids]
        order = sorted(range(len(ids)), key=lambda i: -wanted[i])  # stable: ties keep order
        heights = [wanted[i] for i in order]
        for j in range(1, len(heights)):
            heights[j] = min(heights[j], heights[j - 1] - 1.0)
        shift = (np.mean([wanted[i] for i in order]) - np.mean(heights)) if heights else 0.0
        for j, i in enumerate(order):
            position[ids[i]] = (column, heights[j] + shift)
    return position


def _bend(position, src, dst):
    """Curvature of an edge: one that would cross a box in a column it skips bends
    away from it (positive bends a rightward edge down)."""
    (x0, y0), (x1, y1) = position[src], position[dst]
    nearest = None
    for x, y in position.values():
        if x0 < x < x1:
            offset = y - (y0 + (y1 - y0) * (x - x0) / (x1 - x0))
            if abs(offset) < 0.6 and (nearest is None or abs(offset) < abs(nearest)):
                nearest = offset
    if nearest is None:
        return 0.0
    return 0.3 if nearest >= 0 else -0.3


def _op_label(op):
    name = op.name.rsplit("/", 1)[-1]
    cls = _short(op.cls)
    return cls if name == cls.lower() else f"{cls}\n{name}"


def _source_counts(lineage):
    """Training rows per source, by :func:`content_key` (a merged row counts for each
    parent, once; a source's rows under two codes count together)."""
    if any(source.derived for source in lineage.sources.values()):
        frame = lineage._rows_frame()
        group, contents = row_groups(frame["row_id"].to_numpy(), lineage.sources.__getitem__)
        counts = frame[lineage._position_name].groupby(group).nunique().to_dict()
    else:
        group, contents = row_groups(lineage.row_ids, lineage.sources.__getitem__)
        counts = dict(zip(*(a.tolist() for a in np.unique(group, return_counts=True))))
    return {content_key(contents[g]): n for g, n in counts.items()}
