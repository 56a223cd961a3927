"""No command of ``sktraceprop`` shows the user a FutureWarning or DeprecationWarning
of pandas, numpy or scikit-learn (pandas 3 and 2.2 each warn of changes to come).

Each command runs in its own process with those warnings made errors, also inside the
commands' own ``catch_warnings(record=True)`` (which print what they catch as
``warning:`` lines and would otherwise show such a warning's text): the truth is the
exit code and the output.
"""

import subprocess
import sys
import warnings

import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sktraceprop as stp

#: Run in the subprocess: the CLI with every FutureWarning and DeprecationWarning an
#: error, the filters put back first after each simplefilter sktraceprop's code sets (a
#: library's own "ignore" around its internals, pyarrow's at import, is left alone).
RUNNER = """
import sys, warnings
real = warnings.simplefilter
def errors():
    warnings.filterwarnings("error", category=FutureWarning)
    warnings.filterwarnings("error", category=DeprecationWarning)
def simplefilter(*args, **kwargs):
    real(*args, **kwargs)
    if sys._getframe(1).f_globals.get("__name__", "").startswith("sktraceprop"):
        errors()
warnings.simplefilter = simplefilter
errors()
from sktraceprop.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _logged_store(tmp_path):
    paths = stp.datasets.demo_paths()
    a = stp.read_csv(paths["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(paths["hospital_b"], source_id="hospital_b", comment="#")
    df = pd.concat([a, b])
    df = df[df["age"] > 18].dropna(subset=["bp"])
    X, y = df[["age", "sex", "bp"]], df["label"]
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), ["sex"]),
        (make_pipeline(SimpleImputer(), StandardScaler()), ["age", "bp"]),
    )
    store = stp.stores.SQLiteStore(tmp_path / "logged.db")
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store, log_predictions=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
        pipe.predict(X.iloc[:3])
        pipe.predict_proba(X.iloc[[5]])
    X.iloc[:3].to_csv(tmp_path / "in.csv", index=False)
    store.close()
    return pipe.lineage_.run_id


def _run(tmp_path, *args):
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "FutureWarning" not in said and "DeprecationWarning" not in said, said
    return said


def test_no_command_shows_a_future_or_deprecation_warning(tmp_path):
    run = _logged_store(tmp_path)
    db = "logged.db"
    report = [
        "--system-name", "S", "--system-version", "1", "--deployer", "D",
        "--category", "creditworthiness", "--purpose", "p", "--oversight", "o",
    ]  # fmt: skip
    _run(tmp_path, "runs", db)
    _run(tmp_path, "trace", db, "--run", run, "--row", "0")
    _run(tmp_path, "predictions", db)
    _run(tmp_path, "predictions", db, "--input", "in.csv", "--row", "1")
    _run(tmp_path, "report", db, "--run", run, "--json", "r.json", "--html", "r.html", *report)
    _run(tmp_path, "verify", "r.json", "--db", db)
    said = _run(tmp_path, "erase-predictions", db, "--input", "in.csv", "--reason", "r")
    assert "nothing was erased" not in said  # the calls were found: their code ran
    _run(tmp_path, "erase", db, "--source", "hospital_b", "--reason", "r")
    _run(tmp_path, "check", db)
    _run(tmp_path, "report", db, "--run", run, "--json", "r2.json", *report)
    _run(tmp_path, "verify", "r2.json", "--db", db)
