"""Small bundled data for examples and the demo."""

from ._demo import demo_paths, load_demo, write_demo_files

__all__ = ["demo_paths", "load_demo", "write_demo_files"]
