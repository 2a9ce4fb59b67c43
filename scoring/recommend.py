"""The two recommenders: a photo's labels (and features) in, songs with the reason out.

- ``mpic_embedding`` (MPIC): the photo's chosen labels become an English sentence the way song
  sentences are made (``spark_jobs.sentences.song_sentence``), embedded with the same MiniLM
  (``spark_jobs.embeddings.encode``); the query moves from that sentence towards a mix of every
  label's vector weighted by the photo's whole score vector (``score_weighted_query``: two photos with
  the same top labels but different scores ask different questions). Cosine against each distinct
  song sentence (``gold.sentence_embeddings``), a song scoring its sentence's cosine. With the
  submitter's 1-3 genres: the best song of each chosen genre, then the best remaining songs of those
  genres, 5 in all (songs of other genres fill in only when those genres run out); without genres,
  the best 5.
- ``imgenie_covers`` (IMGenie): for each label group (weather, mood, situation), the 15 playlists
  whose covers are nearest the photo by image features (FAISS over ``gold.cover_embeddings``) among
  the playlists carrying the photo's best label of that group; their songs are interleaved from three
  orderings - genre match + newest, genre match + most listed among those playlists, cover
  similarity -, deduplicated, first 6. "Newest" is the highest Genie song id (the crawl has no
  release dates). "Most listed" counts only the photo's playlists, not the catalogue's
  ``playlist_count``: the global count made every photo get the same hits (percentile 94).

Both re-rank (``Rerank``): each next song maximises MMR (Carbonell & Goldstein 1998),
``lambda * relevance - (1 - lambda) * max cosine to the songs already picked`` over the songs'
sentence vectors, minus a penalty on its ``playlist_count`` percentile above the median and one per
earlier photo of the same submission it was already given to (``score_uploads.recommend_picks``
passes that count, photos in input-key order). ``Rerank()`` (lambda 1, no penalties) is the plain ranking.

``matched_tags`` (the why): the photo's chosen labels that the song carries (MPIC) or that the
playlists it came from carry (IMGenie).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
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
POOL_SENTENCES = 40  # MPIC re-ranks the songs of this many best sentences (more if a chosen genre is missing)


@dataclass(frozen=True)
class Pick:
    song: int  # index in the catalogue
    score: float
    matched: tuple[str, ...]


@dataclass
class Rerank:
    """How a recommender re-ranks its candidates (the module doc); the defaults are the plain ranking."""
    mmr_lambda: float = 1.0
    popularity_weight: float = 0.0
    spread_weight: float = 0.0
    percentile: np.ndarray | None = None  # per song, 0-1 by playlist_count (diversity.popularity_percentiles)
    sentence_of: np.ndarray | None = None  # per song, its row of catalogue.sentence_vectors; -1 without one
    used: Counter = field(default_factory=Counter)  # song -> earlier photos of the submission given it

    @classmethod
    def from_settings(cls, catalogue: Catalogue, used: Counter | None = None) -> "Rerank":
        from core import settings
        from scoring.diversity import popularity_percentiles

        s = settings.load()
        return cls(s.recommend_mmr_lambda, s.recommend_popularity_weight, s.recommend_spread_weight,
                   popularity_percentiles(catalogue.popularity) / 100, song_sentences(catalogue),
                   Counter() if used is None else used)

    def penalty(self, songs: np.ndarray) -> np.ndarray:
        """What each song loses: its popularity above the median, and its earlier uses in the submission."""
        songs = np.asarray(songs, dtype=np.int64)
        out = np.zeros(len(songs), np.float64)
        if self.popularity_weight and self.percentile is not None:
            out += popularity_penalty(self.percentile[songs], self.popularity_weight)
        if self.spread_weight and self.used:
            out += self.spread_weight * np.asarray([self.used.get(int(s), 0) for s in songs], np.float64)
        return out

    def vectors(self, songs: np.ndarray, catalogue: Catalogue) -> np.ndarray:
        """The songs' sentence vectors for MMR (zeros for a song without a sentence: similar to nothing)."""
        dim = catalogue.sentence_vectors.shape[1] if catalogue.sentence_vectors.ndim == 2 else 0
        out = np.zeros((len(songs), dim), np.float32)
        if self.sentence_of is not None and dim:
            rows = self.sentence_of[np.asarray(songs, dtype=np.int64)]
            out[rows >= 0] = catalogue.sentence_vectors[rows[rows >= 0]]
        return out


def song_sentences(catalogue: Catalogue) -> np.ndarray:
    """Per song, the row of ``catalogue.sentence_vectors`` of its sentence, -1 for a song without one."""
    out = np.full(catalogue.songs, -1, np.int64)
    for s, songs in enumerate(catalogue.sentence_songs):
        out[np.asarray(songs, dtype=np.int64)] = s
    return out


def popularity_penalty(percentile: np.ndarray, weight: float) -> np.ndarray:
    """``weight`` times how far above the median (0-1) a song's popularity percentile (0-1) is: the catalogue's
    most listed lose ``weight``, songs at or below the median nothing (penalising all would favour the unknown)."""
    return weight * 2 * np.clip(np.asarray(percentile, dtype=np.float64) - 0.5, 0.0, None)


def mmr_next(relevance: np.ndarray, vectors: np.ndarray, picked: Sequence[int], mmr_lambda: float,
             penalty: np.ndarray | None = None, eligible: np.ndarray | None = None) -> int | None:
    """The candidate (index) maximal marginal relevance picks next: ``lambda * relevance - (1 - lambda) *
    max cosine to the picked ones - penalty``, among ``eligible`` ones not picked; ties go to the first."""
    value = mmr_lambda * np.asarray(relevance, dtype=np.float64)
    if picked and mmr_lambda < 1:
        value = value - (1 - mmr_lambda) * (vectors @ vectors[list(picked)].T).max(axis=1)
    if penalty is not None:
        value = value - penalty
    allowed = np.ones(len(value), bool) if eligible is None else np.asarray(eligible, bool).copy()
    allowed[list(picked)] = False
    if not allowed.any():
        return None
    return int(np.flatnonzero(allowed)[np.argmax(value[allowed])])


def mmr_order(relevance: np.ndarray, vectors: np.ndarray, k: int, mmr_lambda: float,
              penalty: np.ndarray | None = None) -> list[int]:
    """The first ``k`` candidates (indices) in MMR's order."""
    picked: list[int] = []
    while len(picked) < k:
        nxt = mmr_next(relevance, vectors, picked, mmr_lambda, penalty)
        if nxt is None:
            break
        picked.append(nxt)
    return picked


def chosen_labels(scores: Sequence[float], labels: Sequence[str], groups: Sequence[str]) -> list[str]:
    """The labels a photo is taken to show, best first: each group's best, plus others scoring
    ``MIN_LABEL_SCORE`` or more, at most ``LABELS_PER_GROUP`` per group."""
    scores = np.asarray(scores, dtype=np.float64)
    out, per_group = [], {}
    for j in np.argsort(-scores, kind="stable"):
        group = groups[j]
        taken = per_group.get(group, 0)
        if scores[j] <= 0:  # an uncertain group's labels are zeroed: nothing to ask for
            break
        if taken < LABELS_PER_GROUP and (taken == 0 or scores[j] >= MIN_LABEL_SCORE):
            out.append(labels[j])
            per_group[group] = taken + 1
    return out


def best_of_groups(scores: Sequence[float], labels: Sequence[str], groups: Sequence[str]) -> dict[str, str]:
    best: dict[str, tuple[float, str]] = {}
    for score, label, group in zip(scores, labels, groups):
        if score > 0 and (group not in best or score > best[group][0]):  # uncertain groups are zeroed: none
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


_LABEL_VECTORS: dict[str, np.ndarray] = {}  # a label's one-label sentence -> its vector, once per process


def label_vectors(labels: Sequence[str], catalogue: Catalogue, group_of: dict[str, str]) -> np.ndarray:
    """(labels, 384): each label's vector, its one-label song sentence embedded (zeros for a label without one)."""
    sentences = [tag_sentence([label], catalogue, group_of) for label in labels]
    missing = sorted({s for s in sentences if s and s not in _LABEL_VECTORS})
    if missing:
        _LABEL_VECTORS.update(zip(missing, embed_sentences(missing)))
    dim = catalogue.sentence_vectors.shape[1]
    return np.stack([_LABEL_VECTORS[s] if s else np.zeros(dim, np.float32) for s in sentences]).astype(np.float32)


def score_weighted_query(scores: Sequence[float], groups: Sequence[str], vectors: np.ndarray,
                         use_groups: Sequence[str], sentence_vector: np.ndarray | None, mix: float) -> np.ndarray | None:
    """MPIC's query from the whole score vector: the top labels' ``sentence_vector`` moved by ``mix`` (0-1)
    towards a mix of the label ``vectors`` of ``use_groups`` (the confident groups). Within a group a label
    weighs its squared excess over the group's mean score (squared: the leaders dominate, the rest still
    count), each group weighing the same; unit length, or None with nothing to ask."""
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups)
    mixed = np.zeros(vectors.shape[1], np.float64)
    for group in dict.fromkeys(use_groups):
        cols = np.flatnonzero(groups == group)
        if not len(cols):
            continue
        excess = np.clip(scores[cols] - scores[cols].mean(), 0.0, None) ** 2
        if excess.sum() > 0:
            mixed += (excess / excess.sum()) @ vectors[cols]
    norm = np.linalg.norm(mixed)
    mixed = mixed / norm if norm > 0 else None
    if sentence_vector is None or not np.any(sentence_vector):
        query = mixed
    elif mixed is None:
        query = np.asarray(sentence_vector, dtype=np.float64)
    else:
        query = (1 - mix) * np.asarray(sentence_vector, dtype=np.float64) + mix * mixed
    if query is None or not np.linalg.norm(query) > 0:
        return None
    return (query / np.linalg.norm(query)).astype(np.float32)


# ---------------------------------------------------------------------------------------------- MPIC
def mpic(query: np.ndarray, chosen: Sequence[str], genres: Sequence[str], catalogue: Catalogue,
         k: int = MPIC_SONGS, rerank: Rerank | None = None) -> list[Pick]:
    """MPIC's rule over the catalogue's sentences for one photo's query vector, re-ranked by ``rerank``."""
    rerank = rerank or Rerank()
    if not len(catalogue.sentence_vectors) or query is None or not np.any(query):
        return []
    cosine = catalogue.sentence_vectors @ query.astype(np.float32)
    order = np.argsort(-cosine, kind="stable")
    wanted = list(genres)

    # Candidates: the songs of the best sentences. A sentence's songs are equally relevant, so of each only
    # the k its penalties rank first (ties: the stored order, most listed first), and k of each chosen genre.
    songs: list[int] = []
    sentence_rows: list[int] = []
    genre_count = dict.fromkeys(wanted, 0)
    in_wanted = 0
    added: set[int] = set()
    for used_sentences, s in enumerate(order):
        if used_sentences >= POOL_SENTENCES and len(songs) >= k and (
                not wanted or (in_wanted >= k and all(genre_count.values()))):
            break
        members = np.asarray(catalogue.sentence_songs[s], dtype=np.int64)
        ranked = members[np.argsort(rerank.penalty(members), kind="stable")]
        keep = list(ranked[:k])
        for genre in wanted:
            keep += [m for m in ranked if genre in catalogue.genres[m]][:k]
        for song in keep:
            song = int(song)
            if song in added:
                continue
            added.add(song)
            songs.append(song)
            sentence_rows.append(int(s))
            for genre in wanted:
                genre_count[genre] += genre in catalogue.genres[song]
            in_wanted += bool(set(catalogue.genres[song]) & set(wanted))
    if not songs:
        return []
    pool = np.asarray(songs, dtype=np.int64)
    relevance = cosine[sentence_rows].astype(np.float64)
    vectors = catalogue.sentence_vectors[sentence_rows]
    penalty = rerank.penalty(pool)
    picked: list[int] = []

    def take(eligible: np.ndarray | None) -> bool:
        nxt = mmr_next(relevance, vectors, picked, rerank.mmr_lambda, penalty, eligible)
        if nxt is not None:
            picked.append(nxt)
        return nxt is not None

    genre_bests = 0
    if wanted:
        # The best song of each chosen genre, in the submitter's order; then the best of any chosen genre.
        for genre in wanted:
            take(np.asarray([genre in catalogue.genres[s] for s in pool]))
        genre_bests = len(picked)
        of_wanted = np.asarray([bool(set(catalogue.genres[s]) & set(wanted)) for s in pool])
        while len(picked) < k and take(of_wanted):
            pass
    while len(picked) < k and take(None):  # no genre chosen, or the chosen genres ran out
        pass
    picks = [Pick(int(pool[i]), float(relevance[i]),
                  tuple(label for label in chosen if label in catalogue.song_labels[pool[i]])) for i in picked[:k]]
    if wanted:  # the genres' best songs lead, best first
        picks = sorted(picks[:genre_bests], key=lambda p: -p.score) + picks[genre_bests:]
    return picks[:k]


# ---------------------------------------------------------------------------------------------- IMGenie
def nearest_covers(features: np.ndarray, catalogue: Catalogue) -> tuple[np.ndarray, np.ndarray]:
    """``(similarities, cover indices)`` of the ``SEARCH_DEPTH`` nearest covers of each photo (FAISS, exact)."""
    depth = min(SEARCH_DEPTH, len(catalogue.cover_ids))
    return catalogue.cover_index().search(np.ascontiguousarray(features, dtype=np.float32), depth)


def _playlists_for(label: str | None, sims: np.ndarray, covers: np.ndarray, feature: np.ndarray,
                   catalogue: Catalogue, exclude=()) -> list[tuple[int, float]]:
    """The ``PLAYLISTS_PER_GROUP`` playlists carrying ``label`` whose covers are nearest the photo."""
    def collect(pairs) -> list[tuple[int, float]]:
        found: dict[int, float] = {}
        for cover, sim in pairs:
            if cover in exclude:
                continue
            for plm in catalogue.cover_playlists[cover]:
                if (label is None or label in catalogue.playlist_labels.get(plm, ())) and plm not in found:
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
            exclude=(), rerank: Rerank | None = None) -> list[Pick]:
    """IMGenie's rule for one photo: ``best`` is its best label per group, ``sims``/``covers`` its nearest covers;
    covers in ``exclude`` (indices; an evaluation's query cover) are never used; re-ranked by ``rerank``."""
    rerank = rerank or Rerank()
    similarity: dict[int, float] = {}  # song -> the best similarity of a playlist bringing it
    support: Counter = Counter()  # song -> how many of the photo's playlists list it
    why: dict[int, set[str]] = {}
    chosen_set = set(chosen)
    # No confident label (an uncertain photo), or none any playlist carries: the nearest covers' playlists,
    # whatever their labels.
    for labels in ([best[group] for group in sorted(best)], [None]):
        for label in labels:
            for plm, sim in _playlists_for(label, sims, covers, feature, catalogue, exclude):
                reasons = chosen_set & catalogue.playlist_labels.get(plm, frozenset())
                for song in set(int(s) for s in catalogue.playlist_songs.get(plm, ())):
                    if sim > similarity.get(song, -2.0):
                        similarity[song] = sim
                    support[song] += 1
                    why.setdefault(song, set()).update(reasons)
        if similarity:
            break
    if not similarity:
        return []
    songs = np.asarray(sorted(similarity), dtype=np.int64)  # by song key: the last tie-break
    wanted = set(genres)
    match = np.asarray([bool(wanted & set(catalogue.genres[s])) for s in songs])
    sim = np.asarray([similarity[int(s)] for s in songs], dtype=np.float64)
    listed = np.asarray([support[int(s)] for s in songs], dtype=np.float64) / max(support.values())
    spread = sim.max() - sim.min()
    closeness = (sim - sim.min()) / spread if spread > 0 else np.ones(len(songs))
    from scoring.diversity import popularity_percentiles

    # The three orderings as relevances in 0-1 (genre match, where asked, is taken first).
    orderings = [
        (popularity_percentiles(catalogue.newness[songs]) / 100, True),  # genre match + newest
        (listed + 1e-3 * closeness, True),  # genre match + most listed among the photo's playlists
        (closeness + 1e-3 * listed, False),  # cover similarity
    ]
    vectors = rerank.vectors(songs, catalogue)
    penalty = rerank.penalty(songs)
    picked: list[int] = []
    while len(picked) < min(k, len(songs)):
        for relevance, genre_first in orderings:
            eligible = None
            if genre_first and wanted:
                free = match.copy()
                free[picked] = False
                eligible = match if free.any() else None
            nxt = mmr_next(relevance, vectors, picked, rerank.mmr_lambda, penalty, eligible)
            if nxt is not None:
                picked.append(nxt)
            if len(picked) == k:
                break
    return [Pick(int(songs[i]), float(sim[i]), tuple(label for label in chosen if label in why[int(songs[i])]))
            for i in picked]
