import subprocess
import sys
import textwrap


def test_stores_import_without_psycopg_and_say_what_to_install():
    code = """
        import sys
        sys.modules["psycopg"] = None  # makes "import psycopg" raise ImportError
        import sktraceprop as stp
        store = stp.stores.MemoryStore()
        try:
            stp.stores.PostgresStore("postgresql://localhost/x")
        except ImportError as exc:
            print(exc)
        """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "pip install 'sktraceprop[postgres]'" in out.stdout
