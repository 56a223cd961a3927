"""The ``salt_sha256`` of every salted call, as the integrity check holds them.

``verify()`` keeps, of each salted prediction or explanation event it walks, the
SHA-256 of its salt, to compare with the salt held beside the chain. As a dict of hex
strings that took about 200 bytes a call, held for the whole walk: with a compliance
report reading the chain as the check walks it (``watching_chain``), beside the
report's own calls, that was 8 MiB more at 50,000 calls than a check run alone. Here a
call takes 40 bytes: its seq (int64) and its digest (32 bytes), in the order walked.
A value of any other form (None for an unreadable payload, an altered one, a seq out of
order or out of range) is kept as it is, apart, so every value reads back unchanged.
"""

from array import array
from bisect import bisect_left

__all__ = ["SaltDigests", "packed_digest"]

_INT64 = (-(2**63), 2**63)


def packed_digest(digest):
    """The 32 bytes of a lower-case hex SHA-256, or None for any other value."""
    if not isinstance(digest, str) or len(digest) != 64:
        return None
    try:
        raw = bytes.fromhex(digest)
    except ValueError:
        return None
    return raw if raw.hex() == digest else None  # (upper case or spaces kept apart)


class SaltDigests:
    """``{seq: salt_sha256}`` (a mapping: ``in``, ``[]``, ``get``, ``items``, ``len``);
    a later value for a seq replaces an earlier, as in a dict."""

    def __init__(self):
        self._seqs, self._digests, self._other = array("q"), bytearray(), {}

    def __setitem__(self, seq, digest):
        packed = packed_digest(digest)
        if (
            packed is not None
            and type(seq) is int
            and _INT64[0] <= seq < _INT64[1]
            and (not self._seqs or seq > self._seqs[-1])
        ):
            self._seqs.append(seq)
            self._digests += packed
            self._other.pop(seq, None)
        else:
            self._other[seq] = digest

    def _index(self, seq):
        if type(seq) is not int or not _INT64[0] <= seq < _INT64[1]:
            return None
        i = bisect_left(self._seqs, seq)
        return i if i < len(self._seqs) and self._seqs[i] == seq else None

    def __contains__(self, seq):
        return seq in self._other or self._index(seq) is not None

    def __getitem__(self, seq):
        if seq in self._other:
            return self._other[seq]
        i = self._index(seq)
        if i is None:
            raise KeyError(seq)
        return self._digests[32 * i : 32 * i + 32].hex()

    def get(self, seq, default=None):
        try:
            return self[seq]
        except KeyError:
            return default

    def items(self):
        """``(seq, digest)`` pairs: the packed ones in seq order, then the others."""
        for i, seq in enumerate(self._seqs):
            if seq not in self._other:
                yield seq, self._digests[32 * i : 32 * i + 32].hex()
        yield from self._other.items()

    def __len__(self):
        return sum(1 for _ in self.items())
