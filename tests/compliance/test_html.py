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
