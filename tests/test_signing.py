import os

import pytest

from sktraceprop import signing


def test_round_trip_through_pem_files(tmp_path):
    key = signing.generate_key()
    signing.save_key(key, tmp_path / "k.pem", password=b"pw")
    signing.save_key(key.public_key(), tmp_path / "k.pub")
    assert os.stat(tmp_path / "k.pem").st_mode & 0o077 == 0
    loaded = signing.load_private_key(tmp_path / "k.pem", password=b"pw")
    sig = signing.sign(loaded, b"head:abc")
    public = signing.load_public_key(tmp_path / "k.pub")
    assert signing.verify(public, b"head:abc", sig)
    assert not signing.verify(public, b"head:abd", sig)
    assert not signing.verify(signing.generate_key().public_key(), b"head:abc", sig)
    assert not signing.verify(public, b"head:abc", "not base64!")
    assert signing.fingerprint(public) == signing.fingerprint(key.public_key())
    with pytest.raises(FileExistsError):
        signing.save_key(key, tmp_path / "k.pem")
