"""Folders of real photos and a registered tag head, for the scoring tests."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from core import settings
from schemas.scoring import TAG_MODELS
from scoring.encoders import EfficientNetLite0, efficientnet_version
from tests.unit.scoring_files import encode, every_kind, photo, save_random_head
from warehouse import delta

LABELS = ("맑은날", "비오는날", "겨울", "사랑", "잔잔한", "카페", "밤", "드라이브")
GROUPS = ("weather", "weather", "weather", "mood", "mood", "situation", "situation", "situation")


def register_head(run_key: str, seed: int = 0) -> str:
    """Save a head (random weights, the real encoder) and register it as ``run_key``'s: what training leaves."""
    s = settings.load()
    encoder = efficientnet_version()
    version = f"head-{run_key}-seed{seed}"
    folder = s.models_dir / "tag_head" / version
    folder.mkdir(parents=True, exist_ok=True)
    save_random_head(folder, LABELS, seed)
    row = {"run_key": run_key, "model_version": version, "catalogue_version": run_key, "encoder": encoder,
           "path": folder.relative_to(s.home).as_posix(), "label_source": "test", "labels": list(LABELS),
           "label_groups": list(GROUPS), "image_source": "test", "train_images": 0, "heldout_images": 0,
           "heldout_map": None, "prior_map": None}
    delta.replace_partition(TAG_MODELS, pa.Table.from_pylist([row], schema=TAG_MODELS.arrow_schema()),
                            {"run_key": run_key})
    return version


def photo_folder(root: Path) -> Path:
    """Real photos (two byte-identical), a caption beside one, broken files, and things never to open."""
    (root / "여행 Trip").mkdir(parents=True)
    kinds = every_kind()
    (root / "coffee.JPG").write_bytes(encode(photo("coffee"), "JPEG", quality=88))
    (root / "여행 Trip" / "고양이 chelsea.png").write_bytes(encode(photo("chelsea"), "PNG"))
    (root / "여행 Trip" / "rocket copy.webp").write_bytes(encode(photo("rocket"), "WEBP"))
    (root / "여행 Trip" / "rocket.webp").write_bytes(encode(photo("rocket"), "WEBP"))  # same bytes
    (root / "astronaut.jpg").write_bytes(encode(photo("astronaut"), "JPEG"))
    (root / "astronaut.txt").write_text("a rainy night drive through the city", encoding="utf-8")
    (root / "truncated.jpg").write_bytes(kinds["bad_truncated_jpeg"])  # header fine: fails at scoring
    (root / "notes.txt.jpg").write_bytes(kinds["bad_text"])
    (root / "empty.png").write_bytes(b"")
    (root / "bomb.png").write_bytes(kinds["bad_bomb_png"])
    outside = root.parent / "outside.jpg"
    outside.write_bytes(encode(photo("camera"), "JPEG"))
    os.symlink(outside, root / "outside_link.jpg")
    os.mkfifo(root / "pipe.jpg")
    return root


# file -> verdict at submit ("queued" / "duplicate" / a reason's words) and, for queued ones, after scoring
EXPECTED_SUBMIT = {
    "astronaut.jpg": "queued", "coffee.JPG": "queued", "truncated.jpg": "queued",
    "여행 Trip/고양이 chelsea.png": "queued", "여행 Trip/rocket copy.webp": "queued",
    "여행 Trip/rocket.webp": "duplicate",
    "bomb.png": "too large", "empty.png": "empty file", "notes.txt.jpg": "not an image",
    "outside_link.jpg": "leaves the submitted folder", "pipe.jpg": "FIFO",
}


# ---------------------------------------------------------------------------------------------- a small catalogue
CATALOGUE_RUN = "20261120T000000Z"
# song: (title, artist, Genie id, genres, tags most frequent first, playlists listing it)
SONGS = [
    ("Rainy Window", "Alpha", "1001", ["발라드"], ["비오는날", "밤", "잔잔한"], 9),
    ("Night Drive", "Beta", "1002", ["POP"], ["드라이브", "밤"], 7),
    ("Cafe Morning", "Gamma", "1003", ["인디"], ["카페", "맑은날", "잔잔한"], 5),
    ("Snow Love", "Delta", "1004", ["발라드"], ["겨울", "사랑"], 8),
    ("Sunny Day", "Alpha", "1005", ["댄스"], ["맑은날", "드라이브"], 6),
    ("Rain Rain", "Epsilon", "1006", ["POP"], ["비오는날", "카페"], 3),
    ("Winter Night", "Zeta", "1007", ["발라드", "POP"], ["겨울", "밤"], 4),
    ("Love Cafe", "Eta", "1008", ["인디"], ["사랑", "카페"], 2),
    ("Calm Drive", "Theta", "1009", ["댄스"], ["잔잔한", "드라이브"], 1),
    ("Late Rain", "Iota", "1010", ["POP"], ["비오는날", "밤"], 2),
]
# playlist: (plm_seq, cover photo, tags, songs by index)
PLAYLISTS = [
    (1, "coffee", ["카페", "잔잔한", "맑은날"], [2, 7, 5]),
    (2, "chelsea", ["사랑", "겨울"], [3, 6, 7]),
    (3, "rocket", ["드라이브", "밤"], [1, 4, 8]),
    (4, "astronaut", ["밤", "비오는날"], [0, 9, 5]),
    (5, "camera", ["맑은날", "드라이브"], [4, 8, 1]),
    (6, "coins", ["비오는날", "잔잔한", "겨울"], [0, 5, 6]),
]


def _rows(table, rows: list[dict]):
    defaults = {"string": "", "bool": False, "int64": 0, "int32": 0, "float64": 0.0, "float32": 0.0,
                "list<string>": [], "timestamp": None}
    base = {c.name: None if c.nullable else defaults.get(c.type) for c in table.columns}
    return pa.Table.from_pylist([{**base, **row} for row in rows], schema=table.arrow_schema())


def write_catalogue(run_key: str = CATALOGUE_RUN) -> dict:
    """A small catalogue as a refresh leaves it: gold songs with sentences and MiniLM vectors, silver playlists
    and their songs, raw covers (real photos) with EfficientNet-Lite0 features. Returns what was written."""
    import hashlib
    from datetime import datetime, timezone

    from schemas import bronze, gold, silver, taxonomy
    from schemas.scoring import COVER_EMBEDDINGS
    from spark_jobs.embeddings import encode as embed
    from spark_jobs.sentences import song_sentence

    s = settings.load()
    label_of = {tag: (tag, taxonomy.category_of(tag)) for tag in LABELS}
    songs, links, sentences = [], [], {}
    for title, artist, song_id, genres, tags, count in SONGS:
        key = f"{artist.lower()}|{title.lower()}"
        sentence = song_sentence(tags, label_of)
        sentences[sentence.sentence_id] = sentence
        songs.append({"song_key": key, "title": title, "artist": artist, "artist_key": artist.lower(),
                      "song_ids": [song_id], "melon_song_ids": [], "sources": ["genie"], "genres": genres, "genre_source": "song_page", "tags": tags,
                      "sentence_en": sentence.english, "sentence_ko": sentence.korean, "playlist_count": count,
                      "row_count": count, "spellings": 1, "run_key": run_key})
        links.append({"song_key": key, "sentence_id": sentence.sentence_id, "has_vector": True, "run_key": run_key})
    ids = sorted(sentences)
    vectors, _ = embed([sentences[i].english for i in ids])
    delta.overwrite(gold.SONGS, _rows(gold.SONGS, songs))
    delta.overwrite(gold.SONG_EMBEDDINGS, _rows(gold.SONG_EMBEDDINGS, links))
    delta.overwrite(gold.SENTENCE_EMBEDDINGS, _rows(gold.SENTENCE_EMBEDDINGS, [
        {"sentence_id": i, "sentence_en": sentences[i].english, "sentence_ko": sentences[i].korean, "song_count": 1,
         "model": "test", "vector": v.tolist(), "run_key": run_key} for i, v in zip(ids, vectors)]))

    encoder = EfficientNetLite0()
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    covers, playlists, members, embedded = [], [], [], []
    for plm, name, tags, song_idx in PLAYLISTS:
        picture = photo(name)
        data = encode(picture, "JPEG", quality=90)
        sha1 = hashlib.sha1(data).hexdigest()
        relative = f"raw/covers/{sha1[:2]}/{sha1}.jpg"
        (s.home / relative).parent.mkdir(parents=True, exist_ok=True)
        (s.home / relative).write_bytes(data)
        covers.append({"run_key": run_key, "plm_seq": plm, "cover_sha1": sha1, "path": relative, "status": "ok"})
        playlists.append({"source": "genie", "plm_seq": plm, "title": f"playlist {plm}", "song_count": len(song_idx), "tags": tags,
                          "cover_sha1": sha1, "cover_status": "ok", "content_hash": "h", "crawl_run_key": run_key,
                          "fetched_at": when, "run_key": run_key})
        for position, i in enumerate(song_idx, start=1):
            title, artist = SONGS[i][0], SONGS[i][1]
            members.append({"source": "genie", "plm_seq": plm, "position": position, "song_key": f"{artist.lower()}|{title.lower()}",
                            "artist_key": artist.lower(), "title_key": title.lower(), "song_id": SONGS[i][2],
                            "song_title": title, "artist_name": artist, "title_base": title,
                            "crawl_run_key": run_key, "run_key": run_key})
        embedded.append({"image_sha1": sha1, "encoder": encoder.version,
                         "embedding": encoder.encode([picture])[0].tolist(), "run_key": run_key})
    delta.replace_partition(bronze.COVERS, _rows(bronze.COVERS, covers), {"run_key": run_key})
    delta.overwrite(silver.PLAYLISTS, _rows(silver.PLAYLISTS, playlists))
    delta.overwrite(silver.PLAYLIST_SONGS, _rows(silver.PLAYLIST_SONGS, members))
    delta.overwrite(COVER_EMBEDDINGS, _rows(COVER_EMBEDDINGS, embedded))
    return {"songs": len(songs), "playlists": len(playlists), "encoder": encoder.version}
