"""Per article of the AI Act: what the record proves, what it does not, and why.

Each statement is built from the figures gathered in the report (never typed by hand),
and ends in one of three statuses:

- ``"evidenced"``: the record itself shows the obligation is met, as far as records can;
- ``"partly evidenced"``: the record shows facts the obligation rests on, but meeting it
  takes a judgement or an action the record cannot show;
- ``"needs the deployer's input"``: the obligation is about people, organisation or use
  that no record of data and models can show; the report holds what the deployer stated.

The statements are built per group of articles: :mod:`._section_use` (26(1), 26(2)),
:mod:`._section_input_data` (26(4)), :mod:`._section_monitoring` (26(5)),
:mod:`._section_logs` (26(6) and 19, 12) and :mod:`._section_governance` (10);
:mod:`._article` holds the statuses.
"""

from ._section_governance import _data_governance
from ._section_input_data import _input_data
from ._section_logs import _record_keeping, _retention
from ._section_monitoring import _monitoring
from ._section_use import _intended_purpose, _oversight

__all__ = ["articles"]


def articles(report):
    """The per-article statements of a report (built from its other sections)."""
    return [
        _intended_purpose(report),
        _oversight(report),
        _input_data(report),
        _monitoring(report),
        _retention(report),
        _record_keeping(report),
        _data_governance(report),
    ]
