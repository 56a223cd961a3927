"""The high-risk areas of Annex III of Regulation (EU) 2024/1689 (the AI Act)."""

from ..exceptions import ComplianceError

#: The regulation every report maps its record to.
REGULATION = "Regulation (EU) 2024/1689 (Artificial Intelligence Act)"
#: key -> (Annex III point, area as the Annex words it, in short).
ANNEX_III = {
    "biometrics": (
        "1",
        "Biometrics: remote biometric identification, biometric categorisation, emotion "
        "recognition",
    ),
    "critical_infrastructure": (
        "2",
        "Critical infrastructure: safety components in the management and operation of "
        "critical digital infrastructure, road traffic, or the supply of water, gas, "
        "heating or electricity",
    ),
    "education": (
        "3",
        "Education and vocational training: access and admission, evaluation of learning "
        "outcomes, level of education, monitoring during tests",
    ),
    "employment": (
        "4",
        "Employment, workers' management and access to self-employment: recruitment and "
        "selection, decisions on terms, promotion, termination, task allocation, "
        "monitoring and evaluation",
    ),
    "essential_services": (
        "5",
        "Access to and enjoyment of essential private services and essential public "
        "services and benefits",
    ),
    "public_benefits": (
        "5(a)",
        "Eligibility for essential public assistance benefits and services, including "
        "healthcare services (by or on behalf of public authorities)",
    ),
    "creditworthiness": (
        "5(b)",
        "Evaluation of the creditworthiness of natural persons or their credit score "
        "(except the detection of financial fraud)",
    ),
    "life_health_insurance": (
        "5(c)",
        "Risk assessment and pricing for natural persons in life and health insurance",
    ),
    "emergency_services": (
        "5(d)",
        "Evaluation and classification of emergency calls, dispatch of emergency first "
        "response services, emergency healthcare patient triage",
    ),
    "law_enforcement": ("6", "Law enforcement"),
    "migration": ("7", "Migration, asylum and border control management"),
    "justice_democracy": (
        "8",
        "Administration of justice and democratic processes",
    ),
}


def annex_iii_category(key):
    """The record of one Annex III area, or an error listing every valid key.

    Parameters
    ----------
    key : str
        One of the keys of :data:`ANNEX_III` (``"creditworthiness"``, ...).

    Returns
    -------
    category : dict
        ``key``, ``annex_iii_point`` and ``area``.

    Raises
    ------
    ComplianceError
        If ``key`` names no Annex III area.
    """
    if not isinstance(key, str) or key not in ANNEX_III:
        listed = "\n".join(f"  {k:<24} Annex III {p}: {a}" for k, (p, a) in ANNEX_III.items())
        raise ComplianceError(
            f"high_risk_category {key!r} is not one of the high-risk areas of Annex III of "
            f"Regulation (EU) 2024/1689; use one of:\n{listed}"
        )
    point, area = ANNEX_III[key]
    return {"key": key, "annex_iii_point": point, "area": area}
