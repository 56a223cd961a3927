"""``ComplianceReport``: a compliance report's JSON document, its HTML page and its
verification (made by :func:`._compliance_report.compliance_report`, or read back)."""

import copy
import json
import os

from .._state_format import RecordedFormatMixin
from ._graph import lineage_graph
from ._html import render_html
from ._read_report import read_report
from ._report_files import _write_new, check_new_file
from ._verify import checked_report, verify_report


class ComplianceReport(RecordedFormatMixin):
    """A compliance report: the JSON document, its HTML page, and its verification.

    Made by :func:`compliance_report`, or read back with :meth:`load`.

    Parameters
    ----------
    data : dict
        The report as JSON data. It is copied, and checked as
        :func:`~sktraceprop.compliance.verify` checks a report given neither its store
        nor a key: a report edited after it was made raises
        :class:`~sktraceprop.exceptions.ReportVerificationError`, never renders.
    """

    _state_format = 1  # (its pickle records it: see _state_format)

    def __init__(self, data):
        # what the page and the file show is what was checked: a copy, so that the
        # caller's dict edited later changes neither
        data = copy.deepcopy(data)
        # a signature is checked where a key is given: verify() or load()
        checked_report(data, unkeyed_notes=False)
        self._data = data

    def __setstate__(self, state):
        super().__setstate__(state)
        # checked as __init__ checks: a pickled report edited after it was made (its
        # bytes are anyone's to change) never renders either
        checked_report(self._data, unkeyed_notes=False)

    @classmethod
    def _made(cls, data):
        """A report just made (sealed and checked against its schema here)."""
        report = cls.__new__(cls)
        report._data = data
        return report

    @classmethod
    def load(cls, path, *, store=None, public_key=None):
        """Read a report, verified first (see :func:`sktraceprop.compliance.verify`)."""
        data, _ = read_report(path)
        verify_report(data, store=store, public_key=public_key)
        return cls._made(data)

    def to_dict(self):
        """A deep copy of the report's JSON data."""
        return copy.deepcopy(self._data)

    def to_json(self):
        """The report as JSON text (indented; its hash is over the canonical form)."""
        return json.dumps(self._data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def save(self, path):
        """Write the JSON report to a new file (an existing file is never overwritten)."""
        check_new_file(path, "report file")
        _write_new(path, self.to_json())
        return os.fspath(path)

    def to_html(self, path=None):
        """The report as one self-contained HTML page; written to ``path`` if given.

        Parameters
        ----------
        path : str or path-like, default=None
            A new file (an existing one is never overwritten).

        Returns
        -------
        html : str
        """
        html = render_html(self._data)
        if path is not None:
            check_new_file(path, "HTML file")
            _write_new(path, html)
        return html

    def verify(self, *, store=None, public_key=None):
        """Check this report (see :func:`sktraceprop.compliance.verify`)."""
        return verify_report(self._data, store=store, public_key=public_key)

    def lineage_graph(self):
        """Nodes and edges of the lineage (source files -> ops -> model), laid out."""
        return lineage_graph(self._data)

    @property
    def sha256(self):
        """SHA-256 of the report's canonical form."""
        return self._data["integrity"]["sha256"]

    @property
    def articles(self):
        """Per article: ``article``, ``title``, ``status``, ``why``, ``cannot_show``."""
        return copy.deepcopy(self._data["articles"])

    def summary(self):
        """A DataFrame with one row per article: its status and why."""
        import pandas as pd

        return pd.DataFrame(
            [(a["article"], a["title"], a["status"], a["why"]) for a in self._data["articles"]],
            columns=["article", "title", "status", "why"],
        )

    def __repr__(self):
        s = self._data["system"]
        statuses = "; ".join(f"{a['article']}: {a['status']}" for a in self._data["articles"])
        return (
            f"<ComplianceReport {s['name']} {s['version']}, run "
            f"{self._data['model']['run_id']}, sha256 {self.sha256[:12]}: {statuses}>"
        )
