"""The user function of ``make_fingerprint2.py``'s pipeline (imported by name)."""

SCALE = 2.0


def scaled(X):
    return X * SCALE
