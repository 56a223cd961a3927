"""The records of a CSV file whose bytes its content check needs, kept as one pass finds
them: the header and first data record, the last ones, a thinned evenly spread sample,
and with a chunk size the first and last record of every chunk (chunks that start at a
given data record, for a reader asked for chunks of another size). A chunk's records are
kept as spans (where they lie in the text, :class:`Spans`), not bytes: with
``chunksize=1`` every record is one, and their bytes held the whole file in memory; a
chunk's are read when it is checked (:mod:`._csv_spans`)."""

from dataclasses import dataclass, field

import numpy as np

#: Sampled records kept for the content check (before thinning doubles the stride).
N_SAMPLED = 64


@dataclass
class _Kept:
    """The records whose bytes the content check needs."""

    n_keep: int  # records 0 .. n_keep - 1: the header and the first data record
    last_kept: int  # the last records (before a footer)
    every: int = 0  # with a chunk size: the first and last record of every chunk
    phase: int = 0  # the chunks start at data records phase, phase + every, ...
    wanted: tuple = ()  # data records kept besides (a chunk of another size)
    stride: int = 1  # every stride-th record, thinned as the file grows
    samples: dict = field(default_factory=dict)
    recent: dict = field(default_factory=dict)
    bounds: "Spans" = field(default_factory=lambda: Spans())

    def add(self, first, k, spans, text_of):
        """Keep what is needed of records ``first .. first + k - 1``.

        ``spans(js)`` gives the byte spans (starts, ends) of the batch's records ``js``;
        ``text_of(start, end)`` their bytes.
        """
        # Thin first: the stride keeps at most 2 * N_SAMPLED records, spread evenly.
        while (first + k) // self.stride > 2 * N_SAMPLED:
            self.stride *= 2
            for g in [g for g in self.samples if g >= self.n_keep and g % self.stride]:
                del self.samples[g]
        # Positions in the batch, without a pass over all k (a counted run is long).
        sampled = {*range(min(max(self.n_keep - first, 0), k))}
        sampled.update(range((-first) % self.stride, k, self.stride))
        last = {*range(max(k - self.last_kept, 0), k)}
        if self.every or self.wanted:  # (neither for a whole file read at once)
            self._add_bounds(first, k, spans)
        picks = np.array(sorted(sampled | last), dtype=np.int64)
        starts, ends = spans(picks)
        for q, j in enumerate(picks.tolist()):
            text = text_of(int(starts[q]), int(ends[q]))
            if j in sampled:
                self.samples[first + j] = text
            if j in last:
                self.recent[first + j] = text
        for old in [r for r in self.recent if r < first + k - self.last_kept]:
            del self.recent[old]

    def _add_bounds(self, first, k, spans):
        """Keep the spans of the batch's records that start or end a chunk, or are wanted."""
        bounds = []
        if self.every:
            # data records start at n_keep - 1: chunk c holds data records
            # phase + c * every ..
            data = self.n_keep - 1
            for end in (0, self.every - 1):
                at = (data + self.phase + end - first) % self.every
                js = np.arange(at, k, self.every, dtype=np.int64)
                bounds.append(js[first + js >= data])
        bounds.append(
            np.array([j for w in self.wanted if 0 <= (j := self.n_keep - 1 + w - first) < k])
        )
        bounds = np.unique(np.concatenate(bounds).astype(np.int64))
        if bounds.size:
            self.bounds.add(first + bounds, *spans(bounds))


class Spans:
    """Record index -> ``(start, end)``, where its bytes lie in the text the scan read
    (decompressed, re-encoded as UTF-8), 24 bytes a record: a dict of bytes cost a
    hundred and more."""

    def __init__(self):
        self._parts = []
        self._joined = None

    def add(self, records, starts, ends):
        """Keep the spans of ``records`` (arrays of one length)."""
        self._parts.append(
            (
                np.asarray(records, np.int64),
                np.asarray(starts, np.int64),
                np.asarray(ends, np.int64),
            )
        )
        self._joined = None

    def update(self, other):
        """Keep ``other``'s spans too (a mapping of record -> span)."""
        items = list(other.items())
        if items:
            records, spans = zip(*items)
            starts, ends = zip(*spans)
            self.add(records, starts, ends)

    def _arrays(self):
        if self._joined is None:
            parts = self._parts or [(np.zeros(0, np.int64),) * 3]
            records, starts, ends = (np.concatenate(p) for p in zip(*parts))
            records, first = np.unique(records, return_index=True)
            self._joined = records, starts[first], ends[first]
            self._parts = [self._joined]
        return self._joined

    def get(self, record):
        """``(start, end)`` of ``record``, or None."""
        records, starts, ends = self._arrays()
        at = int(np.searchsorted(records, record))
        if at < records.size and records[at] == record:
            return int(starts[at]), int(ends[at])
        return None

    def items(self):
        records, starts, ends = self._arrays()
        return zip(records.tolist(), zip(starts.tolist(), ends.tolist()))

    def __len__(self):
        return self._arrays()[0].size
