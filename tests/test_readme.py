"""The README's code runs as written, on copies of the bundled demo files."""

import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    from sktraceprop.datasets import demo_paths

    for sid, path in demo_paths().items():
        shutil.copy(path, tmp_path / f"{sid}.csv")
    monkeypatch.chdir(tmp_path)
    blocks = _blocks()
    assert len(blocks) >= 2
    namespace = {}
    top = None
    for code in blocks:
        exec(compile(code, str(README), "exec"), namespace)
        if top is None and "exp" in namespace and "unl" not in namespace:
            top = namespace["exp"].top(5)  # (before the removal, which drops its fit)
    pipe, explainer, unl = namespace["pipe"], namespace["explainer"], namespace["unl"]
    assert pipe.trace([0, 5])["source_id"].isin(["hospital_a", "hospital_b"]).all()
    assert top is not None and top["line"].min() >= 2 and explainer.score is not None
    assert [e["method"] for e in unl.unlearning_log_][:1] == ["newton"]
    # the removal reached the explainer fitted on the removed rows, as the README says
    assert unl.unlearning_log_[0]["dropped_elsewhere"].get("InfluenceExplainer")
    with pytest.raises(ValueError, match="Fit it again"):
        namespace["exp"].top(5)
    assert (tmp_path / "lineage.db").exists()


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    """The README's quick start: one command that runs the demo, one that runs the
    tests, each a Makefile target; .ci/run runs that same test command."""
    root = README.parent
    quick = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", quick, flags=re.S)
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (root / "Makefile").read_text()
    assert re.search(r"^demo:.*\n\t\$\(BIN\)/sktraceprop demo ", makefile, flags=re.M)
    assert re.search(r"^test: ", makefile, flags=re.M)
    ci = [line.strip() for line in (root / ".ci" / "run").read_text().splitlines()]
    assert "make test || status=$?" in ci


if __name__ == "__main__":
    pytest.main([__file__])
