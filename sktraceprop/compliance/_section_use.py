"""Art. 26(1) and 26(2): the intended purpose and human oversight, stated by the
deployer; the record names what they stated and says what it cannot show."""

from ._article import DEPLOYER, _article, _plural


def _intended_purpose(report):
    system = report["system"]
    model = report["model"]
    return _article(
        "26(1)",
        "Use in accordance with the instructions for use",
        "Deployers take technical and organisational measures to use the system in "
        "accordance with the instructions for use accompanying it.",
        DEPLOYER,
        f"The record names the system ({system['name']} {system['version']}), the "
        f"intended purpose the deployer stated, its Annex III area "
        f"({system['high_risk_category']['annex_iii_point']}) and the model that answers "
        f"(run {model['run_id']}, fingerprint {model['fingerprint'][:12]}). Whether the "
        "system is used as its instructions for use say is an organisational fact that "
        "no record of data and models can show.",
        ["/system", "/model"],
        [
            "that the provider's instructions for use are followed",
            "that the stated intended purpose is the actual use",
        ],
    )


def _oversight(report):
    people = report["human_oversight"]["assigned"]
    return _article(
        "26(2)",
        "Human oversight",
        "Deployers assign human oversight to natural persons who have the necessary "
        "competence, training and authority, and the necessary support.",
        DEPLOYER,
        f"The deployer named {_plural(len(people), 'person or role')} for oversight "
        f"({'; '.join(people)}). Their competence, training, authority and support are "
        "not in the record; neither is whether they oversee the system in practice.",
        ["/human_oversight"],
        ["the competence, training and authority of the people named", "oversight in practice"],
    )
