"""``sktraceprop ... | head``: standard output's reader going away first is not an
error of the command (no message, exit status 141 as for a command ended by SIGPIPE),
and what the command writes to files is written. Run as a real process whose pipe is
closed before it prints."""

import json
import os
import subprocess
import sys

import pytest

from sktraceprop.cli import EXIT_OUTPUT_CLOSED

REPORT = [
    "--system-name", "S", "--system-version", "1", "--deployer", "D",
    "--category", "creditworthiness", "--purpose", "P", "--oversight", "O",
]  # fmt: skip


def _env():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _closed_pipe(*argv):
    """Run ``python -m sktraceprop ARGV`` with its stdout a pipe nobody reads: the read
    end is closed at once, before the command prints. Return (exit status, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sktraceprop", *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=300), err


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipe") / "demo.db"
    done = subprocess.run(
        [sys.executable, "-m", "sktraceprop", "demo", "--db", str(path)],
        capture_output=True,
        env=_env(),
        check=True,
    )
    assert done.returncode == 0
    import sktraceprop as stp

    run_id = stp.stores.SQLiteStore(path, mode="ro").list_runs()["run_id"].iloc[0]
    return path, run_id


def test_report_into_a_closed_pipe_writes_its_files_and_says_nothing(demo_store, tmp_path):
    # before: exit 2 and "sktraceprop report: [Errno 32] Broken pipe" on stderr
    path, run_id = demo_store
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    code, err = _closed_pipe(
        "report", path, "--run", run_id, "--json", out_json, "--html", out_html, *REPORT
    )
    assert (code, err) == (EXIT_OUTPUT_CLOSED, "")
    assert json.loads(out_json.read_text())["model"]["run_id"] == run_id
    assert out_html.read_text().rstrip().endswith("</html>")


@pytest.mark.parametrize("command", ["runs", "check"])
def test_other_commands_into_a_closed_pipe_say_nothing(demo_store, command):
    path, _ = demo_store
    code, err = _closed_pipe(command, path)
    assert (code, err) == (EXIT_OUTPUT_CLOSED, "")


def test_a_real_error_is_still_reported_with_a_closed_pipe(tmp_path):
    code, err = _closed_pipe("runs", tmp_path / "missing.db")
    assert code == 2
    assert "missing.db" in err and "Broken pipe" not in err


def test_head_reads_the_first_line_and_the_pipeline_is_quiet(demo_store, tmp_path):
    # the shell pipeline itself: head's line is the command's first line
    path, run_id = demo_store
    script = (
        f'"{sys.executable}" -m sktraceprop runs "{path}" | head -c 1 >/dev/null; '
        'echo "${PIPESTATUS[0]}"'
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, env=_env(), text=True)
    assert done.stderr == ""
    assert done.stdout.strip() in {"0", str(EXIT_OUTPUT_CLOSED)}


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["runs", "--help"], ["report", "-h"]])
def test_help_into_a_closed_pipe_is_141_and_quiet(argv):
    # before: argparse ignored the broken pipe writing its help and exited 0
    assert _closed_pipe(*argv) == (EXIT_OUTPUT_CLOSED, "")


def test_help_read_whole_is_0_and_printed():
    done = subprocess.run(
        [sys.executable, "-m", "sktraceprop", "runs", "--help"],
        capture_output=True,
        env=_env(),
        text=True,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: sktraceprop runs")
