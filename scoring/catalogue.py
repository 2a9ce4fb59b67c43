"""The catalogue the recommenders choose songs from, read once per scoring run.

Which versions: the live catalogue version's pins (``warehouse.versions.live()``: what the gate
passed and publish made visible), else - before any version is live, e.g. in tests - the latest
version of each table. The *catalogue version* recorded on every recommendation is the run whose
build wrote the songs read (``gold.songs.run_key``), as the tag head records the build it learnt
from: a reused build keeps its version, so unchanged songs keep their recommendations.

What is held, as arrays indexed by song, sentence and cover:

- songs: title, artist, one Genie song id (the newest), genres, labels (tags -> labels through
  ``gold.tag_map``, else the taxonomy), popularity = ``playlist_count`` (how many playlists list it;
  Genie's listen counts are not crawled) and newness = the highest Genie song id among its ids
  (ids are handed out as songs are registered; no release date is crawled);
- sentences: the distinct song sentences with a vector (``gold.sentence_embeddings``), each with its
  songs, most listed first: MPIC's recommender scores sentences, not every song;
- covers: the cleaned covers (or, before cover cleaning, the raw ones) with their features from
  ``gold.cover_embeddings``, the playlists showing each, and each playlist's labels and songs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from schemas import gold, silver, taxonomy
from schemas.bronze import COVER_SOURCE
from schemas.scoring import COVER_EMBEDDINGS
from scoring import labels as label_maps
from warehouse import delta

log = logging.getLogger(__name__)


class NoCatalogue(Exception):
    """No gold.songs yet: nothing to recommend from (tags are still scored and stored)."""


def pins() -> dict[str, int]:
    """``{"layer.table": delta_version}`` of the live catalogue version; {} when none is live (read the latest)."""
    from warehouse import versions

    try:
        live = versions.live()
    except Exception as err:  # noqa: BLE001 - no versions table yet, or one another layout wrote: read the latest
        log.debug("no live catalogue version (%s): reading the latest tables", err)
        return {}
    return dict(live["table_versions"]) if live else {}


def current_version(pinned: dict[str, int] | None = None) -> str | None:
    """The catalogue version recommendations are made from now (the run that wrote gold.songs), or None."""
    pinned = pins() if pinned is None else pinned
    if not delta.exists(gold.SONGS):
        return None
    keys = delta.read(gold.SONGS, pinned.get(gold.SONGS.qualified_name), columns=["run_key"]).column("run_key")
    return max(keys.to_pylist(), default=None)


def _newest_id(song_ids) -> int:
    numbers = [int(i) for i in (song_ids or []) if i and str(i).isdigit()]
    return max(numbers, default=0)


def label_map_for(pinned: dict[str, int]) -> tuple[label_maps.LabelMap, dict[str, str]]:
    """Raw tag -> label (gold.tag_map when the build wrote one), and each label's Genie category."""
    if delta.exists(gold.TAG_MAP):
        version = pinned.get(gold.TAG_MAP.qualified_name)
        rows = delta.read(gold.TAG_MAP, version, columns=["label", "category"]).to_pylist()
        return label_maps.from_gold_tag_map(version), {r["label"]: r["category"] for r in rows}
    return label_maps.from_taxonomy(), dict(taxonomy.tag_categories())


@dataclass
class Catalogue:
    version: str
    pinned: dict[str, int]
    label_map: label_maps.LabelMap
    category_of: dict[str, str]  # label -> Genie category (situation, emotion, ... season)
    song_key: list[str]
    title: list[str]
    artist: list[str]
    song_id: list[str | None]
    genres: list[tuple[str, ...]]
    song_labels: list[frozenset[str]]
    popularity: np.ndarray  # int64: playlists listing the song
    newness: np.ndarray  # int64: highest Genie song id
    sentence_vectors: np.ndarray  # (sentences, 384) float32, unit length
    sentence_songs: list[np.ndarray]  # per sentence: song indices, most listed first
    cover_encoder: str | None = None
    cover_ids: list[str] = field(default_factory=list)  # image_sha1 per row of cover_vectors
    cover_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    cover_playlists: list[tuple[int, ...]] = field(default_factory=list)  # per cover: the playlists showing it
    playlist_labels: dict[int, frozenset[str]] = field(default_factory=dict)
    playlist_songs: dict[int, np.ndarray] = field(default_factory=dict)  # per playlist: song indices, in order
    _cover_index: object = None

    @property
    def songs(self) -> int:
        return len(self.song_key)

    def cover_index(self):
        """A FAISS inner-product index over the cover features (exact; IMGenie used FAISS)."""
        if self._cover_index is None:
            import faiss

            faiss.omp_set_num_threads(1)
            index = faiss.IndexFlatIP(self.cover_vectors.shape[1])
            index.add(np.ascontiguousarray(self.cover_vectors, dtype=np.float32))
            self._cover_index = index
        return self._cover_index


def load(cover_encoder: str | None = None, pinned: dict[str, int] | None = None) -> Catalogue:
    """Read the catalogue (see the module doc); ``cover_encoder`` picks the cover features to search."""
    pinned = pins() if pinned is None else pinned
    if not delta.exists(gold.SONGS):
        raise NoCatalogue("no gold.songs yet: run `scenetune refresh` to build the catalogue")
    label_map, category_of = label_map_for(pinned)
    songs = delta.read(gold.SONGS, pinned.get(gold.SONGS.qualified_name),
                       columns=["song_key", "title", "artist", "song_ids", "genres", "tags", "playlist_count",
                                "run_key"]).to_pylist()
    songs.sort(key=lambda r: r["song_key"])
    index_of = {r["song_key"]: i for i, r in enumerate(songs)}
    newness = np.asarray([_newest_id(r["song_ids"]) for r in songs], dtype=np.int64)
    popularity = np.asarray([r["playlist_count"] or 0 for r in songs], dtype=np.int64)

    sentence_songs: dict[str, list[int]] = {}
    if delta.exists(gold.SONG_EMBEDDINGS):
        links = delta.read(gold.SONG_EMBEDDINGS, pinned.get(gold.SONG_EMBEDDINGS.qualified_name),
                           columns=["song_key", "sentence_id", "has_vector"]).to_pylist()
        for row in links:
            if row["has_vector"] and row["sentence_id"] and row["song_key"] in index_of:
                sentence_songs.setdefault(row["sentence_id"], []).append(index_of[row["song_key"]])
    vectors, members = [], []
    if sentence_songs and delta.exists(gold.SENTENCE_EMBEDDINGS):
        sentences = delta.read(gold.SENTENCE_EMBEDDINGS, pinned.get(gold.SENTENCE_EMBEDDINGS.qualified_name),
                               columns=["sentence_id", "vector"]).to_pylist()
        for row in sorted(sentences, key=lambda r: r["sentence_id"]):
            found = sentence_songs.get(row["sentence_id"])
            if row["vector"] is not None and found:
                vectors.append(row["vector"])
                # most listed first, then by key: the order songs of one sentence are offered in
                members.append(np.asarray(sorted(found, key=lambda i: (-popularity[i], songs[i]["song_key"])),
                                          dtype=np.int64))
    catalogue = Catalogue(
        version=max(r["run_key"] for r in songs) if songs else "",
        pinned=pinned,
        label_map=label_map,
        category_of=category_of,
        song_key=[r["song_key"] for r in songs],
        title=[r["title"] for r in songs],
        artist=[r["artist"] for r in songs],
        song_id=[str(n) if n else ((r["song_ids"] or [None])[0]) for r, n in zip(songs, newness)],
        genres=[tuple(r["genres"] or ()) for r in songs],
        song_labels=[frozenset(label_map.labels_for(r["tags"] or ())) for r in songs],
        popularity=popularity,
        newness=newness,
        sentence_vectors=(np.asarray(vectors, dtype=np.float32) if vectors
                          else np.zeros((0, gold.EMBEDDING_DIMENSIONS), np.float32)),
        sentence_songs=members,
    )
    if cover_encoder:
        _load_covers(catalogue, cover_encoder, index_of)
    return catalogue


def _load_covers(catalogue: Catalogue, encoder: str, index_of: dict[str, int]) -> None:
    """The covers with features of ``encoder``, the playlists showing them, their labels and songs."""
    from scoring.tag_head import cover_images

    if not delta.exists(silver.PLAYLISTS) or not delta.exists(COVER_EMBEDDINGS):
        return
    pinned = catalogue.pinned
    paths, image_of, source = cover_images(pinned)
    playlists = delta.read(silver.PLAYLISTS, pinned.get(silver.PLAYLISTS.qualified_name),
                           columns=["plm_seq", "tags", "cover_sha1"],
                           filters=[("source", "=", COVER_SOURCE)]).to_pylist()  # covers are Genie's
    raw = not source.startswith(silver.COVER_QUALITY.qualified_name)
    shown_by: dict[str, list[int]] = {}
    for row in playlists:
        sha1 = row["cover_sha1"] if raw and row["cover_sha1"] in paths else image_of.get(row["plm_seq"])
        found = catalogue.label_map.labels_for(row["tags"] or ())
        catalogue.playlist_labels[row["plm_seq"]] = frozenset(found)
        if sha1 is not None and found:  # a playlist without a label explains nothing: IMGenie trained without them
            shown_by.setdefault(sha1, []).append(row["plm_seq"])
    ids, vectors = [], []
    for row in delta.read(COVER_EMBEDDINGS, columns=["image_sha1", "encoder", "embedding"]).to_pylist():
        if row["encoder"] == encoder and row["image_sha1"] in shown_by:
            ids.append(row["image_sha1"])
            vectors.append(row["embedding"])
    order = np.argsort(ids, kind="stable")
    catalogue.cover_encoder = encoder
    catalogue.cover_ids = [ids[i] for i in order]
    if ids:  # none: no labelled cover of this catalogue has this encoder's features; IMGenie then finds none
        catalogue.cover_vectors = np.asarray([vectors[i] for i in order], dtype=np.float32).reshape(len(ids), -1)
    catalogue.cover_playlists = [tuple(sorted(shown_by[c])) for c in catalogue.cover_ids]
    wanted = {p for c in catalogue.cover_playlists for p in c}
    by_playlist: dict[int, list[tuple[int, int]]] = {}
    if delta.exists(silver.PLAYLIST_SONGS):
        rows = delta.read(silver.PLAYLIST_SONGS, pinned.get(silver.PLAYLIST_SONGS.qualified_name),
                          columns=["plm_seq", "position", "song_key"],
                          filters=[("source", "=", COVER_SOURCE)]).to_pylist()
        for row in rows:
            if row["plm_seq"] in wanted and row["song_key"] in index_of:
                by_playlist.setdefault(row["plm_seq"], []).append((row["position"], index_of[row["song_key"]]))
    catalogue.playlist_songs = {p: np.asarray([s for _, s in sorted(items)], dtype=np.int64)
                                for p, items in by_playlist.items()}
