"""Import the Kakao Arena Melon Playlist Continuation dataset into bronze, as a run like a crawl.

    scenetune import melon DIR          # or the refresh's import_melon task, with SCENETUNE_MELON_DIR

Reads the dataset's own files as published: ``train.json``, ``val.json``,
``test.json`` (playlists ``{id, plylst_title, tags, songs, like_cnt,
updt_date}``), ``song_meta.json`` (songs ``{id, song_name,
artist_name_basket, artist_id_basket, album_name, album_id, issue_date,
song_gn_gnr_basket, song_gn_dtl_gnr_basket}``) and ``genre_gn_all.json``
(``{code: name}``). The files are hundreds of MB: each is streamed record by
record (ijson), rows are staged to Parquet in batches and committed to Delta
from there, so memory stays bounded by the batch size and the id sets.

Rows land in the crawl's bronze tables (playlists, playlist_songs,
songs_info) with ``source = 'melon'`` and Melon's own ids, in the run's
partition; the run's books go to ``bronze.import_runs`` and every record or
value set aside to ``bronze.import_quarantine`` with its reason. Only what
is new or changed since earlier runs is loaded (a record's content hash), so
re-running the same files loads nothing, and re-running the same run
replaces exactly its own rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core import settings as scenetune_settings
from core.errors import ConfigurationError
from core.runs import RunPartition
from crawlers.normalize import clean_tags, clean_text, content_hash
from schemas import bronze
from schemas.table import Table
from warehouse import delta

log = logging.getLogger(__name__)

SOURCE = bronze.MELON
PLAYLIST_FILES = ("train.json", "val.json", "test.json")
SONG_META = "song_meta.json"
GENRES = "genre_gn_all.json"
BATCH_ROWS = 100_000  # rows staged per Parquet write: what bounds the import's memory
RAW_CHARS = 2_000
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)  # Melon opened in 2004: an older updt_date is no date
UPDT_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")
# What an import writes, in commit order: the rows first, the books last.
TABLES = (bronze.SONGS_INFO, bronze.PLAYLIST_SONGS, bronze.PLAYLISTS, bronze.IMPORT_QUARANTINE, bronze.IMPORT_RUNS)


class MelonImportError(ConfigurationError):
    """The dataset cannot be imported at all (a missing folder or required file); one line."""


@dataclass
class Imported:
    run_key: str
    bronze_versions: dict[str, int]
    stats: dict[str, Any]

    def summary(self) -> str:
        s = self.stats
        return (f"melon import {self.run_key}: {s['status']}; playlists {s['playlists_loaded']:,} loaded, "
                f"{s['playlists_unchanged']:,} unchanged, {s['playlists_quarantined']:,} quarantined "
                f"(of {s['playlists_read']:,} read; {s['playlist_songs_loaded']:,} song rows, "
                f"{s['song_refs_dropped']:,} unknown song ids dropped); songs {s['songs_loaded']:,} loaded, "
                f"{s['songs_unchanged']:,} unchanged, {s['songs_quarantined']:,} quarantined "
                f"(of {s['songs_read']:,}); {s['genre_codes_dropped']:,} unknown genre codes, "
                f"{s['release_dates_dropped']:,} bad issue dates; {s['duration_s']:.1f} s"
                + (f" - {s['stop_reason']}" if s["stop_reason"] else ""))


class _Stage:
    """Rows of one table staged to a Parquet file in batches."""

    def __init__(self, table: Table, path: Path) -> None:
        self.table, self.path, self.rows, self.count = table, path, [], 0
        self._writer = pq.ParquetWriter(path, table.arrow_schema())

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self._writer.write_table(pa.Table.from_pylist(self.rows, schema=self.table.arrow_schema()))
            self.count += len(self.rows)
            self.rows = []

    def close(self) -> None:
        """Write what is left and close the file (again: nothing to do); then :meth:`batches` reads it."""
        if self._writer is not None:
            self.flush()
            self._writer.close()
            self._writer = None

    def batches(self) -> pa.RecordBatchReader:
        return pq.ParquetFile(self.path).iter_batches(batch_size=BATCH_ROWS)


@dataclass
class _Books:
    counts: dict[str, int] = field(default_factory=lambda: {c.name: 0 for c in bronze.IMPORT_RUNS.columns
                                                            if c.type == "int64"})
    file_faults: list[str] = field(default_factory=list)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n


def _raw(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)[:RAW_CHARS]


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _stream(path: Path, prefix: str) -> Iterator[Any]:
    """Records of a JSON array (``prefix`` "item") or an object's values (""): one at a time."""
    import ijson

    with path.open("rb") as f:
        head = f.read(64).lstrip()
        want = b"[" if prefix == "item" else b"{"
        if not head.startswith(want):
            kind = "array" if prefix == "item" else "object"
            raise ValueError(f"not a JSON {kind} (starts with {head[:12]!r})")
        f.seek(0)
        yield from (ijson.items(f, prefix, use_float=True) if prefix == "item" else ijson.kvitems(f, prefix,
                                                                                                  use_float=True))


def _updated_at(value: Any, latest: datetime) -> datetime | None:
    if isinstance(value, str):
        for fmt in UPDT_FORMATS:
            try:
                moment = datetime.strptime(value.strip(), fmt).replace(tzinfo=timezone.utc)
            except ValueError:
                continue
            return moment if EARLIEST <= moment <= latest else None
    return None


def release_date(issue_date: Any, latest_year: int) -> str | None:
    """Melon's issue_date (``YYYYMMDD``, month or day 00 when unknown) as YYYY-MM-DD, YYYY-MM or YYYY;
    None when it is no date (``00000000``, a year outside 1900..next year, a 13th month, 31 February)."""
    text = str(issue_date).strip() if isinstance(issue_date, (str, int)) and not isinstance(issue_date, bool) else ""
    if len(text) != 8 or not text.isdigit():
        return None
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if not 1900 <= year <= latest_year + 1 or month > 12 or (month == 0 and day):
        return None
    if month == 0:
        return f"{year:04d}"
    try:
        return date(year, month, day).isoformat() if day else f"{year:04d}-{month:02d}"
    except ValueError:
        return None


def _record_hash(*values: Any) -> str:
    payload = json.dumps(values, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def _earlier(table: Table, columns: list[str], run_key: str) -> pa.Table:
    """The earlier Melon rows of ``table`` (never this run's own: a re-run loads again), oldest first."""
    data = delta.read_or_empty(table, columns=[*columns, "run_key", "fetched_at"], filters=[("source", "=", SOURCE)])
    data = data.filter(pc.not_equal(data["run_key"], run_key))
    return data.take(pc.sort_indices(data, sort_keys=[("fetched_at", "ascending"), ("run_key", "ascending")]))


def _earlier_hashes(table: Table, key: str, run_key: str) -> dict[Any, str]:
    """Per id, the content hash of the newest earlier Melon row."""
    data = _earlier(table, [key, "content_hash"], run_key)
    return dict(zip(data[key].to_pylist(), data["content_hash"].to_pylist()))  # the newest wins


class _Import:
    def __init__(self, directory: Path, partition: RunPartition, stage_dir: Path) -> None:
        self.directory, self.partition, self.run_key = directory, partition, partition.run_key
        self.fetched_at = datetime.strptime(self.run_key, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        self.latest = max(self.fetched_at, datetime.now(timezone.utc)) + timedelta(days=1)
        self.books = _Books()
        self.stages = {t.name: _Stage(t, stage_dir / f"{t.name}.parquet") for t in TABLES[:-1]}
        self.genres: dict[str, str] = {}
        self.song_ids: set[int] = set()

    def quarantine(self, file: str, record: int, record_id: Any, kind: str, reason: str, dropped: int = 1,
                   raw: Any = None) -> None:
        self.stages[bronze.IMPORT_QUARANTINE.name].add({
            "run_key": self.run_key, "source": SOURCE, "file": file, "record": record,
            "record_id": None if record_id is None else str(record_id), "kind": kind, "reason": reason,
            "dropped": dropped, "raw": None if raw is None else _raw(raw)})

    def reject(self, file: str, index: int, record: Any, kind: str, reason: str) -> None:
        """Quarantine a whole record (kind playlist or song) with its reason; returns None for the caller."""
        self.quarantine(file, index, record.get("id") if isinstance(record, dict) else None, kind, reason, raw=record)

    def file_fault(self, name: str, reason: str) -> None:
        self.books.add("files_failed")
        self.books.file_faults.append(f"{name}: {reason}")
        self.quarantine(name, -1, None, "file", reason)
        log.warning("melon import: %s: %s", name, reason)

    def records(self, name: str, prefix: str = "item") -> Iterator[tuple[int, Any]]:
        """The file's records with their index; a fault ends the file (what came before is kept)."""
        path = self.directory / name
        index = -1
        try:
            for index, record in enumerate(_stream(path, prefix)):
                yield index, record
        except Exception as err:  # noqa: BLE001 - ijson's errors (and OSError) end this file, not the import
            reason = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
            after = f"after {index + 1:,} records" if index >= 0 else "before any record"
            self.file_fault(name, f"truncated or not JSON {after}: {reason}")
            return
        self.books.add("files_read")
        self.books.add("bytes", path.stat().st_size)

    # --- genres -------------------------------------------------------------------------------------
    def read_genres(self) -> None:
        for index, (code, name) in self.records(GENRES, ""):
            if isinstance(name, str) and name.strip():
                self.genres[str(code)] = clean_text(name)
            else:
                self.quarantine(GENRES, index, code, "file", f"genre code {code!r} has no name", raw=name)

    # --- songs --------------------------------------------------------------------------------------
    def read_songs(self) -> None:
        earlier = _earlier_hashes(bronze.SONGS_INFO, "song_id", self.run_key)
        seen: dict[int, int] = {}
        stage = self.stages[bronze.SONGS_INFO.name]
        for index, record in self.records(SONG_META):
            self.books.add("songs_read")
            row = self.song_row(index, record, seen)
            if row is None:
                self.books.add("songs_quarantined")
            elif earlier.get(row["song_id"]) == row["content_hash"]:
                self.books.add("songs_unchanged")
            else:
                stage.add(row)
                self.books.add("songs_loaded")

    def song_row(self, index: int, record: Any, seen: dict[int, int]) -> dict[str, Any] | None:
        def bad(reason: str) -> None:
            return self.reject(SONG_META, index, record, "song", reason)

        if not isinstance(record, dict):
            return bad(f"a song record is an object, not {type(record).__name__}")
        song_id = record.get("id")
        if not _is_id(song_id):
            return bad("song record without an id" if song_id is None else f"song id {song_id!r} is no id")
        if song_id in seen:
            return bad(f"duplicate song id {song_id} (first at record {seen[song_id]})")
        title = clean_text(record.get("song_name")) if isinstance(record.get("song_name"), str) else None
        artists = [clean_text(a) for a in record.get("artist_name_basket") or () if isinstance(a, str) and a.strip()]
        if not title or not artists:
            return bad("song without a song_name" if not title else "song without an artist (artist_name_basket)")
        seen[song_id] = index
        self.song_ids.add(song_id)
        codes = [str(c) for key in ("song_gn_gnr_basket", "song_gn_dtl_gnr_basket")
                 for c in (record.get(key) or ()) if isinstance(c, str)]
        unknown = [c for c in codes if c not in self.genres]
        if unknown:
            self.books.add("genre_codes_dropped", len(unknown))
            self.quarantine(SONG_META, index, song_id, "genre_code",
                            f"{len(unknown)} genre code(s) not in {GENRES}: {', '.join(unknown[:5])}",
                            dropped=len(unknown))
        known = [c for c in codes if c in self.genres]
        majors = [self.genres[c] for c in (record.get("song_gn_gnr_basket") or ()) if c in self.genres]
        released = release_date(record.get("issue_date"), self.latest.year)
        if released is None and record.get("issue_date") is not None:
            self.books.add("release_dates_dropped")
            self.quarantine(SONG_META, index, song_id, "release_date",
                            f"issue_date {record.get('issue_date')!r} is no date", dropped=1)
        album_id = record.get("album_id")
        artist_ids = [str(a) for a in record.get("artist_id_basket") or () if _is_id(a)]
        row = {
            "run_key": self.run_key, "source": SOURCE, "song_id": str(song_id), "title": title,
            "artist_name": ", ".join(artists), "artist_id": ",".join(artist_ids) or None,
            "album_title": clean_text(record.get("album_name")) if isinstance(record.get("album_name"), str) else None,
            "album_id": str(album_id) if _is_id(album_id) else None,
            "genre_text": " ".join(known) or None, "genres": list(dict.fromkeys(majors)), "release_date": released,
            "source_url": f"{SONG_META}#{song_id}", "fetched_at": self.fetched_at,
        }
        row["content_hash"] = _record_hash(*(row[c] for c in ("title", "artist_name", "artist_id", "album_title",
                                                            "album_id", "genre_text", "genres", "release_date")))
        return row

    # --- playlists ----------------------------------------------------------------------------------
    def read_playlists(self) -> None:
        earlier = _earlier_hashes(bronze.PLAYLISTS, "plm_seq", self.run_key)
        songs_of = self.song_lookup()
        seen: dict[int, str] = {}
        for name in PLAYLIST_FILES:
            if not (self.directory / name).is_file():
                self.file_fault(name, "missing")
                continue
            for index, record in self.records(name):
                self.books.add("playlists_read")
                made = self.playlist_rows(name, index, record, seen, songs_of)
                if made is None:
                    self.books.add("playlists_quarantined")
                    continue
                playlist, rows = made
                if earlier.get(playlist["plm_seq"]) == playlist["content_hash"]:
                    self.books.add("playlists_unchanged")
                    continue
                self.stages[bronze.PLAYLISTS.name].add(playlist)
                for row in rows:
                    self.stages[bronze.PLAYLIST_SONGS.name].add(row)
                self.books.add("playlists_loaded")
                self.books.add("playlist_songs_loaded", len(rows))

    def song_lookup(self) -> dict[int, tuple]:
        """Melon song id -> what a playlist row shows of it (title, artist, ids, album): read back from the
        staged and earlier song rows, so playlist rows carry the spelling like a crawled row does."""
        lookup: dict[int, tuple] = {}
        columns = ["song_id", "title", "artist_id", "artist_name", "album_id", "album_title"]
        earlier = _earlier(bronze.SONGS_INFO, columns, self.run_key)
        stage = self.stages[bronze.SONGS_INFO.name]
        stage.close()  # every song is read: the staged rows are final, and readable now
        sources = [earlier.select(columns).to_batches()]
        if stage.count:
            sources.append(pq.ParquetFile(stage.path).iter_batches(batch_size=BATCH_ROWS, columns=columns))
        for batches in sources:
            for batch in batches:
                for song_id, *shown in zip(*(batch.column(c).to_pylist() for c in columns)):
                    if int(song_id) in self.song_ids:
                        lookup[int(song_id)] = tuple(shown)
        return lookup

    def playlist_rows(self, name: str, index: int, record: Any, seen: dict[int, str],
                      songs_of: dict[int, tuple]) -> tuple[dict, list[dict]] | None:
        def bad(reason: str) -> None:
            return self.reject(name, index, record, "playlist", reason)

        if not isinstance(record, dict):
            return bad(f"a playlist record is an object, not {type(record).__name__}")
        plm_seq = record.get("id")
        if not _is_id(plm_seq):
            return bad("playlist without an id" if plm_seq is None else f"playlist id {plm_seq!r} is no id")
        if plm_seq in seen:
            return bad(f"duplicate playlist id {plm_seq} (first in {seen[plm_seq]})")
        seen[plm_seq] = f"{name}#{index}"
        songs = record.get("songs")
        if not isinstance(songs, list) or not songs:
            return bad("playlist without songs" if not songs else "songs is not a list")
        updated = _updated_at(record.get("updt_date"), self.latest)
        if updated is None:
            return bad(f"updt_date {record.get('updt_date')!r} is no date between {EARLIEST:%Y} and now")
        known = [(position, s) for position, s in enumerate(songs, start=1) if _is_id(s) and s in songs_of]
        unknown = [s for s in songs if not (_is_id(s) and s in songs_of)]
        if unknown:
            self.books.add("song_refs_dropped", len(unknown))
            self.quarantine(name, index, plm_seq, "song_ref",
                            f"{len(unknown)} song id(s) not in {SONG_META}: {', '.join(map(str, unknown[:5]))}",
                            dropped=len(unknown))
        if not known:
            return bad(f"none of its {len(songs)} song ids is in {SONG_META}")
        title = clean_text(record.get("plylst_title")) if isinstance(record.get("plylst_title"), str) else ""
        tags = clean_tags(t for t in (record.get("tags") or ()) if isinstance(t, str))
        likes = record.get("like_cnt")
        playlist = {
            "run_key": self.run_key, "source": SOURCE, "plm_seq": plm_seq, "title": title or "", "subtitle": None,
            "maker_name": None, "maker_id": None, "song_count": len(songs), "view_count": None,
            "like_count": likes if _is_id(likes) else None, "tags": tags, "cover_url": None, "cover_sha1": None,
            "cover_status": "missing", "content_hash": content_hash(title, tags, [s for _, s in known]),
            "updated_at": updated, "source_url": f"{name}#{plm_seq}", "fetched_at": self.fetched_at,
        }
        rows = []
        for position, song in known:
            title_shown, artist_id, artist, album_id, album = songs_of[song]
            rows.append({"run_key": self.run_key, "source": SOURCE, "plm_seq": plm_seq, "position": position,
                         "song_id": str(song), "song_title": title_shown, "artist_id": artist_id,
                         "artist_name": artist, "album_id": album_id, "album_title": album, "album_art_url": None})
        return playlist, rows

    # --- the books and the commit -------------------------------------------------------------------
    def run_row(self, started: datetime, seconds: float) -> dict[str, Any]:
        status = "partial" if self.books.file_faults else "finished"
        return {**self.books.counts, "run_key": self.run_key, "source": SOURCE, "directory": str(self.directory),
                "status": status, "stop_reason": "; ".join(self.books.file_faults) or None,
                "started_at": started, "finished_at": datetime.now(timezone.utc), "duration_s": round(seconds, 3)}


def _required(directory: Path) -> None:
    if not directory.is_dir():
        raise MelonImportError(f"{directory}: no such folder (the Melon dataset: {', '.join(PLAYLIST_FILES)}, "
                               f"{SONG_META}, {GENRES})")
    missing = [n for n in (SONG_META, GENRES) if not (directory / n).is_file()]
    if missing:
        raise MelonImportError(f"{directory}: {' and '.join(missing)} missing: without them no playlist row can be "
                               "checked (the Melon dataset has both)")
    if not any((directory / n).is_file() for n in PLAYLIST_FILES):
        raise MelonImportError(f"{directory}: none of {', '.join(PLAYLIST_FILES)}: no playlists to import")


def import_melon(directory: Path | str, partition: RunPartition) -> Imported:
    """Import the dataset in ``directory`` as the run ``partition``; returns the bronze versions committed.

    A missing folder or required file fails in one line before anything is written; every other fault is
    quarantined with its reason and the rest is loaded (a file's fault makes the run ``partial``)."""
    directory = Path(directory).expanduser().absolute()
    _required(directory)
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    stage_dir = scenetune_settings.load().import_dir / SOURCE / f"run_key={partition.run_key}"
    shutil.rmtree(stage_dir, ignore_errors=True)  # a killed earlier try of this run: start over
    stage_dir.mkdir(parents=True)
    job = _Import(directory, partition, stage_dir)
    try:
        job.read_genres()
        job.read_songs()
        job.read_playlists()
        for stage in job.stages.values():
            stage.close()
        run = job.run_row(started, time.perf_counter() - clock)
        versions = {}
        for table in TABLES:  # the rows first, the books last: books never name rows that are not there
            data = (pa.Table.from_pylist([run], schema=table.arrow_schema()) if table is bronze.IMPORT_RUNS
                    else job.stages[table.name].batches())
            versions[table.qualified_name] = delta.replace_partition_batches(
                table, data, {"run_key": partition.run_key, "source": SOURCE})
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)
    imported = Imported(partition.run_key, versions, {**run, "started_at": run["started_at"].isoformat(),
                                                      "finished_at": run["finished_at"].isoformat()})
    log.info("%s", imported.summary())
    return imported


NO_COVERS = "Melon playlists have no covers: cover cleaning and the tag head use Genie's covers only"


def import_configured(partition: RunPartition) -> dict[str, Any]:
    """The refresh's import_melon task: import SCENETUNE_MELON_DIR when it is set, else nothing (for XCom)."""
    directory = scenetune_settings.load().melon_dir
    if directory is None:
        return {"bronze_versions": {}, "stats": None, "skipped": "SCENETUNE_MELON_DIR is not set"}
    imported = import_melon(directory, partition)
    return {"bronze_versions": imported.bronze_versions, "stats": imported.stats, "note": NO_COVERS}
