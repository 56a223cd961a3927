"""Ed25519 keys for signed store checkpoints and signed compliance reports.

An auditor who holds the public key can check that a store's hash chain, or a report,
is the one the key's owner signed: truncating a chain, recomputing it after an edit, or
editing a report breaks the signature. Keys are PEM files (PKCS#8 private keys,
SubjectPublicKeyInfo public keys), as produced by ``openssl genpkey -algorithm ed25519``.

Requires the ``cryptography`` package (``pip install sktraceprop[signing]``).

Examples
--------
>>> import tempfile, pathlib
>>> from sktraceprop import signing
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> private = signing.generate_key()
>>> signing.save_key(private, folder / "audit.pem")
>>> signing.save_key(private.public_key(), folder / "audit.pub.pem")
>>> signature = signing.sign(signing.load_private_key(folder / "audit.pem"), b"chain head")
>>> signing.verify(signing.load_public_key(folder / "audit.pub.pem"), b"chain head", signature)
True
>>> signing.verify(signing.load_public_key(folder / "audit.pub.pem"), b"edited", signature)
False
"""

import base64
import hashlib
import os
from pathlib import Path

__all__ = [
    "fingerprint",
    "generate_key",
    "load_private_key",
    "load_public_key",
    "save_key",
    "sign",
    "verify",
]


def _crypto():
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise ImportError(
            "signing needs the 'cryptography' package: pip install 'sktraceprop[signing]'"
        ) from None
    return ed25519, serialization, InvalidSignature


def generate_key():
    """A new Ed25519 private key (its ``public_key()`` is what auditors receive)."""
    ed25519, _, _ = _crypto()
    return ed25519.Ed25519PrivateKey.generate()


def save_key(key, path, *, password=None):
    """Write a private or public key as PEM; a private key file is readable by its owner only.

    Parameters
    ----------
    key : Ed25519PrivateKey or Ed25519PublicKey
    path : str or path-like
        Refused if it exists: keys are never overwritten.
    password : bytes, default=None
        Encrypts a private key (``BestAvailableEncryption``).
    """
    ed25519, serialization, _ = _crypto()
    path = Path(os.fspath(path))
    if path.exists():
        raise FileExistsError(f"{path} exists; keys are never overwritten")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        encryption = (
            serialization.NoEncryption()
            if password is None
            else serialization.BestAvailableEncryption(password)
        )
        data = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return
    if isinstance(key, ed25519.Ed25519PublicKey):
        path.write_bytes(
            key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return
    raise TypeError(f"expected an Ed25519 key, got {type(key).__name__}")


def load_private_key(path_or_key, *, password=None):
    """An Ed25519 private key from a PEM file (a key object is returned as is)."""
    ed25519, serialization, _ = _crypto()
    if isinstance(path_or_key, ed25519.Ed25519PrivateKey):
        return path_or_key
    data = Path(path_or_key).read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except ValueError as exc:
        raise ValueError(_not_a_key(path_or_key, data, "private", exc)) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise TypeError(f"{path_or_key} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def load_public_key(path_or_key):
    """An Ed25519 public key from a PEM file (a key object is returned as is)."""
    ed25519, serialization, _ = _crypto()
    if isinstance(path_or_key, ed25519.Ed25519PublicKey):
        return path_or_key
    data = Path(path_or_key).read_bytes()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise ValueError(_not_a_key(path_or_key, data, "public", exc)) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise TypeError(f"{path_or_key} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def _not_a_key(path, data, wanted, exc):
    """Why ``path`` gave no ``wanted`` ("public" or "private") key: the other kind of
    key, or no PEM key at all."""
    other = "private" if wanted == "public" else "public"
    if f"{other.upper()} KEY-----".encode() in data:
        use = (
            "checking needs the public key (signing.save_key(key.public_key(), path) "
            "writes it; an auditor never needs the private key)"
            if wanted == "public"
            else "signing needs the private key it was made from"
        )
        return f"{os.fspath(path)} holds a {other} key, not a {wanted} key: {use}"
    return f"{os.fspath(path)} is not a PEM {wanted} key ({exc})"


def sign(private_key, message):
    """Base64 Ed25519 signature of ``message`` (bytes)."""
    key = load_private_key(private_key)
    return base64.b64encode(key.sign(bytes(message))).decode("ascii")


def verify(public_key, message, signature):
    """True when ``signature`` (base64) signs ``message`` under ``public_key``."""
    _, _, invalid = _crypto()
    key = load_public_key(public_key)
    try:
        key.verify(base64.b64decode(signature, validate=True), bytes(message))
    except (invalid, ValueError):
        return False
    return True


def fingerprint(public_key):
    """SHA-256 (hex) of the raw public key: names the key in records and reports."""
    _, serialization, _ = _crypto()
    raw = load_public_key(public_key).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()
