"""The submit walk: what it opens, what it refuses (without opening), and how it names files."""

from __future__ import annotations

import os
import socket

import pytest

from core.errors import ScenetuneError
from scoring.uploads import Rejected, check_genres, parse_captions_csv, read_regular, safe_relative, walk


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "photos"
    (root / "Sub Folder").mkdir(parents=True)
    (root / "a.jpg").write_bytes(b"a")
    (root / "Sub Folder" / "여름 바다 사진.JPEG").write_bytes(b"b")
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"outside")
    (tmp_path / "elsewhere").mkdir()
    os.symlink(secret, root / "escape.jpg")
    os.symlink("../secret.jpg", root / "relative_escape.jpg")
    os.symlink(tmp_path / "elsewhere", root / "folder_link")
    os.symlink("a.jpg", root / "inside_link.jpg")
    os.symlink("no_such_file.jpg", root / "broken.jpg")
    os.mkfifo(root / "pipe.jpg")
    return root


def test_walk_gives_every_entry_a_path_or_a_reason(folder):
    entries = {name: (path, reason) for name, path, reason in walk(folder)}
    assert entries["a.jpg"] == (str(folder / "a.jpg"), None)
    assert entries["Sub Folder/여름 바다 사진.JPEG"][1] is None
    assert entries["inside_link.jpg"] == (str(folder / "a.jpg"), None)  # a link inside the folder is its target
    assert entries["escape.jpg"] == (None, "a symlink that leaves the submitted folder: not followed")
    assert entries["relative_escape.jpg"][1] == "a symlink that leaves the submitted folder: not followed"
    assert entries["folder_link"][1] == "a symlink that leaves the submitted folder: not followed"
    assert entries["broken.jpg"][1] == "a broken symlink"
    assert entries["pipe.jpg"] == (None, "a FIFO (named pipe), not a file")
    assert list(entries) == sorted(entries)


def test_a_symlinked_folder_inside_is_not_followed(folder):
    os.symlink(folder / "Sub Folder", folder / "again")
    entries = {name: reason for name, _, reason in walk(folder)}
    assert entries["again"].startswith("a symlink to a folder: not followed")
    assert not any(name.startswith("again/") for name in entries)


def test_sockets_and_devices_are_refused_by_kind(folder, tmp_path):
    short = tmp_path / "s"  # unix socket paths are short
    short.mkdir()
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(short / "sock.jpg"))
    try:
        assert walk(short) == [("sock.jpg", None, "a socket, not a file")]
    finally:
        server.close()
    if os.path.exists("/dev/null"):
        os.symlink("/dev/null", folder / "null.jpg")  # leaves the folder: refused before anything else
        assert dict((n, r) for n, _, r in walk(folder))["null.jpg"].startswith("a symlink that leaves")


def test_read_regular_refuses_a_pipe_without_blocking_and_a_swapped_in_link(folder):
    with pytest.raises(Rejected, match="FIFO"):
        read_regular(str(folder / "pipe.jpg"), 1000)  # O_NONBLOCK: no writer needed to return
    with pytest.raises(Rejected, match="symlink"):
        read_regular(str(folder / "inside_link.jpg"), 1000)  # O_NOFOLLOW
    with pytest.raises(Rejected, match="too big"):
        (folder / "big.jpg").write_bytes(b"x" * 2048)
        read_regular(str(folder / "big.jpg"), 1024)


def test_names_that_are_not_utf8_are_shown_escaped(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    with open(os.path.join(os.fsencode(root), b"caf\xe9.jpg"), "wb") as handle:
        handle.write(b"x")
    ((name, path, reason),) = walk(root)
    assert name == "caf\\xe9.jpg" and reason is None and os.path.exists(path)


def test_caption_lists_name_files_inside_the_folder_only():
    data = ("\ufefffile,text\n"
            "sub/a.jpg,\"rain, city lights\"\n"
            "../../etc/passwd.jpg,nope\n"
            "/abs/b.jpg,nope\n"
            "C:\\x.jpg,nope\n"
            "./c.jpg,  coffee   in the morning  \n"
            "sub\\d.JPG,backslashes work\n").encode()
    captions, notes = parse_captions_csv(data, "captions.csv")
    assert captions == {"sub/a.jpg": "rain, city lights", "c.jpg": "coffee in the morning",
                        "sub/d.JPG": "backslashes work"}
    assert len(notes) == 3 and all("not a file inside the submitted folder" in n for n in notes)
    assert safe_relative("a/../b.jpg") is None and safe_relative("..hidden.jpg") == "..hidden.jpg"
    with pytest.raises(ScenetuneError, match="file,text"):
        parse_captions_csv(b"name,caption\nx,y\n", "c.csv")


def test_genres_are_genies_at_most_three():
    assert check_genres(["발라드", "pop", "POP", " 인디 "]) == ["발라드", "POP", "인디"]
    with pytest.raises(ScenetuneError, match="unknown genre 'polka'"):
        check_genres(["polka"])
    with pytest.raises(ScenetuneError, match="at most 3"):
        check_genres(["발라드", "POP", "인디", "재즈"])


def test_a_dag_request_must_name_a_folder_inside_an_upload_root_and_genie_genres(tmp_path, monkeypatch):
    from scoring.uploads import InvalidRequest, check_request

    root = tmp_path / "inbox"
    (root / "a").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("SCENETUNE_UPLOAD_ROOTS", str(root))
    assert check_request(str(root / "a"), ["pop"]) == ((root / "a").resolve(), ["POP"])
    assert check_request(None, []) == (None, [])
    for path in (str(tmp_path / "elsewhere"), str(root / "a" / ".." / ".."), "/etc"):
        with pytest.raises(InvalidRequest, match="not inside an upload root"):
            check_request(path, [])
    with pytest.raises(InvalidRequest, match="unknown genre"):
        check_request(str(root / "a"), ["디스코"])
    with pytest.raises(InvalidRequest, match="is not a folder"):  # a path that is missing
        check_request(str(root / "gone"), [])
    with pytest.raises(InvalidRequest, match="without a path"):  # genres for no photos at all
        check_request(None, ["POP"])
