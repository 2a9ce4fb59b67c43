"""Per-class scores of the catalogue's song identity: pairs that touch a variant class, and hard negatives kept apart."""

from __future__ import annotations

import pytest

from quality.catalogue_eval import (
    GroundTruthError,
    MelonTruth,
    class_scores,
    classes_by_row,
    cross_source_scores,
    negatives_of,
    score_catalogue,
    truth_by_row,
)

# One playlist: a song, its gloss and alias+spacing spellings, its live version (a hard negative), another song.
TRUTH = {
    "rows": [
        {"plm_seq": 1, "position": 1, "canonical_song_key": "IU - 밤편지", "variants": []},
        {"plm_seq": 1, "position": 2, "canonical_song_key": "IU - 밤편지", "variants": ["gloss"]},
        {"plm_seq": 1, "position": 3, "canonical_song_key": "IU - 밤편지", "variants": ["alias_spacing"]},
        {"plm_seq": 1, "position": 4, "canonical_song_key": "IU - 밤편지 (Live)", "variants": ["neg_live"]},
        {"plm_seq": 1, "position": 5, "canonical_song_key": "IU - 좋은 날", "variants": []},
        {"plm_seq": 2, "position": 1, "canonical_song_key": "IU - 좋은 날", "variants": ["work_title"]},  # not crawled
    ],
    "negatives": {"IU - 밤편지 (Live)": "IU - 밤편지"},
}


def row(position, key, artist, title, plm_seq=1):
    return {"plm_seq": plm_seq, "position": position, "song_key": key, "artist_name": artist, "song_title": title}


# The build merged the gloss, missed the alias, and wrongly merged the live version.
CATALOGUE = [
    row(1, "k1", "IU", "밤편지"),
    row(2, "k1", "IU", "밤편지 (Night Letter)"),
    row(3, "k3", "아이유 (IU)", "밤 편지"),
    row(4, "k1", "IU", "밤편지 (Live)"),
    row(5, "k5", "IU", "좋은 날"),
]


def scores():
    return score_catalogue(CATALOGUE, truth_by_row(TRUTH), classes_by_row(TRUTH), negatives_of(TRUTH))


def test_per_class_pairs_are_those_touching_a_spelling_of_the_class():
    result = scores()
    # spellings: s1 (k1, A), s2 (k1, A, gloss), s3 (k3, A, alias), s4 (k1, L, neg_live), s5 (k5, G)
    assert (result.spellings.precision, result.spellings.recall) == (1 / 3, 1 / 3)
    gloss = result.per_class["gloss"]
    # true pairs with s2: s1-s2, s2-s3; predicted: s1-s2, s2-s4; right: s1-s2
    assert (gloss.precision, gloss.recall, gloss.spellings) == (0.5, 0.5, 1)
    alias = result.per_class["alias_spacing"]
    assert (alias.precision, alias.recall, alias.spellings) == (1.0, 0.0, 1)  # merged with nothing: nothing wrong
    live = result.per_class["neg_live"]
    assert (live.precision, live.recall, live.spellings) == (0.0, 1.0, 1)  # no true pair to find
    assert (live.kept_apart, live.with_twin) == (0.0, 1)  # merged with its twin song
    assert gloss.kept_apart is None and "kept_apart" not in gloss.as_dict()


def test_a_class_of_the_truth_with_no_crawled_spelling_is_listed_with_no_spelling():
    work = scores().per_class["work_title"]
    assert (work.precision, work.recall, work.spellings) == (1.0, 1.0, 0)


def test_a_pair_of_two_class_spellings_counts_once():
    # one song: its canonical spelling c and two gloss spellings g1, g2; the build joined g1 and g2 only
    spellings = [("x", "A", ()), ("y", "A", ("gloss",)), ("y", "A", ("gloss",))]
    gloss = class_scores(spellings)["gloss"]
    # pairs touching gloss: c-g1, c-g2, g1-g2 true; g1-g2 predicted and right
    assert (gloss.precision, round(gloss.recall, 4), gloss.spellings) == (1.0, 0.3333, 2)
    everything_merged = class_scores([("x", "A", ()), ("x", "A", ("gloss",)), ("x", "A", ("gloss",))])["gloss"]
    assert (everything_merged.precision, everything_merged.recall) == (1.0, 1.0)


def test_a_spelling_belongs_to_every_class_of_its_rows():
    truth = {"rows": [
        {"plm_seq": 1, "position": 1, "canonical_song_key": "A - t", "variants": ["spacing"]},
        {"plm_seq": 1, "position": 2, "canonical_song_key": "A - t", "variants": ["re_release"]},
        {"plm_seq": 1, "position": 3, "canonical_song_key": "A - t", "variants": []},
    ]}
    catalogue = [row(1, "a|t", "A", "t "), row(2, "a|t", "A", "t "), row(3, "a|t", "A", "t")]
    result = score_catalogue(catalogue, truth_by_row(truth), classes_by_row(truth))
    assert result.per_class["spacing"].spellings == result.per_class["re_release"].spellings == 1
    assert result.per_class["spacing"].recall == result.per_class["re_release"].recall == 1.0


def test_kept_apart_counts_only_negatives_whose_twin_was_crawled():
    spellings = [
        ("k1", "IU - 밤편지", ()), ("k2", "IU - 밤편지 (Live)", ("neg_live",)),  # kept apart
        ("k3", "IU - 삐삐", ()), ("k3", "IU - 삐삐 (Live)", ("neg_live",)),  # merged with its twin
        ("k4", "IU - 라일락 (Live)", ("neg_live",)),  # twin not in the catalogue: not counted
    ]
    negatives = {"IU - 밤편지 (Live)": "IU - 밤편지", "IU - 삐삐 (Live)": "IU - 삐삐", "IU - 라일락 (Live)": "IU - 라일락"}
    live = class_scores(spellings, negatives=negatives, negative_classes=["neg_live"])["neg_live"]
    assert (live.kept_apart, live.with_twin, live.spellings) == (0.5, 2, 3)
    assert (live.precision, live.recall) == (0.0, 1.0)


def test_the_dict_form_has_per_class_and_older_callers_get_an_empty_one():
    out = scores().as_dict()
    assert out["per_class"]["gloss"] == {"precision": 0.5, "recall": 0.5, "spellings": 1}
    assert out["per_class"]["neg_live"] == {"precision": 0.0, "recall": 1.0, "spellings": 1, "kept_apart": 0.0,
                                            "with_twin": 1}
    assert list(out["per_class"]) == sorted(out["per_class"])
    plain = score_catalogue(CATALOGUE, truth_by_row(TRUTH))
    assert plain.per_class == {} and plain.as_dict()["per_class"] == {}


def test_ground_truth_parts_are_read_and_checked():
    assert classes_by_row(TRUTH)[(1, 2)] == ("gloss",) and (1, 1) not in classes_by_row(TRUTH)
    assert negatives_of({"rows": []}) == {}  # a ground truth from before the negatives
    with pytest.raises(GroundTruthError, match="negatives"):
        negatives_of({"negatives": ["x"]})
    with pytest.raises(GroundTruthError, match="no 'rows' list"):
        classes_by_row({})


# The Melon generator's truth: its song 10 is Genie's 밤편지 (spelled with a gloss), 11 a cover by another
# artist (a cross-source hard negative), 12 a Melon-only song.
MELON = {"generator": "melon", "songs": {"10": "IU - 밤편지", "11": "Other - 밤편지", "12": "X - Y"},
         "shared_with_genie": {"10": "gloss"}, "negatives": {"11": {"class": "neg_cover", "of": 10}}}


def melon_row(position, key, artist, title, song_id, plm_seq=1):
    return {**row(position, key, artist, title, plm_seq), "source": "melon", "song_id": song_id}


def test_melon_rows_are_scored_by_song_id_per_class_and_across_sources():
    melon = MelonTruth.of(MELON)
    both = [*CATALOGUE,
            melon_row(1, "k1", "아이유", "밤편지 (Through the Night)", "10"),  # merged with Genie's: right
            melon_row(2, "k1", "Other", "밤편지", "11"),                       # merged too: wrong
            melon_row(3, "k12", "X", "Y", "12"),
            melon_row(4, "k99", "Z", "W", "999")]                            # not in the truth
    scored = score_catalogue(both, truth_by_row(TRUTH), classes_by_row(TRUTH), negatives_of(TRUTH), melon=melon)
    assert scored.unmatched_rows == 1 and scored.matched_rows == 8
    assert scored.per_class["melon_gloss"].recall == pytest.approx(2 / 3)  # the alias spelling (k3) was missed
    assert scored.per_class["melon_gloss"].precision == 0.5  # k1 also holds the live version and the cover
    assert scored.per_class["melon_neg_cover"].kept_apart == 0.0  # merged with the song it looks like
    # Across sources: Genie's 3 spellings of 밤편지 merged with Melon's 1 (3 true pairs, all found) and the
    # cover wrongly merged with 3 Genie spellings and the Genie live version with Melon's 밤편지 ...
    cross = cross_source_scores(both, truth_by_row(TRUTH), melon)
    # predicted cross pairs in k1: Genie {밤편지, gloss, live} x Melon {gloss, cover} = 6; true among them: 2
    # (밤편지 and its gloss with Melon's gloss); true cross pairs: Genie 밤편지 x3 spellings with Melon's 10,
    # of which the alias spelling (k3) was missed.
    assert cross.precision == pytest.approx(2 / 6) and cross.recall == pytest.approx(2 / 3)
    # Without the Melon truth the Melon rows are simply unmatched.
    assert score_catalogue(both, truth_by_row(TRUTH)).unmatched_rows == 4


def test_a_melon_truth_without_songs_is_a_one_line_error():
    with pytest.raises(GroundTruthError, match="no 'songs' map"):
        MelonTruth.of({"generator": "melon"})
