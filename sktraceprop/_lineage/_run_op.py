"""One fitted step of a run (:class:`Op`), as recorded and read back."""

from dataclasses import dataclass, field, fields

from .._state_format import RecordedFormatMixin
from ._row_sets import from_json, to_json


@dataclass
class Op(RecordedFormatMixin):
    """One fitted step.

    Attributes
    ----------
    name : str
        Step path inside the traced estimator (``"columntransformer/onehotencoder"``).
    cls : str
        Estimator class, ``module.QualName``.
    params : dict
        JSON-safe shallow parameters.
    fingerprint : str
        SHA-256 of class, parameters and fitted state.
    features_in, features_out : list of str
        Feature names seen and produced (empty when unknown).
    sources : list of str or None
        Source ids whose rows went through the op (for display: two files read under
        one source_id share it); None means every training row.
    source_keys : list of [str, str] or None
        ``[source_id, sha256]`` of each source whose rows went through the op, sorted:
        what tells two sources that share a source id apart (two folders'
        ``data.csv``, two contents of one edited file). None where ``sources`` is
        None, and in ops recorded before it was kept (then only the names are known,
        and rows are matched to the op by name: see ``sktraceprop._lineage._op_rows``).
    rows : tuple or None
        The rows of those sources that went through the op, where only some did (a
        scaler fitted on one hospital's rows of a file): a set of row ids (see
        ``sktraceprop._lineage._row_sets``). None where every row of its sources did,
        or where which ones is not known (an op learnt from another process).
    """

    # Named where it was defined until it had a module of its own: pickles name the
    # class by module, and fingerprints hash that name, so both stay as they were.
    __module__ = "sktraceprop._lineage._run"

    name: str
    cls: str
    params: dict
    fingerprint: str
    features_in: list = field(default_factory=list)
    features_out: list = field(default_factory=list)
    sources: list = None
    source_keys: list = None
    rows: tuple = None

    _state_format = 1  # (its pickle records it: see _state_format)

    def __post_init__(self):
        if self.source_keys is None:
            return
        try:
            keys = sorted({(str(i), str(sha)) for i, sha in self.source_keys})
        except (TypeError, ValueError):
            raise ValueError(
                f"op {self.name!r}: source_keys must be [source_id, sha256] pairs, got "
                f"{self.source_keys!r}"
            ) from None
        names = {i for i, _ in keys}
        if self.sources is None or names != {str(i) for i in self.sources}:
            raise ValueError(
                f"op {self.name!r}: source_keys name the source ids {sorted(names)}, "
                f"sources {self.sources!r}"
            )
        self.source_keys = [list(k) for k in keys]

    def to_dict(self):
        # every field, read as an attribute: an op pickled by an sktraceprop before a
        # field was added lacks it in its __dict__ and reads the field's default (None:
        # not recorded), as the same op read from a store does
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.source_keys is None:  # absent from ops of every row (and older runs)
            del out["source_keys"]
        if self.rows is None:  # absent where every row of its sources went through
            del out["rows"]
        else:
            out["rows"] = to_json(self.rows)
        return out

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        if "rows" in d:
            d["rows"] = from_json(d["rows"])
        return cls(**d)
