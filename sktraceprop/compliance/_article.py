"""One article's statement in a compliance report: its fields, and the three statuses it
ends in (see :mod:`._sections`); shared by the modules that build each group of
sections."""

__all__ = ["DEPLOYER", "EVIDENCED", "PARTLY", "STATUSES"]

EVIDENCED = "evidenced"
PARTLY = "partly evidenced"
DEPLOYER = "needs the deployer's input"
STATUSES = (EVIDENCED, PARTLY, DEPLOYER)


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def _article(article, title, obligation, status, why, evidence, cannot_show):
    return {
        "article": article,
        "title": title,
        "obligation": obligation,
        "status": status,
        "why": why,
        "evidence": evidence,
        "cannot_show": cannot_show,
    }
