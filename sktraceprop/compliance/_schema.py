"""The JSON Schema of a compliance report, shipped in the package, and its validation."""

import json
from functools import lru_cache
from importlib import resources

SCHEMA_FILE = "report.schema.json"


@lru_cache(maxsize=1)
def report_schema():
    """The JSON Schema (draft 2020-12) every report is validated against."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _jsonschema():
    try:
        import jsonschema
    except ImportError:
        raise ImportError(
            "compliance reports are validated with the 'jsonschema' package: "
            "pip install 'sktraceprop[compliance]'"
        ) from None
    return jsonschema


def schema_problems(report):
    """Every place where ``report`` breaks the schema, as ``"at /pointer: message"``."""
    jsonschema = _jsonschema()
    validator = jsonschema.Draft202012Validator(report_schema())
    problems = []
    for error in sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.path))):
        pointer = "/" + "/".join(str(p) for p in error.absolute_path)
        problems.append(f"at {pointer}: {error.message}")
    return problems
