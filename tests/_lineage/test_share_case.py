"""An SMB share named in another case is the same share: one file to compare, show and
name, however its URI spells the share; the rest of the path, and POSIX paths, keep
their case."""

import ntpath
from pathlib import PurePosixPath, PureWindowsPath

from hypothesis import assume, given
from hypothesis import strategies as st

from sktraceprop._lineage._uri_path import (
    host_and_path,
    path_of_uri,
    same_file_uri,
    shown_path_of_uri,
    uri_of_path,
)
from sktraceprop.exporters._column_lineage import _Named, dataset_name


def _one_to_one(c):
    # a letter whose case pair is one letter each way (not ß -> SS, not the Kelvin sign)
    other = c.swapcase()
    return len(other) == 1 and other != c and other.swapcase() == c


# a Windows file name: no control character, none of <>:"/\|?*, no lone surrogate
_NAME = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='<>:"/\\|?*'),
    min_size=1,
    max_size=8,
).filter(lambda name: name.strip(" .") == name and name not in (".", ".."))
_HOSTS = st.sampled_from(["server", "fs.example.org"])


def _cased(text, flips):
    return "".join(c.swapcase() if f and _one_to_one(c) else c for c, f in zip(text, flips))


def _uris(host, share, names):
    path = PureWindowsPath(f"\\\\{host}\\{share}\\", *names)
    uri = path.as_uri()
    return path, [uri, uri.replace("file://", "file:////", 1)]


@given(
    share=_NAME,
    names=st.lists(_NAME, min_size=1, max_size=3),
    host=_HOSTS,
    flips=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_one_share_in_either_case_is_one_file(share, names, host, flips):
    # Truth: Windows compares share names without case (ntpath.normcase of the share
    # folds it; \\server\Share and \\server\share open one share). Before, the URIs
    # file://server/Share/a.csv and file://server/share/a.csv were two files: two
    # labels in the report, two OpenLineage datasets, two files to erase by source_id.
    other = _cased(share, flips)
    assume(other != share)
    assert ntpath.normcase(other) == ntpath.normcase(share)
    one, uris = _uris(host, share, names)
    two, more = _uris(host, other, names)
    uris += more
    assert len({same_file_uri(u) for u in uris}) == 1
    assert len({shown_path_of_uri(u) for u in uris}) == 1
    assert len({host_and_path(u) for u in uris}) == 1
    assert len({dataset_name(_Named(u, "x"), "ns") for u in uris}) == 1
    # new records name the share one way, which is what old ones compare as
    assert uri_of_path(one) == uri_of_path(two) == same_file_uri(uris[0])
    # the share is opened as written (Windows takes either)
    assert PureWindowsPath(path_of_uri(uris[2], flavour=ntpath)) == two


@given(
    share=_NAME,
    names=st.lists(_NAME, min_size=1, max_size=3),
    host=_HOSTS,
    flips=st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_the_path_after_the_share_keeps_its_case(share, names, host, flips):
    # a folder can be case-sensitive on Windows: only the share's case is folded
    other = [_cased(n, flips[8 * i :]) for i, n in enumerate(names)]
    assume(other != names)
    _, one = _uris(host, share, names)
    _, two = _uris(host, share, other)
    assert same_file_uri(one[0]) != same_file_uri(two[0])
    assert shown_path_of_uri(one[0]) != shown_path_of_uri(two[0])
    assert host_and_path(one[1]) != host_and_path(two[1])


@given(
    names=st.lists(_NAME, min_size=1, max_size=3),
    flips=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_a_posix_folder_is_no_share(names, flips):
    # /Share/a.csv and /share/a.csv are two files: a local path has no share
    other = [_cased(names[0], flips), *names[1:]]
    assume(other != names)
    one, two = (PurePosixPath("/", *n).as_uri() for n in (names, other))
    assert same_file_uri(one) != same_file_uri(two)
    assert shown_path_of_uri(one) != shown_path_of_uri(two)
    assert uri_of_path(PurePosixPath("/", *names)) == one


def test_letters_windows_keeps_apart_stay_apart():
    # the Kelvin sign lowers to k as K does, but Windows upper-cases each character:
    # K and the Kelvin sign are two shares; Straße lowers to itself (ß has no one-letter
    # upper case), STRASSE to strasse: two shares
    for a, b in (("\u212a", "K"), ("Straße", "STRASSE"), ("\u0130", "i")):
        one = PureWindowsPath(f"\\\\server\\{a}\\a.csv").as_uri()
        two = PureWindowsPath(f"\\\\server\\{b}\\a.csv").as_uri()
        assert same_file_uri(one) != same_file_uri(two)
        assert shown_path_of_uri(one) != shown_path_of_uri(two)


def test_a_share_named_in_percent_encoded_capitals():
    # as_uri writes É as %C3%89; its lower case é is %C3%A9: one share
    assert same_file_uri("file://server/%C3%89t%C3%A9/a.csv") == same_file_uri(
        "file://SERVER/%c3%a9T%C3%89/a.csv"
    )
    assert shown_path_of_uri("file://server/%C3%89t%C3%A9/a.csv") == "//server/été/a.csv"
    # a share's bytes are folded, never its segments: an encoded slash stays in the share
    assert same_file_uri("file://server/A%2Fb/c.csv") != same_file_uri("file://server/a/b/c.csv")
