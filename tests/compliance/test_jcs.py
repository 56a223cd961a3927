"""RFC 8785 (JCS), against a real JavaScript engine: a report checked without sktraceprop.

The truth is Chromium's: ``JSON.stringify`` writes strings and numbers as RFC 8785 does
(the RFC defines its number form as ECMAScript's), and sorting keys with ``sort()``
compares UTF-16 code units, as the RFC asks.
"""

import base64
import hashlib
import json
import math
import random
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.frozen import FrozenEstimator

import sktraceprop as stp
from sktraceprop.compliance import compliance_report, verify
from sktraceprop.compliance._jcs import es_number, jcs_bytes
from sktraceprop.exceptions import ReportVerificationError

from ._browser import load_page
from .conftest import DEPLOYER, as_javascript_writes, before_format_7


def _doc_code(first, last):
    """JavaScript as doc/compliance.rst gives it to auditors (no library): from the line
    starting ``first`` to the one before the line starting ``last``."""
    text = (Path(__file__).parents[2] / "doc" / "compliance.rst").read_text(encoding="utf-8")
    start = text.index(first)
    return text[start : text.index(last, start)]


def _doc_jcs():
    return _doc_code("const jcs = ", "const { integrity")


def _doc_event_text():
    return _doc_code("const cp = ", "// SHA-256 of")


def _in_browser(tmp_path, data, expressions):
    """Evaluate ``expressions`` in a page holding ``data`` as ``DATA`` (JSON-parsed)."""
    page = tmp_path / "page.html"
    text = json.dumps(data).replace("</", "<\\/")
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>jcs</title></head><body>'
        f'<script type="application/json" id="data">{text}</script></body></html>',
        encoding="utf-8",
    )
    data_js = "const DATA = JSON.parse(document.getElementById('data').textContent);"
    prelude = f"{_doc_jcs()}\n{_doc_event_text()}\n{data_js}"
    wrapped = [f"(() => {{ {prelude} return {e}; }})()" for e in expressions]
    *_, problems, _, values = load_page(page, evaluate=wrapped)
    assert problems == []
    return values


def _doubles(n, seed):
    """Edge cases and ``n`` doubles of random bit patterns (every exponent alike)."""
    rng = random.Random(seed)
    out = [0.0, -0.0, 1.0, -1.0, 0.1, 1e-7, 1e-6, 1e21, 1e20, 5e-324, 2.0**53, 2.0**53 + 2]
    out += [1.7976931348623157e308, 9.999999999999997e22, 1e23, 333333333.3333332]
    out += [10.0**e for e in range(-30, 30)] + [-(2.5 * 10.0**e) for e in range(-30, 30)]
    while len(out) < n:
        x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if math.isfinite(x):
            out.append(x)
    return out


def test_numbers_strings_and_key_order_are_the_browsers(browser, tmp_path):
    doubles = _doubles(3000, seed=0)
    # doubles travel exactly as their bit patterns, rebuilt in the page
    bits = [struct.unpack("<Q", struct.pack("<d", x))[0] for x in doubles]
    rng = random.Random(1)
    alphabet = [chr(c) for c in range(0x20)] + ['"', "\\", "/", "a", "é", "\u2028", "\u20ac"]
    alphabet += ["\U0001f600", "\ufb01", "\ud7ff", "\ue000", "\uffff", "\x7f"]
    strings = ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(300)]
    keys = {s: i for i, s in enumerate(strings)}  # keys sorted by UTF-16 code units
    numbers, written, ordered = _in_browser(
        tmp_path,
        {"bits": [str(b) for b in bits], "strings": strings, "keys": keys},
        [
            "DATA.bits.map(b => { const v = new DataView(new ArrayBuffer(8));"
            " v.setBigUint64(0, BigInt(b)); return String(v.getFloat64(0)); })",
            "DATA.strings.map(s => JSON.stringify(s))",
            "jcs(DATA.keys)",
        ],
    )
    assert [es_number(x) for x in doubles] == numbers
    assert [jcs_bytes(s).decode() for s in strings] == written
    assert jcs_bytes(keys).decode() == ordered


@pytest.fixture
def report(fitted, tmp_path):
    """A signed report whose events hold floats with integer values (explanations)."""
    pipe, store, X, y = fitted
    explainer = stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(X, y)
    explainer.explain(X.iloc[:2], top_k=3, log=True)
    path = tmp_path / "report.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    return path, store


def test_a_report_checks_out_in_a_browser_and_after_javascript_rewrites_it(
    browser, report, tmp_path
):
    """An auditor's check without sktraceprop (JCS in the page, SHA-256 here), and a
    report JavaScript parsed and wrote again (0.0 becomes 0) still verifies."""
    path, store = report
    data = json.loads(path.read_text(encoding="utf-8"))
    assert any("payload_json" in e for e in data["events"])  # integral floats were kept
    canonical, rewritten = _in_browser(
        tmp_path,
        data,
        [
            "jcs(Object.fromEntries(Object.entries(DATA).filter(([k]) => k !== 'integrity')))",
            "JSON.stringify(DATA, null, 2)",
        ],
    )
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == data["integrity"]["sha256"]
    assert rewritten != json.dumps(data, indent=2)  # JavaScript wrote numbers its own way
    again = tmp_path / "rewritten.json"
    again.write_text(rewritten, encoding="utf-8")
    assert verify(again, store=store)
    edited = json.loads(rewritten)
    edited["sources"][0]["n_rows"] += 1
    again.write_text(json.dumps(edited), encoding="utf-8")
    with pytest.raises(ReportVerificationError, match="/sources/0/n_rows was changed"):
        verify(again)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(2.0**53, 2.0**70).map(int)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _no_surrogates(value):
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_jcs_is_json_that_reads_back_and_ignores_how_numbers_were_written(value):
    """JCS bytes are JSON of the same value, and a value written as other writers do
    (integral floats as integers, keys in any order) has the same bytes."""
    if not _no_surrogates(value):
        with pytest.raises(ValueError, match="lone surrogate"):
            jcs_bytes(value)
        return
    data = jcs_bytes(value)
    back = json.loads(data)
    assert _numbers_equal(back, value)
    assert jcs_bytes(back) == data
    assert jcs_bytes(_integral_as_int(value)) == data


def _integral_as_int(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _integral_as_int(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return [_integral_as_int(v) for v in value]
    return value


def _numbers_equal(a, b):
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_numbers_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_numbers_equal, a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)  # JSON numbers are doubles to JCS
    return a == b


def test_what_has_no_jcs_form_is_refused():
    for value, match in [
        (float("nan"), "no NaN"),
        (10**400, "beyond every double"),
        ({1: 2}, "keys are strings"),
        ({"a": {1, 2}}, "not a JSON value"),
        ("\ud800", "lone surrogate"),
    ]:
        with pytest.raises((ValueError, TypeError), match=match):
            jcs_bytes(value)


def test_a_format_4_report_is_checked_over_pythons_json_as_it_was_hashed(report, tmp_path):
    """Reports written before RFC 8785 (format 4: Python's JSON, keys sorted, no spaces)
    still verify; re-saved with 0.0 as 0 they fail, as that format always did."""
    from sktraceprop.compliance._integrity import body_of, seal
    from sktraceprop.utils._exact_ints import rounded_pointers

    path, store = report
    data = json.loads(path.read_text(encoding="utf-8"))
    data["report"]["format_version"] = 4
    before_format_7(data)
    for event in data["events"]:  # format 4 kept payload_json for big integers only
        if "payload_json" in event and not rounded_pointers(json.loads(event["payload_json"])):
            event["payload"] = json.loads(event.pop("payload_json"))
    data["integrity"] = seal(body_of(data))
    legacy = json.dumps(
        body_of(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert data["integrity"]["sha256"] == hashlib.sha256(legacy).hexdigest()
    old = tmp_path / "format4.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    assert verify(old, store=store)

    old.write_text(json.dumps(as_javascript_writes(data)), encoding="utf-8")
    with pytest.raises(ReportVerificationError, match="was changed after the report was made"):
        verify(old)


def test_a_reports_event_hashes_are_rebuilt_in_a_browser(browser, fitted, tmp_path):
    """doc/compliance.rst's JavaScript rebuilds the text each event's hash covers, for
    payloads with text beyond ASCII, keys beyond the BMP, floats JavaScript writes
    otherwise, and integers beyond 2**53; the links (``prev_hash``) follow."""
    pipe, store, X, y = fitted
    explainer = stp.InfluenceExplainer(FrozenEstimator(pipe)).fit(X, y)
    explainer.explain(X.iloc[:2], top_k=3, log=True)
    store.append_event(
        "review",
        {
            "by": "Zoë \u00a0Ørsted \U0001f600\x7f\n",
            "\U0001f600 key": 1,
            "\ufb01 key": 2,
            "numbers": [1.0, -0.0, 1e-05, 1e-07, 0.0001, 1e16, 2.5, 1e300, 123456789.125],
        },
    )
    store.append_event("review", {"ids": [2**60 + 1, 7], "share": 0.1})
    store.append_event("review", {"plain": "ascii", "n": 3, "x": 0.25})
    path = tmp_path / "report.json"
    compliance_report(pipe, **DEPLOYER, output_path=path)
    data = json.loads(path.read_text(encoding="utf-8"))
    kinds = [e["kind"] for e in data["events"]]
    assert kinds.count("review") == 3 and "explanation" in kinds
    (texts,) = _in_browser(tmp_path, data, ["DATA.events.map(eventText)"])
    previous, linked = None, 0
    for event, text in zip(data["events"], texts, strict=True):
        digest = hashlib.sha256((event["prev_hash"] + text).encode("utf-8")).hexdigest()
        assert digest == event["hash"], (event["seq"], text)
        if previous is not None and event["seq"] == previous["seq"] + 1:
            # (a report copies its run's events and the store's: others leave gaps)
            assert event["prev_hash"] == previous["hash"]
            linked += 1
        previous = event
    assert linked >= 3
    reviews = [e for e in data["events"] if e["kind"] == "review"]
    assert ["payload_json" in e for e in reviews] == [True, True, False]


def test_a_signed_report_verifies_in_a_browser_with_webcrypto(browser, fitted, tmp_path):
    """The report's Ed25519 signature checks out with the browser's own cryptography over
    the bytes doc/compliance.rst's JavaScript makes, and fails on an edited report."""
    from cryptography.hazmat.primitives import serialization

    from sktraceprop import signing

    pipe, store, X, y = fitted
    key = signing.generate_key()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    data = compliance_report(pipe, **DEPLOYER, private_key=key).to_dict()
    edited = json.loads(json.dumps(data))
    edited["system"]["deployer"] += "."
    check = (
        "(async (doc) => {{ const {{ integrity, ...body }} = doc;"
        " const key = await crypto.subtle.importKey('raw',"
        " Uint8Array.from(atob('{key}'), c => c.charCodeAt(0)), {{name: 'Ed25519'}},"
        " false, ['verify']);"
        " const sig = Uint8Array.from(atob(integrity.signature.value), c => c.charCodeAt(0));"
        " return await crypto.subtle.verify({{name: 'Ed25519'}}, key, sig,"
        " new TextEncoder().encode(jcs(body))); }})({doc})"
    )
    key64 = base64.b64encode(raw).decode()
    good, bad = _in_browser(
        tmp_path,
        {"good": data, "bad": edited},
        [check.format(key=key64, doc="DATA.good"), check.format(key=key64, doc="DATA.bad")],
    )
    assert (good, bad) == (True, False)
