"""TracedColumnTransformer: a ColumnTransformer that records feature and row lineage."""

from numbers import Integral

from sklearn.compose import ColumnTransformer
from sklearn.compose import make_column_transformer as _make_column_transformer
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
from sklearn.pipeline import Pipeline

from .._lineage._bare_outputs import remembered_output
from .._lineage._record import build_lineage, collect_ops
from .._tracing import TracedMixin

__all__ = ["TracedColumnTransformer", "make_traced_column_transformer"]


class TracedColumnTransformer(TracedMixin, ColumnTransformer):
    """A :class:`sklearn.compose.ColumnTransformer` that records lineage when fitted.

    Fitted on its own, it records a run like :class:`~sktraceprop.TracedPipeline`; as
    a step of a traced pipeline it leaves recording to the pipeline, whose run then
    holds its sub-transformers as ops. Either way, feature lineage maps each output
    column (``onehotencoder__sex_F``) to the input columns it derives from (``sex``),
    and so to the sources that hold them.

    A text vectorizer (``CountVectorizer``, ``TfidfVectorizer``, ``HashingVectorizer``,
    or a pipeline that starts with one) takes its column by name, ``"text"``: ``fit``
    refuses a list, ``["text"]``, whose 2-D selection the vectorizer would read as
    documents named after the columns.

    Parameters
    ----------
    transformers : list of tuples
        As for :class:`~sklearn.compose.ColumnTransformer`.
    remainder, sparse_threshold, n_jobs, transformer_weights, verbose, \
verbose_feature_names_out
        As for :class:`~sklearn.compose.ColumnTransformer`.
    store : BaseStore, default=None
        Where runs of standalone fits are appended.

    Attributes
    ----------
    lineage_ : Lineage
        The run of the last standalone fit.
    """

    _state_format = 1  # (sktraceprop._state_format: raise it when what is kept changes)

    def __init__(
        self,
        transformers,
        *,
        remainder="drop",
        sparse_threshold=0.3,
        n_jobs=None,
        transformer_weights=None,
        verbose=False,
        verbose_feature_names_out=True,
        store=None,
    ):
        self.store = store
        super().__init__(
            transformers,
            remainder=remainder,
            sparse_threshold=sparse_threshold,
            n_jobs=n_jobs,
            transformer_weights=transformer_weights,
            verbose=verbose,
            verbose_feature_names_out=verbose_feature_names_out,
        )

    def fit(self, X, y=None, sample_id=None, **params):
        """Fit all transformers and record the run.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        sample_id : array-like of int64 of shape (n_samples,), default=None
            Row ids, overriding those carried by ``X``.
        **params : dict
            Passed to the transformers.

        Returns
        -------
        self : object
        """
        self.fit_transform(X, y, sample_id=sample_id, **params)
        return self

    def fit_transform(self, X, y=None, sample_id=None, **params):
        """Fit all transformers, record the run, and return the transformed data."""
        _check_text_columns(self.transformers)
        fit_transform = super().fit_transform
        return remembered_output(
            self,
            "fit_transform",
            X,
            lambda: self._traced_fit(fit_transform, X, y, sample_id, params),
            sample_id,
        )

    def transform(self, X, **params):
        """Transform ``X`` by each transformer, as ``ColumnTransformer.transform``."""
        transform = super().transform
        return remembered_output(self, "transform", X, lambda: transform(X, **params))

    def _build_lineage(self, X, ids, context=None):
        return build_lineage(self, X, ids, ids, self, collect_ops(self))

    def get_metadata_routing(self):
        """Metadata routing of the transformers, plus ``sample_id``."""
        return self._add_sample_id_request(super().get_metadata_routing())


def _check_text_columns(transformers):
    """Refuse a text vectorizer given its column as a list (``["text"]``): the vectorizer
    would iterate over the 2-D selection and read its column names as the documents,
    and scikit-learn's error says only that the numbers of samples differ."""
    for name, transformer, columns in transformers:
        if isinstance(transformer, Pipeline) and transformer.steps:
            transformer = transformer.steps[0][1]  # what reads the selected columns
        if not isinstance(transformer, (CountVectorizer, HashingVectorizer)):
            continue  # (TfidfVectorizer is a CountVectorizer)
        if isinstance(columns, (str, Integral)) or callable(columns):
            continue
        try:
            picked = list(columns)
        except TypeError:  # a slice
            picked = columns
        one = picked[0] if isinstance(picked, list) and len(picked) == 1 else "text"
        raise ValueError(
            f"Transformer {name!r}: {type(transformer).__name__} takes one column of "
            f"documents, selected by its name ({one!r}), not by a list ({picked!r}): a list "
            "selects a 2-D frame, whose column names the vectorizer would read as its "
            "documents. For several text columns, give each its own vectorizer."
        )


def make_traced_column_transformer(*transformers, store=None, **kwargs):
    """Build a :class:`TracedColumnTransformer` like ``make_column_transformer``.

    Parameters
    ----------
    *transformers : tuples of (transformer, columns)
    store : BaseStore, default=None
    **kwargs
        ``remainder``, ``sparse_threshold``, ``n_jobs``, ``verbose``,
        ``verbose_feature_names_out``, as for ``make_column_transformer``.

    Returns
    -------
    ct : TracedColumnTransformer
    """
    plain = _make_column_transformer(*transformers, **kwargs)
    params = plain.get_params(deep=False)
    params.pop("force_int_remainder_cols", None)
    return TracedColumnTransformer(**params, store=store)
