"""The lineage of a report as a layered graph: source files -> ops -> model.

Built from the report alone (its sources and the model's ops), so the HTML page, a
matplotlib figure and the JSON all show the same graph.
"""

from ._digest_schemes import INEXACT

#: Horizontal and vertical spacing of the layout, in layout units (SVG pixels).
COLUMN_WIDTH = 210
ROW_HEIGHT = 62
NODE_WIDTH = 178
NODE_HEIGHT = 44
MARGIN = 16


def _digest_name(source):
    """``sha256``, or the scheme of a digest that names some different data alike (a
    frame's of an earlier sktraceprop, ``frame-1``): never shown as a plain SHA-256."""
    scheme = source.get("digest_scheme")
    return scheme if scheme in INEXACT else "sha256"


def _top_level(name):
    return name.split("/", 1)[0]


def lineage_graph(report):
    """Nodes and edges of the lineage drawn in the report.

    Parameters
    ----------
    report : dict
        A compliance report.

    Returns
    -------
    graph : dict
        ``nodes``: list of dicts with ``id``, ``kind`` (``"source"``, ``"derived"``,
        ``"upstream op"``, ``"op"``, ``"model"``), ``label``, ``detail``, ``layer``,
        ``row``, ``x``, ``y`` (top-left corner); ``edges``: list of ``(from, to)`` ids;
        ``paths``: per edge, its ``from`` and ``to`` ids and end points ``x1``, ``y1``,
        ``x2``, ``y2``; ``width`` and ``height`` of the drawing.
    """
    sources = report["sources"]
    ops = report["model"]["ops"]
    final = ops[-1] if ops else None
    layers = []
    edges = []

    def layer(nodes):
        if any(n is not None for n in nodes):
            layers.append(nodes)

    leaves = [s for s in sources if s["kind"] not in ("merge", "aggregate")]
    derived = [s for s in sources if s["kind"] in ("merge", "aggregate")]
    # nodes by code; a source_id (what parents and ops name) may name several sources
    node_of = {}
    by_name = {}
    by_key = {}
    for s in sources:
        node_of[s["code"]] = {
            "id": f"source:{s['code']}",
            "kind": "derived" if s in derived else "source",
            "label": s.get("label", s["source_id"]),
            "detail": f"{s['kind']}, {s['n_rows']} rows, {_digest_name(s)} {s['sha256'][:10]}",
            "columns": {c["name"] for c in s["columns"]},
        }
        by_name.setdefault(s["source_id"], []).append(node_of[s["code"]])
        by_key.setdefault((s["source_id"], s["sha256"]), []).append(node_of[s["code"]])

    def parents_of(s):
        if "parent_codes" in s:
            return [node_of[c] for c in s["parent_codes"] if c in node_of]
        return [n for p in s["parents"] for n in by_name.get(p, ())]

    layer([node_of[s["code"]] for s in leaves])
    # a derived source one layer after the last of its parents (a merge with an aggregate)
    depth = {node_of[s["code"]]["id"]: 0 for s in leaves}
    pending = list(derived)
    while pending:
        ready = [s for s in pending if all(p["id"] in depth for p in parents_of(s))] or pending
        for s in ready:
            depth[node_of[s["code"]]["id"]] = 1 + max(
                (depth.get(p["id"], 0) for p in parents_of(s)), default=0
            )
        pending = [s for s in pending if s not in ready]
    for level in sorted({depth[node_of[s["code"]]["id"]] for s in derived}):
        layer([node_of[s["code"]] for s in derived if depth[node_of[s["code"]]["id"]] == level])
    for s in derived:
        for parent in parents_of(s):
            edges.append((parent["id"], node_of[s["code"]]["id"]))

    upstream = [op for op in ops[:-1] if op["sources"] is not None]
    pipeline = [op for op in ops[:-1] if op["sources"] is None]
    up_nodes = []
    for op in upstream:
        node = _op_node(op, "upstream op")
        up_nodes.append(node)
        # by SHA-256 where the op names it; else, for a shared source_id, an edge from
        # each source carrying it (the report's sources section says the op cannot tell)
        for source_node in _fed_by(op, by_name, by_key):
            edges.append((source_node["id"], node["id"]))
    layer(up_nodes)

    inputs = [node_of[s["code"]] for s in sources if s["training_rows"] > 0]
    # rows went through their upstream ops before the pipeline: start from those
    feeding = [n for op in upstream for n in _fed_by(op, by_name, by_key)]
    feeders = [(n, n["columns"]) for n in inputs if not any(n is m for m in feeding)]
    feeders += [(n, None) for n in up_nodes]
    steps = []
    for op in pipeline:
        top = _top_level(op["name"])
        if not steps or steps[-1][0] != top:
            steps.append((top, []))
        steps[-1][1].append(op)
    for _, group in steps:
        # a composite step (ColumnTransformer) lists its branches first, itself last; a
        # branch that is a pipeline lists its steps in order: one chain per branch
        branches = {}
        for op in group:
            if "/" in op["name"]:
                branches.setdefault(op["name"].split("/")[1], []).append(_op_node(op, "op"))
        parents = [_op_node(op, "op") for op in group if "/" not in op["name"]]
        chains = list(branches.values()) or [[p] for p in parents]
        for depth in range(max(len(c) for c in chains)):
            # one row per branch: a short branch leaves its row empty, so the edge from
            # its end to the composite step never runs behind another branch's node
            layer([c[depth] if depth < len(c) else None for c in chains])
        for chain in chains:
            wanted = set(chain[0]["features_in"])
            for feeder, columns in feeders:
                if not wanted or columns is None or wanted & columns:
                    edges.append((feeder["id"], chain[0]["id"]))
            edges += [(a["id"], b["id"]) for a, b in zip(chain, chain[1:])]
        ends = [c[-1] for c in chains]
        if branches and parents:
            layer(parents)
            edges += [(e["id"], p["id"]) for e in ends for p in parents]
            ends = parents
        feeders = [(e, None) for e in ends]
    m = report["model"]
    model = {
        "id": "model",
        "kind": "model",
        "label": (final["class"] if final else m["estimator"]).rsplit(".", 1)[-1],
        "detail": f"run {m['run_id'][:8]}, {m['n_training_rows']} rows",
    }
    layer([model])
    edges += [(feeder["id"], "model") for feeder, _ in feeders]

    nodes = []
    height = max(len(nodes_) for nodes_ in layers)
    for i, nodes_ in enumerate(layers):
        offset = (height - len(nodes_)) * ROW_HEIGHT / 2
        for j, node in enumerate(nodes_):
            if node is None:
                continue
            node.pop("columns", None)
            node.pop("features_in", None)
            node.update(
                layer=i,
                row=j,
                x=MARGIN + i * COLUMN_WIDTH,
                y=MARGIN + offset + j * ROW_HEIGHT,
            )
            nodes.append(node)
    edges = list(dict.fromkeys(edges))
    return {
        "nodes": nodes,
        "edges": edges,
        "paths": _paths(nodes, edges),
        "width": 2 * MARGIN + (len(layers) - 1) * COLUMN_WIDTH + NODE_WIDTH,
        "height": 2 * MARGIN + (height - 1) * ROW_HEIGHT + NODE_HEIGHT,
    }


def _paths(nodes, edges):
    """Start and end points of each edge, spread along the sides of the boxes.

    Several edges leaving (or entering) one box leave from (or end at) different heights
    of its side, in the order of the boxes at their other end, so that every arrow is
    seen on its own.
    """
    by_id = {n["id"]: n for n in nodes}

    def spread(node, others):
        order = sorted(others, key=lambda o: (by_id[o]["y"], by_id[o]["x"]))
        step = (NODE_HEIGHT - 16) / max(len(order) - 1, 1)
        start = node["y"] + (8 if len(order) > 1 else NODE_HEIGHT / 2)
        return {o: start + k * step for k, o in enumerate(order)}

    outgoing, incoming = {}, {}
    for a, b in edges:
        outgoing.setdefault(a, []).append(b)
        incoming.setdefault(b, []).append(a)
    starts = {a: spread(by_id[a], targets) for a, targets in outgoing.items()}
    ends = {b: spread(by_id[b], sources) for b, sources in incoming.items()}
    return [
        {
            "from": a,
            "to": b,
            "x1": by_id[a]["x"] + NODE_WIDTH,
            "y1": starts[a][b],
            "x2": by_id[b]["x"],
            "y2": ends[b][a],
        }
        for a, b in edges
    ]


def _op_node(op, kind):
    return {
        "id": f"op:{op['name']}",
        "kind": kind,
        "label": op["name"].rsplit("/", 1)[-1],
        "detail": op["class"].rsplit(".", 1)[-1],
        "features_in": op["features_in"],
    }


def _fed_by(op, by_name, by_key):
    """The source nodes an upstream op was fitted on: by ``source_keys`` where the op
    names them, else every source carrying one of its source ids."""
    if "source_keys" in op:
        keys = [(k["source_id"], k["sha256"]) for k in op["source_keys"]]
        return [n for key in keys for n in by_key.get(key, ())]
    return [n for sid in op["sources"] for n in by_name.get(sid, ())]
