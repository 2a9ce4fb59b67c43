"""The two recommenders: a photo's labels (and features) in, songs with the reason out.

- ``mpic_embedding`` (MPIC): the photo's chosen labels become an English sentence the way song
  sentences are made (``spark_jobs.sentences.song_sentence``), embedded with the same MiniLM
  (``spark_jobs.embeddings.encode``); cosine against each distinct song sentence
  (``gold.sentence_embeddings``), a song scoring its sentence's cosine. With the submitter's 1-3
  genres: the best song of each chosen genre, then the best remaining songs of those genres, 5 in all
  (songs of other genres fill in only when those genres run out); without genres, the best 5.
- ``imgenie_covers`` (IMGenie): for each label group (weather, mood, situation), the 15 playlists
  whose covers are nearest the photo by image features (FAISS over ``gold.cover_embeddings``) among
  the playlists carrying the photo's best label of that group; their songs are interleaved from three
  orderings - genre match + newest, genre match + most listed, cover similarity + most listed -,
  deduplicated, first 6. "Newest" is the highest Genie song id, "most listed" the number of playlists
  listing the song: the crawl has no release dates or listen counts.

``matched_tags`` (the why): the photo's chosen labels that the song carries (MPIC) or that the
playlists it came from carry (IMGenie).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from scoring.catalogue import Catalogue

MPIC, IMGENIE = "mpic_embedding", "imgenie_covers"
MPIC_SONGS = 5
IMGENIE_SONGS = 6
PLAYLISTS_PER_GROUP = 15
SEARCH_DEPTH = 256  # covers fetched from FAISS per photo before filtering by label; exact search below it
MIN_LABEL_SCORE = 0.5  # a label beyond the group's best is chosen from this score
LABELS_PER_GROUP = 3
GROUP_CATEGORY = {"weather": "weather", "mood": "emotion", "situation": "situation"}  # for labels of no taxonomy


@dataclass(frozen=True)
class Pick:
    song: int  # index in the catalogue
    score: float
    matched: tuple[str, ...]


def chosen_labels(scores: Sequence[float], labels: Sequence[str], groups: Sequence[str]) -> list[str]:
    """The labels a photo is taken to show, best first: each group's best, plus others scoring
    ``MIN_LABEL_SCORE`` or more, at most ``LABELS_PER_GROUP`` per group."""
    scores = np.asarray(scores, dtype=np.float64)
    out, per_group = [], {}
    for j in np.argsort(-scores, kind="stable"):
        group = groups[j]
        taken = per_group.get(group, 0)
        if taken < LABELS_PER_GROUP and (taken == 0 or scores[j] >= MIN_LABEL_SCORE):
            out.append(labels[j])
            per_group[group] = taken + 1
    return out


def best_of_groups(scores: Sequence[float], labels: Sequence[str], groups: Sequence[str]) -> dict[str, str]:
    best: dict[str, tuple[float, str]] = {}
    for score, label, group in zip(scores, labels, groups):
        if group not in best or score > best[group][0]:
            best[group] = (float(score), label)
    return {g: label for g, (_, label) in best.items()}


def tag_sentence(chosen: Sequence[str], catalogue: Catalogue, group_of: dict[str, str]) -> str | None:
    """The photo's labels as the English sentence songs are embedded from (same categories, caps, order)."""
    from scoring.labels import english
    from spark_jobs.sentences import song_sentence

    label_of = {label: (label, catalogue.category_of.get(label) or GROUP_CATEGORY[group_of[label]])
                for label in chosen}
    sentence = song_sentence(list(chosen), label_of, english=lambda label: english(label))
    return sentence.english if sentence else None


def embed_sentences(sentences: Sequence[str]) -> np.ndarray:
    """MiniLM vectors (unit length) of the sentences, the model the catalogue's sentences were embedded with."""
    from spark_jobs.embeddings import encode

    vectors, _errors = encode(list(sentences))
    return vectors


# ---------------------------------------------------------------------------------------------- MPIC
def mpic(query: np.ndarray, chosen: Sequence[str], genres: Sequence[str], catalogue: Catalogue,
         k: int = MPIC_SONGS) -> list[Pick]:
    """MPIC's rule over the catalogue's sentences for one photo's sentence vector ``query``."""
    if not len(catalogue.sentence_vectors) or query is None or not np.any(query):
        return []
    cosine = catalogue.sentence_vectors @ query.astype(np.float32)
    order = np.argsort(-cosine, kind="stable")
    wanted = list(genres)

    def ranked():  # songs best first: by their sentence's cosine, then most listed
        for s in order:
            for song in catalogue.sentence_songs[s]:
                yield int(song), float(cosine[s])

    picks: list[Pick] = []
    taken: set[int] = set()

    def take(song: int, score: float) -> None:
        taken.add(song)
        picks.append(Pick(song, score, tuple(label for label in chosen if label in catalogue.song_labels[song])))

    if wanted:
        # The best song of each chosen genre, in the submitter's order; then the best of any chosen genre.
        for genre in wanted:
            for song, score in ranked():
                if song not in taken and genre in catalogue.genres[song]:
                    take(song, score)
                    break
        genre_bests = len(picks)
        for song, score in ranked():
            if len(picks) >= k:
                break
            if song not in taken and set(catalogue.genres[song]) & set(wanted):
                take(song, score)
    for song, score in ranked():  # no genre chosen, or the chosen genres ran out
        if len(picks) >= k:
            break
        if song not in taken:
            take(song, score)
    if wanted:  # the genres' best songs lead, best first
        picks = sorted(picks[:genre_bests], key=lambda p: -p.score) + picks[genre_bests:]
    return picks[:k]


# ---------------------------------------------------------------------------------------------- IMGenie
def nearest_covers(features: np.ndarray, catalogue: Catalogue) -> tuple[np.ndarray, np.ndarray]:
    """``(similarities, cover indices)`` of the ``SEARCH_DEPTH`` nearest covers of each photo (FAISS, exact)."""
    depth = min(SEARCH_DEPTH, len(catalogue.cover_ids))
    return catalogue.cover_index().search(np.ascontiguousarray(features, dtype=np.float32), depth)


def _playlists_for(label: str, sims: np.ndarray, covers: np.ndarray, feature: np.ndarray,
                   catalogue: Catalogue, exclude=()) -> list[tuple[int, float]]:
    """The ``PLAYLISTS_PER_GROUP`` playlists carrying ``label`` whose covers are nearest the photo."""
    def collect(pairs) -> list[tuple[int, float]]:
        found: dict[int, float] = {}
        for cover, sim in pairs:
            if cover in exclude:
                continue
            for plm in catalogue.cover_playlists[cover]:
                if label in catalogue.playlist_labels.get(plm, ()) and plm not in found:
                    found[plm] = float(sim)
                    if len(found) == PLAYLISTS_PER_GROUP:
                        return list(found.items())
        return list(found.items())

    found = collect((int(c), s) for c, s in zip(covers, sims) if c >= 0)
    if len(found) < PLAYLISTS_PER_GROUP and len(covers) < len(catalogue.cover_ids):
        # Few playlists of this label among the nearest covers: search all of them exactly.
        every = catalogue.cover_vectors @ feature.astype(np.float32)
        order = np.argsort(-every, kind="stable")
        found = collect((int(c), every[c]) for c in order)
    return found


def imgenie(feature: np.ndarray, sims: np.ndarray, covers: np.ndarray, best: dict[str, str],
            chosen: Sequence[str], genres: Sequence[str], catalogue: Catalogue, k: int = IMGENIE_SONGS,
            exclude=()) -> list[Pick]:
    """IMGenie's rule for one photo: ``best`` is its best label per group, ``sims``/``covers`` its nearest covers;
    covers in ``exclude`` (indices; an evaluation's query cover) are never used."""
    similarity: dict[int, float] = {}  # song -> the best similarity of a playlist bringing it
    why: dict[int, set[str]] = {}
    chosen_set = set(chosen)
    for group in sorted(best):
        for plm, sim in _playlists_for(best[group], sims, covers, feature, catalogue, exclude):
            reasons = chosen_set & catalogue.playlist_labels.get(plm, frozenset())
            for song in catalogue.playlist_songs.get(plm, ()):
                song = int(song)
                if sim > similarity.get(song, -2.0):
                    similarity[song] = sim
                why.setdefault(song, set()).update(reasons)
    if not similarity:
        return []
    songs = sorted(similarity)
    wanted = set(genres)
    match = {s: bool(wanted & set(catalogue.genres[s])) for s in songs}
    orderings = [
        sorted(songs, key=lambda s: (-match[s], -catalogue.newness[s], catalogue.song_key[s])),
        sorted(songs, key=lambda s: (-match[s], -catalogue.popularity[s], catalogue.song_key[s])),
        sorted(songs, key=lambda s: (-similarity[s], -catalogue.popularity[s], catalogue.song_key[s])),
    ]
    picks: list[Pick] = []
    seen: set[int] = set()
    for rank in range(len(songs)):
        for ordering in orderings:
            song = ordering[rank]
            if song not in seen:
                seen.add(song)
                picks.append(Pick(song, similarity[song], tuple(label for label in chosen if label in why[song])))
            if len(picks) == k:
                return picks
    return picks
