import os
import sys

import numpy as np
import pandas as pd
import pytest

# Figures drawn by the tests (displays, examples) need no screen.
os.environ.setdefault("MPLBACKEND", "Agg")


def write_hospitals(tmp_path, n_a=40, n_b=30, seed=0):
    """Two CSV files whose ``key`` column names the physical line of each row.

    hospital_b has comment lines, blank lines and quoted multi-line fields, so the
    key (written after the fact from the real line number) is an independent truth.
    """
    rng = np.random.default_rng(seed)
    paths = {}
    for name, n, fancy in (("hospital_a", n_a, False), ("hospital_b", n_b, True)):
        lines = []
        if fancy:
            lines += ["# exported from hospital B", "# second comment"]
        lines.append("key,age,sex,bp,note,label")
        for i in range(n):
            if fancy and i % 7 == 3:
                lines.append("")
            line_no = sum(entry.count("\n") + 1 for entry in lines) + 1
            age = int(rng.integers(10, 90))
            sex = "F" if rng.random() < 0.5 else "M"
            bp = "" if fancy and i % 11 == 5 else f"{rng.normal(130, 15):.1f}"
            label = int(rng.random() < 0.5)
            if fancy and i % 5 == 2:
                # a quoted field spanning two physical lines
                lines.append(f'{line_no},{age},{sex},{bp},"two\nlines",{label}')
            else:
                lines.append(f"{line_no},{age},{sex},{bp},plain,{label}")
        text = "\n".join(lines) + "\n"
        path = tmp_path / f"{name}.csv"
        path.write_text(text)
        paths[name] = path
    return paths


@pytest.fixture
def hospitals(tmp_path):
    return write_hospitals(tmp_path)


@pytest.fixture
def hospital_frames(hospitals):
    import sktraceprop as stp

    a = stp.read_csv(hospitals["hospital_a"], source_id="hospital_a")
    b = stp.read_csv(hospitals["hospital_b"], source_id="hospital_b", comment="#")
    return a, b


@pytest.fixture(autouse=True)
def _fresh_registry():
    """Each test starts with an empty source registry (ids are process-wide)."""
    from sktraceprop import _removed_rows
    from sktraceprop._lineage import REGISTRY

    REGISTRY.clear()
    _removed_rows.clear()  # (its row ids name sources by the registry's codes)
    yield
    REGISTRY.clear()
    _removed_rows.clear()


def same_named_cancer_files(tmp_path):
    """Breast cancer rows in ``a/data.csv``, ``b/data.csv`` and a second version of
    ``a/data.csv``: three sources that read_csv names ``data`` (no ``source_id=``).

    Returns the traced training frame (three features and ``target``, 95 rows), the
    untraced validation rows after them, and which of the three parts each training
    row is from.
    """
    from sklearn.datasets import load_breast_cancer

    import sktraceprop as stp

    frame = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, 2, -1]]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    parts, which = [], []
    for name, rows in [("a", slice(0, 40)), ("b", slice(40, 70)), ("a", slice(70, 95))]:
        frame.iloc[rows].to_csv(tmp_path / name / "data.csv", index=False)
        parts.append(stp.read_csv(tmp_path / name / "data.csv"))
        which += [len(parts) - 1] * len(parts[-1])
    return pd.concat(parts), frame.iloc[95:], np.array(which)


def write_two_features(path, n, shift, seed, first=None):
    """A CSV file of ``n`` rows: two normal features shifted by ``shift`` (``x1``,
    ``x2``) and a label ``y`` (``x1 + x2 > 2 shift``, the first two rows 0 and 1), after
    the columns of ``first`` (``{name: values}``, e.g. a key). Returns ``path``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) + shift
    y = (X[:, 0] + X[:, 1] > 2 * shift).astype(int)
    y[:2] = [0, 1]
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = {**(first or {}), "x1": X[:, 0], "x2": X[:, 1], "y": y}
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def write_normal_features(path, n, seed, label="x1", first_classes=False):
    """A CSV file of ``n`` rows: standard normal features ``x1``, ``x2`` and a label
    ``y``: ``x1 > 0`` (``label="x1"``; with ``first_classes``, the first two rows 0 and
    1), or ``0, 1, 0, ...`` (``label="alternating"``; the features then drawn one column
    after the other). Returns ``path``."""
    rng = np.random.default_rng(seed)
    if label == "alternating":
        x1 = rng.normal(size=n)
        x2 = rng.normal(size=n)
        y = np.arange(n) % 2
    else:
        X = rng.normal(size=(n, 2))
        x1, x2 = X[:, 0], X[:, 1]
        y = (x1 > 0).astype(int)
        if first_classes:
            y[:2] = [0, 1]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"x1": x1, "x2": x2, "y": y}).to_csv(path, index=False)
    return path


def scaled_per_hospital(tmp_path, n, hospitals, seed):
    """One file of ``n`` rows with a ``hospital`` column (values drawn from
    ``hospitals``), read traced, one ``TracedEstimator(StandardScaler)`` fitted on each
    hospital's ``x1, x2`` and the parts concatenated (the reproducer of a step fitted
    outside the pipeline on some rows of a file).

    Returns ``(frame, d, X, scalers)``: the frame written, the traced read, the
    concatenated scaled features, and hospital -> its scaler."""
    from sklearn.preprocessing import StandardScaler

    import sktraceprop as stp

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "hospital": rng.choice(hospitals, n),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "y": np.arange(n) % 2,
        }
    )
    frame.to_csv(tmp_path / "d.csv", index=False)
    d = stp.read_csv(tmp_path / "d.csv")
    parts, scalers = [], {}
    for h, g in d.groupby("hospital"):
        scalers[h] = stp.TracedEstimator(StandardScaler()).set_output(transform="pandas")
        parts.append(scalers[h].fit_transform(g[["x1", "x2"]]))
    return frame, d, pd.concat(parts), scalers


def lines_from_key(df):
    return df["key"].to_numpy(np.int64)


@pytest.fixture
def demo_xy():
    from sktraceprop.datasets import load_demo

    X, y = load_demo(return_X_y=True)
    return X.drop(columns="notes"), y


__all__ = [
    "lines_from_key",
    "same_named_cancer_files",
    "write_hospitals",
    "write_two_features",
    "pd",
]


@pytest.fixture
def fast_switching():
    """Threads switched every few bytecodes (``sys.setswitchinterval(1e-6)``), to make
    a race likely rather than assumed."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)
