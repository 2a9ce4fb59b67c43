"""``scenetune submit``: walk a folder, give every file a verdict, store images by content, queue them.

Nothing outside the submitted folder is read: the walk never follows a symlinked folder; a
symlink is resolved (reading the link, not its target) and rejected if it points outside; FIFOs,
devices and sockets are rejected from ``lstat``, before any open; files are opened with
``O_NOFOLLOW | O_NONBLOCK`` and checked again with ``fstat``, so a file swapped for a link or a
pipe in between is refused too. Caption lists name files inside the folder only (no ``..``, no
absolute paths).

Accepted images are copied to ``uploads/<sha256[:2]>/<sha256>.<ext>`` (content-addressed: the same
bytes are stored once) and queued; see :mod:`scoring.upload_queue` for duplicates.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core import files, settings
from core.errors import NotRetryable, ScenetuneError
from core.runs import RunPartition
from schemas import taxonomy
from scoring import images, upload_queue
from scoring.models import current_spec_or_none

CAPTIONS_FILE = "captions.csv"
MAX_CAPTION_BYTES = 64 * 1024
MAX_CAPTION_CHARS = 2000
MAX_GENRES = 3


class Rejected(Exception):
    """This file is not taken; the message is the one-line reason."""


@dataclass
class Found:
    file_name: str  # inside the folder, '/'-separated, as given
    status: str = "queued"  # queued | rejected (duplicates are decided against the queue)
    reason: str | None = None
    sha256: str | None = None
    stored_path: str | None = None
    size: int | None = None
    caption: str | None = None
    caption_source: str | None = None


@dataclass
class Submission:
    submission_id: str
    counts: dict[str, int]
    rejected: list[tuple[str, str]]  # (file, reason)
    duplicates: list[tuple[str, str]]  # (file, the upload it shares a result with)
    notes: list[str] = field(default_factory=list)  # caption lines that matched nothing or were refused
    inserted: int = 0  # rows written now (0 when the same submission was written before)

    def as_dict(self) -> dict:
        return {"submission_id": self.submission_id, "counts": self.counts, "rejected": self.rejected,
                "duplicates": self.duplicates, "notes": self.notes}


# ---------------------------------------------------------------------------------------------- the walk
def display_name(relative: str) -> str:
    """The name as given, '/'-separated; bytes that are not UTF-8 shown as \\xNN."""
    return os.fsencode(relative).decode("utf-8", "backslashreplace").replace(os.sep, "/")


def _kind(mode: int) -> str | None:
    """Why a non-regular file is refused, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file, not a file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def resolve_entry(root: str, path: str) -> str:
    """The path to open for a walked entry (itself, or an in-folder symlink's target), or :class:`Rejected`."""
    try:
        st = os.lstat(path)
    except OSError as err:
        raise Rejected(f"cannot be read: {err.strerror or err}") from None
    if stat.S_ISLNK(st.st_mode):
        target = os.path.realpath(path)  # reads links only, never the target's contents
        if not _inside(root, target):
            raise Rejected("a symlink that leaves the submitted folder: not followed")
        try:
            target_st = os.stat(target)
        except OSError:
            raise Rejected("a broken symlink") from None
        if stat.S_ISDIR(target_st.st_mode):
            raise Rejected("a symlink to a folder: not followed (submit the folder itself)")
        reason = _kind(target_st.st_mode)
        if reason:
            raise Rejected(f"a symlink to {reason}")
        return target
    reason = _kind(st.st_mode)
    if reason:
        raise Rejected(reason)
    return path


def read_regular(path: str, max_bytes: int) -> bytes:
    """The bytes of a regular file, opened without following a link or blocking on a pipe."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        raise Rejected("cannot be read: permission denied") from None
    except OSError as err:
        if err.errno == 40:  # ELOOP: it became a symlink after the walk looked at it
            raise Rejected("changed into a symlink while being read") from None
        raise Rejected(f"cannot be read: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        reason = _kind(st.st_mode)
        if reason:
            raise Rejected(f"changed while being read: now {reason}")
        if st.st_size > max_bytes:
            raise Rejected(f"too big: {st.st_size:,} bytes is over the {max_bytes // 2**20} MB limit")
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise Rejected(f"too big: over the {max_bytes // 2**20} MB limit")
        return b"".join(chunks)
    except OSError as err:
        raise Rejected(f"cannot be read: {err.strerror or err}") from None
    finally:
        os.close(fd)


def walk(root: Path) -> list[tuple[str, str | None, str | None]]:
    """Every entry under ``root``, sorted: ``(file_name, path to open, None)`` or ``(file_name, None, reason)``."""
    root_s = os.path.realpath(root)
    entries: list[tuple[str, str | None, str | None]] = []

    def unlistable(err: OSError) -> None:
        if err.filename == root_s:
            raise ScenetuneError(f"cannot list {root}: {err.strerror or err}")
        name = display_name(os.path.relpath(err.filename, root_s)) + "/"
        entries.append((name, None, f"folder cannot be listed: {err.strerror or err}"))

    for dirpath, dirnames, filenames in os.walk(root_s, onerror=unlistable, followlinks=False):
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        dirnames[:] = sorted(d for d in dirnames if d not in links)
        for name in sorted(filenames + links):
            path = os.path.join(dirpath, name)
            relative = display_name(os.path.relpath(path, root_s))
            try:
                entries.append((relative, resolve_entry(root_s, path), None))
            except Rejected as why:
                entries.append((relative, None, str(why)))
    return sorted(entries, key=lambda e: e[0])


# ---------------------------------------------------------------------------------------------- captions
def _name_key(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _clean_caption(text: str) -> str | None:
    text = " ".join(text.split())[:MAX_CAPTION_CHARS]
    return text or None


def safe_relative(name: str) -> str | None:
    """A caption list's file name as a '/'-path inside the folder, or None if it points elsewhere."""
    name = name.strip().replace("\\", "/")
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":"):
        return None
    return "/".join(p for p in path.parts if p != ".")


def parse_captions_csv(data: bytes, source: str) -> tuple[dict[str, str], list[str]]:
    """``file,text`` rows -> {name: caption}, and notes for rows that were refused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenetuneError(f"{source} is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    if "file" not in fields or "text" not in fields:
        raise ScenetuneError(f"{source} needs a header line with the columns file,text (found {reader.fieldnames})")
    captions, notes = {}, []
    for line, row in enumerate(reader, start=2):
        raw_name, caption = row.get(fields["file"]) or "", _clean_caption(row.get(fields["text"]) or "")
        name = safe_relative(raw_name)
        if name is None:
            notes.append(f"{source} line {line}: {raw_name!r} is not a file inside the submitted folder: ignored")
        elif caption:
            captions[_name_key(name)] = caption
    return captions, notes


def _sidecar_caption(open_path: str | None, refused: str | None) -> tuple[str | None, str | None]:
    """``(caption, None)`` from a sidecar .txt, or ``(None, why not)``."""
    if refused or open_path is None:
        return None, refused or "not readable"
    try:
        return _clean_caption(read_regular(open_path, MAX_CAPTION_BYTES).decode("utf-8")), None
    except Rejected as why:
        return None, str(why)
    except UnicodeDecodeError:
        return None, "not UTF-8 text"


def _sidecar_names(image_name: str) -> tuple[str, str]:
    stem = image_name.rsplit(".", 1)[0] if "." in image_name.rsplit("/", 1)[-1] else image_name
    return _name_key(stem + ".txt").lower(), _name_key(image_name + ".txt").lower()


# ---------------------------------------------------------------------------------------------- submit
def check_genres(genres: list[str]) -> list[str]:
    """Genie's genres as the catalogue spells them (case-insensitive input); at most three."""
    known = {g.casefold(): g for g in taxonomy.genres()}
    out = []
    for genre in (taxonomy.clean_tag(g) for g in genres):
        if not genre:
            continue
        if genre.casefold() not in known:
            raise ScenetuneError(f"unknown genre {genre!r}: choose from {', '.join(taxonomy.genres())}")
        if known[genre.casefold()] not in out:
            out.append(known[genre.casefold()])
    if len(out) > MAX_GENRES:
        raise ScenetuneError(f"choose at most {MAX_GENRES} genres, got {len(out)}: {', '.join(out)}")
    return out


class InvalidRequest(NotRetryable):
    """A scheduled submission asks for what cannot be: a retry asks for it again."""


def check_request(path: str | None, genres: list[str] | None) -> tuple[Path | None, list[str]]:
    """The folder and genres a score_uploads run was given, checked: the folder must be inside one of
    ``SCENETUNE_UPLOAD_ROOTS`` (resolved, so no ``..`` or symlink leads out), the genres Genie's."""
    try:
        chosen = check_genres(list(genres or []))
    except ScenetuneError as why:
        raise InvalidRequest(str(why)) from None
    if not path:
        if chosen:  # genres are for the photos of a folder: without one they would silently do nothing
            raise InvalidRequest(f"genres {chosen} were given without a path: give the folder of photos they are for")
        return None, chosen
    roots = settings.load().upload_roots
    folder = Path(path).expanduser().resolve()
    if not any(folder == root.resolve() or folder.is_relative_to(root.resolve()) for root in roots):
        raise InvalidRequest(f"{path} is not inside an upload root ({', '.join(map(str, roots))}): "
                             "set SCENETUNE_UPLOAD_ROOTS or move the folder")
    if not folder.is_dir():
        raise InvalidRequest(f"{path} is not a folder")
    return folder, chosen


def input_key(sha256: str, caption: str | None) -> str:
    """What a result is keyed by: the image and its caption (a caption will move the tags)."""
    return hashlib.sha256(f"{sha256}\n{caption or ''}".encode("utf-8")).hexdigest()


def store(data: bytes, probe: images.Probe, sha256: str) -> str:
    """Copy the bytes to the content-addressed store (once); the path relative to SCENETUNE_HOME."""
    s = settings.load()
    target = s.uploads_dir / sha256[:2] / f"{sha256}{probe.extension}"
    if not target.exists():
        files.write_bytes(target, data)
    return target.relative_to(s.home).as_posix()


def submit(path: Path | str, *, moment: RunPartition, genres: list[str] | tuple[str, ...] = (),
           submitter: str | None = None, captions_file: Path | str | None = None) -> Submission:
    """Queue the images of one folder; ``moment`` names the submission (the CLI's now, a DAG's run)."""
    s = settings.load()
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ScenetuneError(f"{path} is not a folder: submit a folder of images")
    genres = check_genres(list(genres))
    submitter = (submitter or "").strip() or None
    notes: list[str] = []

    entries = walk(root)
    captions: dict[str, str] = {}
    caption_source = None
    if captions_file is not None:
        # The user named this file: a link to it is followed; what it is must be a regular file.
        captions_path = Path(captions_file).expanduser().resolve()
        if not captions_path.exists():
            raise ScenetuneError(f"--captions {captions_file}: no such file")
        kind = _kind(captions_path.stat().st_mode)
        if kind:
            raise ScenetuneError(f"--captions {captions_file}: not a regular file ({kind}): give a CSV file")
        try:
            data = read_regular(str(captions_path), MAX_CAPTION_BYTES * 16)
        except Rejected as why:
            raise ScenetuneError(f"--captions {captions_file}: {why}") from None
        captions, notes = parse_captions_csv(data, str(captions_file))
        caption_source = "--captions"
    in_folder_csv = next((e for e in entries if e[0].lower() == CAPTIONS_FILE), None)
    if in_folder_csv is not None:
        entries.remove(in_folder_csv)
        name, open_path, reason = in_folder_csv
        if caption_source:
            notes.append(f"{name} in the folder ignored: --captions {captions_file} given")
        elif reason:
            notes.append(f"{name}: {reason}: ignored")
        else:
            try:
                captions, more = parse_captions_csv(read_regular(open_path, MAX_CAPTION_BYTES * 16), name)
            except Rejected as why:
                captions, more = {}, [f"{name}: {why}: ignored"]
            notes += more
            caption_source = CAPTIONS_FILE

    found: list[Found] = []
    sidecars: dict[str, tuple[str, str | None, str | None]] = {}
    for name, open_path, reason in entries:
        if name.lower().endswith(".txt"):
            sidecars[_name_key(name).lower()] = (name, open_path, reason)
            continue
        item = Found(name)
        found.append(item)
        if reason:
            item.status, item.reason = "rejected", reason
            continue
        try:
            data = read_regular(open_path, s.upload_max_bytes)
            probe = images.probe(data, s.upload_max_pixels)
        except (Rejected, images.Unreadable) as why:
            item.status, item.reason = "rejected", str(why)
            continue
        item.sha256 = hashlib.sha256(data).hexdigest()
        item.size = len(data)
        item.stored_path = store(data, probe, item.sha256)

    used_sidecars: set[str] = set()
    for item in found:
        if item.status != "queued":
            continue
        caption = captions.get(_name_key(item.file_name))
        if caption:
            item.caption, item.caption_source = caption, caption_source
        for key in _sidecar_names(item.file_name):
            if key not in sidecars:
                continue
            used_sidecars.add(key)
            name, open_path, reason = sidecars[key]
            if item.caption:
                notes.append(f"{name}: {item.file_name} has a caption in {caption_source}: the sidecar is ignored")
                continue
            caption, problem = _sidecar_caption(open_path, reason)
            if problem:
                notes.append(f"{name}: {problem}: caption ignored")
            elif caption:
                item.caption, item.caption_source = caption, "sidecar"
    for key, (name, _, reason) in sorted(sidecars.items()):
        if key not in used_sidecars:
            found.append(Found(name, "rejected", reason or "a .txt file that is no image's caption"
                               " (name it like its image: photo.jpg -> photo.txt)"))
    taken = {_name_key(i.file_name) for i in found if i.status == "queued"}
    for name in sorted(set(captions) - taken):
        notes.append(f"caption for {name}: no such image in the folder")
    found.sort(key=lambda i: i.file_name)

    manifest = json.dumps([[i.file_name, i.sha256 or i.reason, i.caption] for i in found] + [genres, submitter],
                          ensure_ascii=False)
    submission_id = f"{moment.run_key}-{hashlib.sha256(manifest.encode('utf-8')).hexdigest()[:8]}"
    return _queue(submission_id, found, genres, submitter, notes)


def _queue(submission_id: str, found: list[Found], genres: list[str], submitter: str | None,
           notes: list[str]) -> Submission:
    from scoring.catalogue import current_version

    spec = current_spec_or_none()
    model_version = spec.model_version if spec else None
    # What a scoring run now records: the catalogue its songs come from, else (none yet) the model's.
    catalogue_version = current_version() or (spec.catalogue_version if spec else None)
    rows, duplicates = [], []
    with upload_queue.queue_lock():
        keys = {i.file_name: input_key(i.sha256, i.caption) for i in found if i.status == "queued"}
        originals = upload_queue.originals_for(keys.values(), model_version, catalogue_version, genres)
        originals = {k: v for k, v in originals.items() if v["submission_id"] != submission_id}  # a re-run
        for item in found:
            key = keys.get(item.file_name)
            row = dict(
                submission_id=submission_id, file_name=item.file_name, status=item.status, reason=item.reason,
                sha256=item.sha256, input_key=key, stored_path=item.stored_path, bytes=item.size,
                caption=item.caption, caption_source=item.caption_source, genres=genres, submitter=submitter,
                duplicate_of=None, scoring_run_key=None, attempts=0, model_version=None, catalogue_version=None,
                width=None, height=None, format=None,
            )
            original = originals.get(key) if key else None
            if original is not None:
                row.update(status="duplicate", duplicate_of=upload_queue.upload_id(original),
                           reason=f"same image and caption as {upload_queue.upload_id(original)}")
                if original["status"] == "scored":
                    row.update({k: original[k] for k in ("model_version", "catalogue_version", "width", "height",
                                                         "format")})
                duplicates.append((item.file_name, row["duplicate_of"]))
            elif key:
                originals[key] = row  # a second copy in this submission shares the first one's result
            rows.append(row)
        inserted = upload_queue.insert(rows)
    counts = {status: sum(r["status"] == status for r in rows) for status in ("queued", "duplicate", "rejected")}
    rejected = [(r["file_name"], r["reason"]) for r in rows if r["status"] == "rejected"]
    return Submission(submission_id, counts, rejected, duplicates, notes, inserted)
