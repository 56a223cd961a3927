"""The HTML page in a real headless browser: loads cleanly, shows the figures, not blank."""

import io
import re

import numpy as np

from sktraceprop.compliance import compliance_report

from ._browser import load_page
from .conftest import DEPLOYER


def _pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)


def test_page_loads_cleanly_and_shows_the_key_figures(browser, fitted, tmp_path):
    pipe, store, X, _ = fitted
    report = compliance_report(pipe, **DEPLOYER)
    data = report.to_dict()
    page = tmp_path / "report.html"
    report.to_html(page)
    text, png, problems, requests = load_page(page)
    assert problems == []
    assert requests == [page.resolve().as_uri()]  # the page itself, nothing else
    flat = re.sub(r"\s+", " ", text)
    expected = [
        "CreditScorer 1.0.0",
        "Example Bank SA",
        "Annex III point 5(b)",
        "Head of credit risk",
        data["model"]["run_id"],
        data["model"]["fingerprint"],
        data["integrity"]["sha256"],
        "needs the deployer's input",
        "partly evidenced",
        "evidenced",
    ]
    for s in data["sources"]:
        expected += [s["source_id"], s["sha256"], s["loaded_at"]]
        counts = s["statistics"]["labels"]["counts"]
        expected += [f"{label}: {count} (" for label, count in counts.items()]
    predictions = data["record_keeping"]["predictions"]
    expected += [
        f"Calls logged {predictions['n_calls']}",
        f"Rows predicted {predictions['n_rows']}",
        f"Training rows {len(X)}",
    ]
    chain = data["record_keeping"]["store"]
    expected.append(
        f"Events in the hash chain {chain['n_chain_events']}: {chain['n_audit_events']} audit "
        f"events logged by the system's use"
    )
    missing = [e for e in expected if e not in flat]
    assert missing == []
    # the lineage graph is drawn: every source and op name is in the SVG's text
    for s in data["sources"]:
        assert s["source_id"] in text
    assert "LogisticRegression" in text and "onehotencoder" in text

    pixels = _pixels(png)
    assert pixels.shape[0] > 1500 and pixels.shape[1] >= 1000
    assert pixels.std() > 20  # not one flat colour
    white = (pixels > 245).all(axis=2).mean()
    assert 0.3 < white < 0.97  # text, tables and a header on a white page
    header = pixels[:60, :, :]
    assert np.abs(header.mean(axis=(0, 1)) - [31, 59, 92]).max() < 40  # the dark blue band


def test_the_browser_check_catches_errors_and_requests(browser, tmp_path):
    # the checks above can fail: a page with a console error, an exception and a request
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><body><p>x</p><img src='missing.png'>"
        "<script>console.error('boom'); undefined_function();</script></body></html>"
    )
    text, png, problems, requests = load_page(page)
    assert text.strip() == "x"
    assert any("boom" in p for p in problems)
    assert any("exception" in p for p in problems)
    assert any(r.endswith("missing.png") for r in requests)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    _, png, problems, _ = load_page(blank)
    assert problems == [] and _pixels(png).std() == 0


def test_html_is_self_contained_and_escapes_what_it_shows(fitted, tmp_path):
    pipe, *_ = fitted
    report = compliance_report(
        pipe, **{**DEPLOYER, "intended_purpose": "<script>alert(1)</script> & more"}
    )
    html = report.to_html()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert re.findall(r"(?:src|href)\s*=", html) == []
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert html.count("<svg") == 2  # the lineage graph and the prediction log chart


# A name that breaks out of HTML, SVG, a comment or an attribute if anything is left
# unescaped, and holds a right-to-left override (U+202E) and mark (U+200F).
HOSTILE = (
    "<script>console.error('x')</script></svg></title>\"'&amp;"
    "<img src=x onerror=console.error(1)>\u202eRLO\u200f<!--"
)
RTL_LABEL = "\u0646\u0639\u0645"  # Arabic "yes": a right-to-left class label

# The left edges of two texts in the first table cell holding both.
_LEFT_OF = """
(() => {
  const left = (root, text) => {
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const i = n.data.indexOf(text);
      if (i >= 0) {
        const r = document.createRange();
        r.setStart(n, i); r.setEnd(n, i + text.length);
        return r.getBoundingClientRect().left;
      }
    }
    return null;
  };
  const cell = [...document.querySelectorAll('td')].find(
    (td) => td.textContent.includes(__NEEDLE__) && td.textContent.includes(__TEXT__));
  return cell ? [left(cell, __NEEDLE__), left(cell, __TEXT__)] : null;
})()
"""


def test_names_from_data_and_deployer_cannot_break_or_reorder_the_page(browser, tmp_path):
    """Every name a user or a data file gives is shown as text, in its own order.

    A right-to-left override in a source id or the system's name reversed everything
    after it in its block on the page (a run id and a fingerprint were drawn backwards,
    a status read "tupni s'reyolped"), and an Arabic class label drew its count and
    percentage in another order; a 5000-character name stretched the page 44,000 px
    wide. Truth: the strings as given, the positions Chromium draws them at.
    """
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import sktraceprop as stp

    rng = np.random.default_rng(0)
    column = f"col{HOSTILE}"
    frame = pd.DataFrame(
        {
            "age": rng.normal(50, 10, 40),
            column: rng.choice(["a", f"b{HOSTILE}"], 40),
            "label": np.where(np.arange(40) < 22, RTL_LABEL, f"no{HOSTILE}"),
        }
    )
    frame.to_csv(tmp_path / "data.csv", index=False)
    X = stp.read_csv(tmp_path / "data.csv", source_id=f"src{HOSTILE}")
    y = X.pop("label")
    pre = stp.make_traced_column_transformer(
        (OneHotEncoder(), [column]), (StandardScaler(), ["age"])
    )
    store = stp.stores.SQLiteStore(tmp_path / "audit.db")
    pipe = stp.make_traced_pipeline(pre, LogisticRegression(), store=store, log_predictions=True)
    pipe.fit(X, y).predict(X.iloc[:5])
    long_name = "x" * 5000
    report = compliance_report(
        pipe,
        **{
            **DEPLOYER,
            "system_name": f"Sys{HOSTILE}",
            "system_version": f"1{HOSTILE}",
            "deployer_name": f"Dep{HOSTILE}{long_name}",
            "intended_purpose": f"Purpose{HOSTILE}",
            "human_oversight": [f"Who{HOSTILE}", RTL_LABEL],
        },
    )
    page = tmp_path / "report.html"
    report.to_html(page)
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert html.count("<svg") == html.count("</svg>") == 2
    # where the Arabic label (22 of 40 rows) and its share are drawn
    order = _LEFT_OF.replace("__NEEDLE__", repr(RTL_LABEL)).replace("__TEXT__", repr("(55.0%)"))
    text, png, problems, requests, (positions,) = load_page(page, evaluate=[order])
    assert problems == [] and requests == [page.resolve().as_uri()]
    # each name is on the page as given, its bidirectional controls shown, not obeyed
    shown = HOSTILE.replace("\u202e", "[U+202E]").replace("\u200f", "[U+200F]")
    assert "\u202e" not in text and "\u200f" not in text
    for name in ("Sys", "1", "Dep", "Purpose", "Who", "src", "col", "no"):
        assert f"{name}{shown}" in text, name
    assert report.to_dict()["model"]["run_id"] in text
    # the Arabic label's count is drawn after it, left to right
    assert f"{RTL_LABEL}: 22 (55.0%)" in text
    assert positions is not None and positions[0] < positions[1]
    # nothing stretches the page beyond the window (1280 px)
    assert int.from_bytes(png[16:20], "big") <= 1280  # the PNG header's width
