"""The recommenders' rules and the caption's bounded shift, on a literal catalogue (no model, no Spark)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from scoring import labels, recommend, text_intent
from scoring.catalogue import Catalogue


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def literal_catalogue() -> Catalogue:
    # songs 0..5; sentences: s0 (rain) = songs 0, 1; s1 (night) = song 2; s2 (sunny) = songs 3, 4, 5
    genres = [("발라드",), ("POP",), ("POP",), ("댄스",), ("발라드",), ("인디",)]
    song_labels = [{"비오는날"}, {"비오는날", "밤"}, {"밤"}, {"맑은날"}, {"맑은날"}, {"맑은날", "카페"}]
    return Catalogue(
        version="20261120T000000Z", pinned={}, label_map=labels.from_taxonomy(), category_of={},
        song_key=[f"k{i}" for i in range(6)], title=[f"t{i}" for i in range(6)], artist=[f"a{i}" for i in range(6)],
        song_id=[str(100 + i) for i in range(6)], genres=genres, song_labels=[frozenset(x) for x in song_labels],
        popularity=np.asarray([5, 9, 3, 1, 2, 7]), newness=np.asarray([100, 101, 102, 103, 104, 105]),
        sentence_vectors=np.stack([unit(1, 0, 0), unit(0.6, 0.8, 0), unit(0, 0, 1)]),
        sentence_songs=[np.asarray([1, 0]), np.asarray([2]), np.asarray([5, 4, 3])],
        cover_encoder="test", cover_ids=["c0", "c1", "c2"],
        cover_vectors=np.stack([unit(1, 0), unit(0.8, 0.6), unit(0, 1)]),
        cover_playlists=[(10,), (11,), (12,)],
        playlist_labels={10: frozenset({"비오는날", "밤"}), 11: frozenset({"비오는날"}), 12: frozenset({"맑은날"})},
        playlist_songs={10: np.asarray([0, 2]), 11: np.asarray([1, 3]), 12: np.asarray([4, 5])},
    )


def test_mpic_without_genres_is_the_best_five_by_sentence_then_most_listed():
    picks = recommend.mpic(unit(1, 0, 0), ["비오는날"], [], literal_catalogue())
    assert [p.song for p in picks] == [1, 0, 2, 5, 4]  # s0 (most listed first), s1, then s2's
    assert picks[0].matched == ("비오는날",) and picks[2].matched == ()
    assert picks[0].score == picks[1].score > picks[2].score


def test_mpic_takes_the_best_song_of_each_chosen_genre_then_the_best_of_those_genres():
    picks = recommend.mpic(unit(1, 0, 0), ["비오는날"], ["댄스", "발라드"], literal_catalogue())
    songs = [p.song for p in picks]
    assert set(songs[:2]) == {0, 3} and songs[0] == 0  # each genre's best, best first
    assert songs[2] == 4  # then the best remaining of 댄스/발라드; other genres only fill in after
    assert len(picks) == 5 and set(songs[3:]) <= {1, 2, 5}


def test_imgenie_searches_per_group_interleaves_three_orderings_and_dedupes():
    catalogue = literal_catalogue()
    feature = unit(1, 0.1)
    sims, covers = recommend.nearest_covers(feature[None], catalogue)
    assert covers[0][0] == 0  # FAISS: the nearest cover first
    picks = recommend.imgenie(feature, sims[0], covers[0], {"weather": "비오는날"}, ["비오는날"], ["POP"], catalogue)
    songs = [p.song for p in picks]
    assert len(songs) == len(set(songs)) == 4  # playlists 10 and 11 carry 비오는날: songs 0-3; 12 does not
    # genre match + newest -> 2, genre match + most listed -> 1, similarity + most listed -> 0, then 3
    assert songs == [2, 1, 0, 3]
    assert all(p.matched == ("비오는날",) for p in picks)


def test_imgenie_without_a_usable_label_takes_the_nearest_covers_whatever_they_carry():
    catalogue = literal_catalogue()
    feature = unit(0.1, 1)  # nearest cover: c2 (playlist 12, 맑은날)
    sims, covers = recommend.nearest_covers(feature[None], catalogue)
    uncertain = recommend.imgenie(feature, sims[0], covers[0], {}, [], [], catalogue)  # every group uncertain
    no_playlist = recommend.imgenie(feature, sims[0], covers[0], {"weather": "눈오는날"}, ["눈오는날"], [], catalogue)
    assert {p.song for p in uncertain} == {p.song for p in no_playlist} == set(range(6))
    assert all(p.matched == () for p in uncertain + no_playlist)  # no label chose them: no why to claim
    assert recommend.best_of_groups([0.0, 0.0, 0.7], ["맑은날", "비오는날", "카페"],
                                    ["weather", "weather", "situation"]) == {"situation": "카페"}
    assert recommend.chosen_labels([0.0, 0.0, 0.7], ["맑은날", "비오는날", "카페"],
                                   ["weather", "weather", "situation"]) == ["카페"]  # zeroed (uncertain) never chosen


def test_chosen_labels_keep_each_groups_best_and_confident_others():
    chosen = recommend.chosen_labels([0.9, 0.6, 0.2, 0.3, 0.1], ["비오는날", "겨울", "맑은날", "밤", "카페"],
                                     ["weather", "weather", "weather", "situation", "situation"])
    assert chosen == ["비오는날", "겨울", "밤"]


def test_a_caption_shift_is_bounded_and_points_to_the_most_similar_label():
    captions = np.stack([unit(1, 0, 0), unit(0, 0, 1)])
    label_vectors = np.stack([unit(1, 0, 0), unit(0.5, 0.5, 0), unit(0, 1, 0), unit(0, 0, 1)])
    shift = text_intent.shift_matrix(captions, label_vectors, ["weather", "weather", "weather", "mood"])
    assert np.abs(shift).max() <= text_intent.CAP + 1e-6
    assert shift[0, 0] == np.float32(text_intent.CAP) and shift[0, 2] < 0 < shift[0, 1]
    assert text_intent.is_english("a rainy night drive") and not text_intent.is_english("비 오는 밤 드라이브")


# ---------------------------------------------------------------------------------------------- re-ranking
def test_mmr_picks_a_diverse_second_item_over_a_near_duplicate():
    vectors = np.stack([unit(1, 0, 0), unit(0.99, 0.14, 0), unit(0, 0, 1)])
    relevance = np.asarray([0.9, 0.88, 0.7])
    assert recommend.mmr_order(relevance, vectors, 2, 1.0) == [0, 1]  # relevance alone: the near-duplicate
    assert recommend.mmr_order(relevance, vectors, 2, 0.7) == [0, 2]  # MMR: the different one


def test_the_popularity_penalty_reorders_a_literal_list():
    percentile = np.asarray([1.0, 0.5, 0.2])  # song 0 the most listed, 1 at the median, 2 below
    penalty = recommend.popularity_penalty(percentile, 0.2)
    assert np.allclose(penalty, [0.2, 0.0, 0.0])  # only above the median loses
    relevance = np.asarray([0.8, 0.7, 0.5])
    order = recommend.mmr_order(relevance, np.zeros((3, 2), np.float32), 3, 1.0, penalty)
    assert order == [1, 0, 2]  # 0.8 - 0.2 falls below 0.7; song 2 stays last


def test_the_score_weighted_query_differs_for_two_score_vectors_with_the_same_top_label():
    vectors = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)])
    groups = ["weather", "weather", "weather"]
    sentence = unit(1, 0, 0)  # both photos' top label is 0: the same sentence
    a = recommend.score_weighted_query([0.9, 0.6, 0.1], groups, vectors, ["weather"], sentence, 0.5)
    b = recommend.score_weighted_query([0.9, 0.1, 0.6], groups, vectors, ["weather"], sentence, 0.5)
    assert a[1] > 0 == b[1] and b[2] > 0 == a[2]  # each leans to its own runner-up
    assert np.isclose(np.linalg.norm(a), 1) and not np.allclose(a, b)
    assert np.allclose(recommend.score_weighted_query([0.9, 0.6, 0.1], groups, vectors, ["weather"], sentence, 0.0),
                       sentence)  # mix 0: the sentence alone


def test_a_submission_spreads_two_identical_photos_over_different_first_songs():
    catalogue = literal_catalogue()
    first = recommend.mpic(unit(1, 0, 0), ["비오는날"], [], catalogue, k=2)
    used = Counter(p.song for p in first)
    second = recommend.mpic(unit(1, 0, 0), ["비오는날"], [], catalogue, k=2,
                            rerank=recommend.Rerank(spread_weight=0.5, used=used))
    assert [p.song for p in first] == [1, 0] and [p.song for p in second] == [2, 1]  # s1's song (0.6) beats 1 - 0.5
    feature = unit(1, 0.1)
    sims, covers = recommend.nearest_covers(feature[None], catalogue)
    args = (feature, sims[0], covers[0], {"weather": "비오는날"}, ["비오는날"], [], catalogue)
    one = recommend.imgenie(*args, k=1)
    two = recommend.imgenie(*args, k=1, rerank=recommend.Rerank(spread_weight=0.5, used=Counter(p.song for p in one)))
    assert one[0].song != two[0].song


def test_diversity_figures_on_literal_lists():
    from scoring import diversity

    lists = [[0, 1], [1, 0], [2, 3], []]  # the first two are the same songs re-ordered; the empty is no answer
    assert diversity.distinct_lists_ratio(lists) == 2 / 3
    assert diversity.distinct_songs_ratio(lists) == 4 / 6
    pct = diversity.popularity_percentiles([1, 1, 5, 9])
    assert np.allclose(pct, [100 / 6, 100 / 6, 200 / 3, 100]) and np.isclose(pct.mean(), 50)
    assert diversity.mean_popularity_percentile([[3], [3]], pct) == 100.0
