"""Assemble benchmarks/README.md from the results/*.md files the benchmark scripts write.

Run: python benchmarks/make_readme.py
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = [
    "lineage",
    "hash_overlap",
    "merge_overhead",
    "first_read_csv",
    "csv_get_chunk",
    "upstream_steps",
    "stores",
    "store_appends",
    "wal_folds",
    "events_mark",
    "array_lineage",
    "source_stats",
    "attached_columns",
    "untraced_fit",
    "frame_digest",
    "explanation_digests",
    "row_lineage_digests",
    "file_digests_memory",
    "prediction_log",
    "study_prediction_record",
    "influence",
    "woodbury",
    "influence_matrix_free",
    "neural",
    "projection",
    "study_projection_floor",
    "valuation",
    "unlearning",
    "unlearn_woodbury",
    "removed_rows",
    "erasure_check",
    "step_watch",
    "unlearning_neural",
    "study_decoupled_decay",
    "study_neural_finetune_lr",
    "study_neural_finetune_lr_cost",
    "user_scale",
    "report_memory",
    "report_memory_50k",
    "examples",
    "make_test",
]

HEADER = """# Benchmarks

Each `bench_*.py` script measures one part of sktraceprop, prints a table, and writes
`results/<name>.json` (every figure, the machine, library versions, the command) and
`results/<name>.md` (the table below). This page is assembled from those files by
`python benchmarks/make_readme.py`; nothing here is typed by hand. Data sets are vendored
under `data/` (see `data/README.md` for origin and licence). Competitor libraries (pyDVL,
dattri, traker) run from separate virtual environments under `benchmarks/.venv-*`; the
set-up commands are at the top of each script, and a script prints a note and skips a
competitor whose environment is missing.

Speed and memory targets are measured here, never asserted in timed tests. Timings were
taken on a shared 2-core machine; each table says how it was repeated.

Run everything: `make bench` (or one script: `python benchmarks/bench_<name>.py`).
"""


def sections():
    """The results files the page is assembled from, in order."""
    names = [n for n in ORDER if (HERE / "results" / f"{n}.md").exists()]
    names += sorted(p.stem for p in (HERE / "results").glob("*.md") if p.stem not in ORDER)
    return names


def render():
    """The text of ``benchmarks/README.md``, from the results files as they are now."""
    parts = [HEADER]
    for name in sections():
        text = (HERE / "results" / f"{name}.md").read_text().strip()
        if not text.startswith("#"):
            text = f"## {name}\n\n{text}"
        # Results files use "#" or "##" for their title; nest them under this page.
        lines = text.split("\n")
        if lines[0].startswith("# "):
            lines[0] = "#" + lines[0]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def main():
    names = sections()
    (HERE / "README.md").write_text(render())
    print(f"wrote {HERE / 'README.md'} from {len(names)} results files: {', '.join(names)}")


if __name__ == "__main__":
    main()
