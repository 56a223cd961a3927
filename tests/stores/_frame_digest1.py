"""The frames of ``data/frame_digest1.db``, rebuilt by the script that wrote it."""

import importlib.util
from pathlib import Path

DATA = Path(__file__).parent / "data"


def fixture_frames():
    """The frames ``data/frame_digest1/make_frame_digest1.py`` registered in the store."""
    spec = importlib.util.spec_from_file_location(
        "make_frame_digest1", DATA / "frame_digest1" / "make_frame_digest1.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.frames()
