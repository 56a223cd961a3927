"""The path a source URI names, and its shown text: Windows drives and shares, hosts,
and non-UTF-8 bytes."""

import hashlib
import ntpath
import os
import posixpath
from nturl2path import url2pathname
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sktraceprop._lineage._file_state import file_now
from sktraceprop._lineage._uri_path import (
    NotALocalPath,
    host_and_path,
    path_of_uri,
    shown_path_of_uri,
    uri_of_path,
)

# a Windows file name: no control character, none of <>:"/\|?*, no lone surrogate
_NAME = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='<>:"/\\|?*'),
    min_size=1,
    max_size=8,
).filter(lambda name: name.strip(" .") == name and name not in (".", ".."))


@given(
    drive=st.sampled_from("CDcz"),
    names=st.lists(_NAME, min_size=1, max_size=3),
    host=st.sampled_from([None, "server", "fs.example.org"]),
)
def test_a_windows_path_is_decoded_from_its_uri_as_windows_names_it(drive, names, host):
    # Truth: the path as_uri was given. Before, /C:/data/a.csv (no Windows path: the
    # file was said missing) and, for a share, /share/a.csv (another file).
    path = PureWindowsPath(f"\\\\{host}\\share\\" if host else f"{drive}:\\", *names)
    uri = path.as_uri()
    got = path_of_uri(uri, flavour=ntpath)
    assert got == (str(path) if host else str(path)[0].upper() + str(path)[1:])
    assert PureWindowsPath(got) == path
    # the standard library's Windows decoder agrees (it writes the drive upper case)
    assert PureWindowsPath(url2pathname(uri.removeprefix("file:"))) == path


@pytest.mark.parametrize(
    "uri, path",
    [
        ("file:///C|/data/a.csv", "C:\\data\\a.csv"),  # an older spelling of the drive
        ("file://localhost/C:/data/a%20b.csv", "C:\\data\\a b.csv"),
        ("file:////server/share/a.csv", "\\\\server\\share\\a.csv"),
        ("file:///C:", "C:\\"),
        ("file:///data/a.csv", "\\data\\a.csv"),  # no drive: the current one's
    ],
)
def test_other_spellings_of_windows_paths(uri, path):
    assert path_of_uri(uri, flavour=ntpath) == path


def test_a_name_that_is_not_utf8_is_no_windows_path():
    # a POSIX latin-1 name traced on Windows: said so, not a UnicodeDecodeError
    with pytest.raises(NotALocalPath, match="not UTF-8"):
        path_of_uri("file:///data/caf%E9.csv", flavour=ntpath)


def test_a_uri_naming_another_host_names_no_local_path(tmp_path):
    # file://server/share/a.csv once named /share/a.csv here: a local file of that
    # path was hashed and said "unchanged" (or "changed") of another machine's file
    data = b"a,y\n1,0\n"
    (tmp_path / "a.csv").write_bytes(data)
    local = (tmp_path / "a.csv").resolve().as_uri()
    elsewhere = local.replace("file://", "file://server", 1)
    with pytest.raises(NotALocalPath, match="host 'server'"):
        path_of_uri(elsewhere, flavour=posixpath)
    assert file_now(local, hashlib.sha256(data).hexdigest())[0] == "unchanged"
    if os.name != "nt":
        state, now, detail, _ = file_now(elsewhere, hashlib.sha256(data).hexdigest())
        assert (state, now) == ("unreadable", None) and "server" in detail
    # localhost is this machine
    same = local.replace("file://", "file://localhost", 1)
    assert path_of_uri(same, flavour=posixpath) == str((tmp_path / "a.csv").resolve())


@given(
    st.binary(min_size=1, max_size=12).filter(
        lambda b: b"/" not in b and b"\0" not in b and b != b"."  # ("/d/." is "/d")
    )
)
def test_a_posix_name_is_its_bytes(name):
    # Truth: the bytes as_uri percent-encoded, whatever their encoding
    path = PurePosixPath("/d", os.fsdecode(name))
    assert os.fsencode(path_of_uri(path.as_uri(), flavour=posixpath)) == b"/d/" + name


_HOSTS = st.sampled_from(["server", "fs.example.org", "other"])


@given(
    drive=st.sampled_from("CDcz"),
    names=st.lists(_NAME, min_size=1, max_size=3),
    host=st.none() | _HOSTS,
)
def test_a_windows_path_is_shown_as_windows_names_it(drive, names, host):
    # Truth: the path as_uri was given, with forward slashes. Before, C:\data\a.csv was
    # shown /C:/data/a.csv and the share \\server\share\a.csv /share/a.csv (its host lost)
    path = PureWindowsPath(f"\\\\{host}\\share\\" if host else f"{drive}:\\", *names)
    uri = path.as_uri()
    # (one drive c: and C:: shown as Windows writes it, upper case)
    shown = path.as_posix() if host else path.as_posix()[0].upper() + path.as_posix()[1:]
    assert shown_path_of_uri(uri) == shown
    # the form path_of_uri opens on Windows, with forward slashes
    assert shown_path_of_uri(uri) == PureWindowsPath(path_of_uri(uri, flavour=ntpath)).as_posix()


@given(
    names=st.lists(_NAME, min_size=1, max_size=3),
    hosts=st.lists(_HOSTS, min_size=2, max_size=2, unique=True),
)
def test_two_hosts_files_of_one_path_are_shown_apart(names, hosts):
    # one path on two hosts, and on this machine: three files, three texts (before, one)
    path = "/" + "/".join(quote(name) for name in names)
    uris = [f"file://{host}{path}" for host in hosts] + [f"file://{path}"]
    shown = [shown_path_of_uri(uri) for uri in uris]
    assert len(set(shown)) == 3
    # the path on its host alone, for a name whose namespace holds the host: the local
    # path's text, but for the share's case (a share's name is case-insensitive)
    on_hosts = [shown_path_of_uri(uri, host=False) for uri in uris[:2]]
    assert on_hosts[0] == on_hosts[1]
    share, _, rest = on_hosts[0][1:].partition("/")
    local_share, _, local_rest = shown[-1][1:].partition("/")
    assert rest == local_rest and ntpath.normcase(share) == ntpath.normcase(local_share)
    assert shown_path_of_uri(uris[2], host=False) == shown[-1]


@pytest.mark.parametrize(
    "uri, shown",
    [
        ("file:///C|/data/a.csv", "C:/data/a.csv"),
        ("file://localhost/C:/data/a%20b.csv", "C:/data/a b.csv"),
        ("file:///C:", "C:/"),
        ("file://LOCALHOST/data/a.csv", "/data/a.csv"),
        ("file:////server/share/a.csv", "//server/share/a.csv"),  # the share, on Windows
        ("file:///data/caf%E9.csv", "/data/caf\\xe9.csv"),
    ],
)
def test_other_spellings_are_shown_as_the_file_they_open(uri, shown):
    assert shown_path_of_uri(uri) == shown


@given(st.lists(_NAME, min_size=1, max_size=3), st.sampled_from(["", "c:", "C:", "z|"]))
def test_a_posix_path_is_shown_as_it_is(names, root):
    # a root folder named like a drive ("c:") is no drive: as_uri writes it /c%3A, a
    # drive /c: (before, it was shown "c:/...", a drive, and folded with "C:" below)
    path = PurePosixPath("/", *([root] if root else []), *names)
    assert shown_path_of_uri(path.as_uri()) == str(path)


def _cased(text, flips):
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips))


@given(
    names=st.lists(_NAME, min_size=1, max_size=3),
    host=_HOSTS,
    flips=st.lists(st.booleans(), min_size=14, max_size=14),
)
def test_one_share_in_every_spelling_is_one_file(names, host, flips):
    # Truth: RFC 8089 E.3.2 (file:////server/share is the share \\server\share) and
    # RFC 3986 3.2.2 (a host's case does not matter). Before, file:////server/share/a.csv
    # was no host's file: its path opened /server/share/a.csv here (another file), its
    # OpenLineage name was the local //server/share/a.csv; file://SERVER/ was shown
    # apart from file://server/.
    share = PureWindowsPath(f"\\\\{host}\\share\\", *names)
    uri = share.as_uri()
    spellings = [
        uri,
        uri.replace("file://", "file:////", 1),  # the empty authority of RFC 8089
        uri.replace("file://", "file://///", 1),  # (and its form with one more slash)
        uri.replace(host, _cased(host, flips), 1),
        uri.replace("file://", "file:////", 1).replace(host, _cased(host, flips), 1),
    ]
    assert {shown_path_of_uri(u) for u in spellings} == {share.as_posix()}
    assert {host_and_path(u) for u in spellings} == {(host, shown_path_of_uri(uri, host=False))}
    for u in spellings:
        assert PureWindowsPath(path_of_uri(u, flavour=ntpath)) == share
        with pytest.raises(NotALocalPath, match="names a file on the host"):
            path_of_uri(u, flavour=posixpath)


def test_a_share_with_an_empty_authority_is_not_this_machines_file(tmp_path):
    # file:////tmp/x/a.csv is the share x on host tmp: the local /tmp/x/a.csv, which
    # its path opened, was hashed and said "unchanged" of it
    data = b"a,y\n1,0\n"
    (tmp_path / "a.csv").write_bytes(data)
    local = (tmp_path / "a.csv").resolve().as_uri()
    share = local.replace("file://", "file:///", 1)
    assert urlsplit(share).path.startswith("//")
    if os.name != "nt":
        state, now, detail, _ = file_now(share, hashlib.sha256(data).hexdigest())
        assert (state, now) == ("unreadable", None) and "host" in detail
    assert file_now(local, hashlib.sha256(data).hexdigest())[0] == "unchanged"


@given(
    names=st.lists(_NAME, min_size=1, max_size=3),
    flips=st.lists(st.booleans(), min_size=1, max_size=30),
    drive=st.sampled_from("Cc"),
)
def test_posix_paths_that_differ_in_case_stay_apart(names, flips, drive):
    # POSIX names are case-sensitive, a root folder "c:" and "C:" included: a drive's
    # case is not folded (two files would share one text and one dataset name)
    for first in ([], [f"{drive}:"]):
        path = "/".join([*first, *names])
        other = _cased(path, flips)
        assume(other != path)
        uris = [PurePosixPath("/", *p.split("/")).as_uri() for p in (path, other)]
        assert shown_path_of_uri(uris[0]) != shown_path_of_uri(uris[1])
        assert host_and_path(uris[0]) != host_and_path(uris[1])


class _Resolved(PureWindowsPath):
    """A Windows path that resolves to itself (no Windows machine to resolve it on)."""

    def resolve(self):
        return self


@given(
    drive=st.sampled_from("cCdZ"),
    names=st.lists(_NAME, min_size=1, max_size=3),
    flips=st.lists(st.booleans(), min_size=30, max_size=30),
    host=st.none() | _HOSTS,
)
def test_one_windows_drive_in_either_case_is_one_uri_and_one_name(drive, names, flips, host):
    # Truth: Windows names one drive c: and C: (ntpath.normcase of the drive) and one
    # host Server and server. Before, as_uri kept the letter as typed: file:///c:/... and
    # file:///C:/... were two sources, two OpenLineage datasets, two labels.
    from sktraceprop._lineage._io import file_uri
    from sktraceprop.exporters._column_lineage import _Named, dataset_name

    root = f"\\\\{host}\\share\\" if host else f"{drive}:\\"
    other = _cased(root[:-7], flips) + root[-7:] if host else drive.swapcase() + ":\\"
    assume(other != root)
    one, two = _Resolved(root, *names), _Resolved(other, *names)
    assert ntpath.normcase(one.drive) == ntpath.normcase(two.drive)
    assert file_uri(one) == file_uri(two) == uri_of_path(one)
    assert PureWindowsPath(path_of_uri(file_uri(one), flavour=ntpath)) == one
    # records written before (as_uri as typed) show and name one file too
    raw = [one.as_uri(), two.as_uri()]
    assert shown_path_of_uri(raw[0]) == shown_path_of_uri(raw[1])
    assert dataset_name(_Named(raw[0], "x"), "ns") == dataset_name(_Named(raw[1], "x"), "ns")
    if not host:
        assert shown_path_of_uri(raw[0]) == drive.upper() + ":/" + "/".join(names)


@given(
    names=st.lists(_NAME, min_size=1, max_size=3),
    flips=st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_the_rest_of_a_windows_path_keeps_its_case(names, flips):
    # a folder can be case-sensitive on Windows (setCaseSensitiveInfo): only the drive
    # letter is folded, Data and data stay two files
    path = "\\".join(names)
    other = _cased(path, flips)
    assume(other != path)
    one, two = PureWindowsPath("C:\\", path), PureWindowsPath("c:\\", other)
    assert uri_of_path(one) != uri_of_path(two)
    assert shown_path_of_uri(one.as_uri()) != shown_path_of_uri(two.as_uri())
    # a POSIX path is its bytes: no drive to fold
    posix = PurePosixPath("/c:", *names)
    assert uri_of_path(posix) == posix.as_uri()
