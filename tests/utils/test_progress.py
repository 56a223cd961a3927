import joblib
import pytest

from sktraceprop.utils._progress import map_blocks, progress


def _square(x):
    return x * x


def test_map_blocks_keeps_order_serial_and_threads():
    blocks = list(range(17))
    expected = [b * b for b in blocks]
    assert map_blocks(_square, blocks) == expected
    with joblib.parallel_backend("threading", n_jobs=2):
        assert map_blocks(_square, blocks) == expected


def test_progress_silent_returns_iterable_itself():
    items = [1, 2, 3]
    assert progress(items, verbose=0, desc="x") is items


@pytest.mark.parametrize("tqdm_available", [True, False])
def test_progress_verbose_reports_every_item(tqdm_available, monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__
    if not tqdm_available:

        def fake_import(name, *args, **kwargs):
            if name.startswith("tqdm"):
                raise ImportError(name)
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", fake_import)
    out = list(progress(iter([4, 5, 6]), verbose=1, desc="scoring", total=3))
    assert out == [4, 5, 6]
    err = capsys.readouterr().err
    assert "scoring" in err
    assert "3/3" in err
