"""Memory the process's kept file digests hold after many distinct files, bounded or not.

``PROCESS_DIGESTS`` (``sktraceprop/_lineage/_file_digests.py``) keeps each file's SHA-256
with its status so ``row_lineage``, ``trace`` and explanations hash a file once while it
is unchanged. It kept one entry per path for the process's life; now the ``MAX_KEPT``
paths used last. Measured here: the bytes ``tracemalloc`` counts as held after
``--paths`` distinct ``file://`` URIs (40 characters) were looked up and kept, each
made as ``file_state`` makes it (a URI and a hex digest that only the store keeps), by a
``FileDigests`` with the default bound and by one with no bound (the code before kept
one entry per path too, as a tuple of the status and the hex digest: more bytes
an entry than the packed one measured here). One run each.

Run: python benchmarks/bench_file_digests_memory.py --note ", loaded by other jobs"
"""

import argparse
import hashlib
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402

from sktraceprop._lineage import _file_digests  # noqa: E402
from sktraceprop._lineage._file_digests import MAX_KEPT, FileDigests  # noqa: E402


def _held(digests, fh, n_paths):
    """Bytes held after ``n_paths`` distinct paths were kept, and the seconds taken."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        for k in range(n_paths):
            uri = f"file:///data/project/raw/part-{k:06d}.csv"
            _, status = digests.kept(uri, fh)
            digests.keep(uri, fh, status, hashlib.sha256(uri.encode()).hexdigest())
        seconds = time.perf_counter() - start
        return tracemalloc.get_traced_memory()[0] - base, seconds
    finally:
        tracemalloc.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    # (every file counts as settled: the status is kept as it is for a file left alone)
    _file_digests.SETTLED_NS = -(10**15)
    variants = {
        f"bounded ({MAX_KEPT:,} paths, now)": FileDigests(),
        "unbounded (one entry per path, as before)": FileDigests(
            max_kept=10**12, max_path_chars=10**15
        ),
    }
    rows, table = [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.csv"
        path.write_text("a\n1\n")
        with open(path, "rb") as fh:
            for variant, digests in variants.items():
                held, seconds = _held(digests, fh, args.paths)
                rows.append(
                    {"variant": variant, "entries": len(digests), "bytes": held, "s": seconds}
                )
                table.append([variant, f"{len(digests):,}", f"{held / 1e6:.1f}"])
                digests.clear()
    text = markdown_table(["FileDigests", "entries kept", "held (MB)"], table)
    print(text)
    info = machine()
    write_results(
        "file_digests_memory",
        {
            "machine": info,
            "note": args.note,
            "paths": args.paths,
            "rows": rows,
        },
        "## Kept file digests' memory (bench_file_digests_memory.py)\n\n"
        f"{args.paths:,} distinct file URIs of 40 characters looked up and kept by a "
        "FileDigests (the process's store of file digests), bytes held by tracemalloc's "
        f"count; one run each. Machine: {info['cpu']}, {info['cpu_count']} cores"
        f"{args.note}; numpy {info['numpy']}, pandas {info['pandas']}.\n\n" + text,
    )


if __name__ == "__main__":
    main()
