"""The pieces every part of the report's HTML page is made of: the page's style sheet
and policy, escaped text (bidirectional controls shown), times, statuses, tables."""

from html import escape

from ._article import DEPLOYER, EVIDENCED, PARTLY

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STATUS_CLASS = {EVIDENCED: "ok", PARTLY: "part", DEPLOYER: "input"}
_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d2330; background: #ffffff; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
main, header { overflow-wrap: anywhere; }
header { background: #1f3b5c; color: #ffffff; padding: 22px 32px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 2px 0; color: #dbe6f3; }
h2 { border-bottom: 2px solid #1f3b5c; padding-bottom: 4px; margin-top: 36px; }
h3 { margin-bottom: 6px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #d4d9e1; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
table.kv th { width: 30%; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .hash { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12.5px;
              word-break: break-all; }
.status { display: inline-block; padding: 2px 8px; border-radius: 10px; font-weight: 600;
          font-size: 13px; white-space: nowrap; }
.status.ok { background: #d9f2df; color: #145c2a; }
.status.part { background: #fff1cc; color: #6b4d00; }
.status.input { background: #e3e8f7; color: #223a87; }
.note { color: #555f6d; font-size: 13.5px; }
.warn { color: #8a3b00; }
ul.cannot { margin: 4px 0 0 18px; padding: 0; color: #555f6d; font-size: 13.5px; }
.figure { overflow-x: auto; border: 1px solid #d4d9e1; padding: 8px; background: #fbfcfe; }
footer { margin-top: 40px; color: #555f6d; font-size: 13px; }
"""


#: Unicode's bidirectional controls (the Bidi_Control property), each shown as its code
#: point: an override held in a name (a source id, a class label, the system's name)
#: would otherwise reverse the text after it on the page, a run id or hash included.
_VISIBLE_BIDI = {
    c: f"[U+{c:04X}]"
    for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def _e(value):
    """Text escaped for HTML, with bidirectional controls shown (see ``_VISIBLE_BIDI``)."""
    return escape(("" if value is None else str(value)).translate(_VISIBLE_BIDI))


def _iso(value):
    """:func:`_e` in a ``<bdi>``: a right-to-left name (Arabic, Hebrew) followed by
    figures would otherwise draw them in another order (``label: 12 (54.5%)`` as
    ``(54.5%) 12 :label``); isolated, the figures keep theirs."""
    return f"<bdi>{_e(value)}</bdi>"


def _status(status):
    return f'<span class="status {_STATUS_CLASS[status]}">{_e(status)}</span>'


def _table(headers, rows, numeric=()):
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            cells.append(f"<td{cls}>{cell}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _pct(rate):
    return "n/a" if rate is None else f"{100 * rate:.1f}%"


def _kv(rows):
    """A two-column table of names and values (no header row)."""
    body = "".join(f"<tr><th scope='row'>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'
