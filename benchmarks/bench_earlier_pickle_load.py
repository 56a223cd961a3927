"""Seconds to load a pickle of standalone sources from before state formats.

Each object of such a pickle that records no format is said once; at pickle protocols 0
and 1 (objects allocated by ``object.__new__``, which the library cannot see) each
searched the heap and the unpickler's memo for an object being loaded around it, a
search per object: quadratic (on main before this benchmark, protocol 0: 500 sources
8.6 s, 1,000 24 s, 2,000 60 s). Now each waits for the end of the load
(``sktraceprop/_state_format_load.py``). Measured here: ``pickle.loads`` of a list of
``--sizes`` sources pickled as before (their state without its record), at protocols 0
and 5, with every warning recorded; one run each.

Run: python benchmarks/bench_earlier_pickle_load.py --note ", loaded by other jobs"
"""

import argparse
import pickle
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table, write_results  # noqa: E402

from sktraceprop._lineage._source import Source  # noqa: E402
from sktraceprop._state_format import KEY, RecordedFormatMixin  # noqa: E402


def _earlier(objs, protocol):
    """``objs`` pickled as an sktraceprop from before pickles recorded formats did."""
    written = RecordedFormatMixin.__getstate__

    def getstate(self):
        state = written(self)
        del state[KEY]
        return state

    RecordedFormatMixin.__getstate__ = getstate
    try:
        return pickle.dumps(objs, protocol=protocol)
    finally:
        RecordedFormatMixin.__getstate__ = written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 5_000, 20_000])
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    rows, table = [], []
    for n in args.sizes:
        sources = [
            Source(
                source_id=f"s{i}", code=1_000 + i, uri=f"file:///s{i}", sha256="ab" * 32, n_rows=3
            )
            for i in range(n)
        ]
        for protocol in (0, 5):
            data = _earlier(sources, protocol)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = time.perf_counter()
                pickle.loads(data)
                seconds = time.perf_counter() - start
            rows.append(
                {"sources": n, "protocol": protocol, "s": seconds, "warnings": len(caught)}
            )
            table.append([f"{n:,}", protocol, f"{seconds:.2f}", f"{len(caught):,}"])
    text = markdown_table(["sources", "protocol", "load (s)", "warnings"], table)
    print(text)
    info = machine()
    write_results(
        "earlier_pickle_load",
        {"machine": info, "note": args.note, "rows": rows},
        "## Loading sources pickled before state formats (bench_earlier_pickle_load.py)\n\n"
        "pickle.loads of a list of standalone sources whose pickles record no state "
        f"format, one run each. Machine: {info['cpu']}, {info['cpu_count']} cores"
        f"{args.note}; numpy {info['numpy']}, pandas {info['pandas']}.\n\n" + text,
    )


if __name__ == "__main__":
    main()
