"""Traced composite transformers."""

from ._column_transformer import TracedColumnTransformer, make_traced_column_transformer

__all__ = ["TracedColumnTransformer", "make_traced_column_transformer"]
