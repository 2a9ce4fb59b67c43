"""A song's sentence from its merged labels; vectors scaled to unit norm; the vector checks of the gate."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pytest

from quality.checks import check_vectors
from spark_jobs.embeddings import DIMENSIONS, encode, normalise
from spark_jobs.sentences import LABELS_PER_CATEGORY, LABELS_PER_SONG, sentence_id, song_sentence

# tag -> (label, the label's category), as gold.tag_map says
LABELS = {
    "드라이브": ("드라이브", "situation"), "카페": ("카페", "situation"), "산책": ("산책", "situation"),
    "운동": ("운동", "situation"), "고백": ("사랑", "emotion"), "사랑": ("사랑", "emotion"),
    "밤": ("밤", "time"), "잔잔한": ("잔잔한", "style"), "흐린날": ("비오는날", "weather"),
    "비오는날": ("비오는날", "weather"), "눈오는날": ("겨울", "season"), "겨울": ("겨울", "season"),
    "발라드": ("발라드", "other"), "NORDLUX": ("NORDLUX", "other"), "새태그": ("새태그", "emotion"),
}


def test_the_most_frequent_labels_in_category_order_merged_tags_once():
    tags = ["눈오는날", "밤", "고백", "흐린날", "드라이브", "사랑", "비오는날", "잔잔한", "겨울", "발라드", "NORDLUX"]
    sentence = song_sentence(tags, LABELS)
    # 흐린날 and 비오는날 are one label; the first four labels by frequency: 겨울, 밤, 사랑, 비오는날
    assert LABELS_PER_SONG == 4
    assert sentence.korean == "사랑, 밤, 비오는날, 겨울"
    assert sentence.english == "love, night, rainy day, winter"
    assert sentence.labels == ("사랑", "밤", "비오는날", "겨울")
    assert sentence.untranslated == ()


def test_tags_of_no_category_do_not_count_towards_the_song_cap():
    sentence = song_sentence(["발라드", "NORDLUX", "밤", "잔잔한", "드라이브", "사랑", "비오는날"], LABELS)
    assert sentence.english == "drive, love, night, calm"


def test_each_category_keeps_its_first_labels_only():
    sentence = song_sentence(["운동", "카페", "드라이브", "산책"], LABELS)
    assert LABELS_PER_CATEGORY == 3
    assert sentence.english == "workout, cafe, drive"


def test_a_label_without_english_stays_korean_and_is_reported():
    sentence = song_sentence(["새태그", "밤"], LABELS)
    assert (sentence.english, sentence.korean, sentence.untranslated) == ("새태그, night", "새태그, 밤", ("새태그",))


@pytest.mark.parametrize("tags", [[], None, ["발라드", "NORDLUX"], ["unknown tag"]])
def test_no_label_of_the_six_categories_means_no_sentence(tags):
    assert song_sentence(tags, LABELS) is None


def test_tags_may_come_as_a_numpy_array_from_a_pandas_udf():
    assert song_sentence(np.array(["밤", "비오는날"], dtype=object), LABELS).english == "night, rainy day"


def test_the_sentence_id_is_the_sha256_prefix_of_the_english_sentence():
    text = "drive, love, night"
    assert sentence_id(text) == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert song_sentence(["드라이브", "사랑", "밤"], LABELS).sentence_id == sentence_id(text)


def test_vectors_are_scaled_to_unit_norm_and_a_zero_or_nan_vector_is_an_error():
    raw = np.array([[3.0, 4.0] + [0.0] * (DIMENSIONS - 2), [0.0] * DIMENSIONS, [np.nan] * DIMENSIONS])
    vectors, errors = normalise(raw)
    assert vectors.dtype == np.float32 and vectors.shape == (3, DIMENSIONS)
    assert vectors[0][:2].tolist() == pytest.approx([0.6, 0.8])
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-6)
    assert errors[0] is None and "norm 0.0" in errors[1] and "nan" in errors[2]


class _PickyModel:
    """Stands in for the third-party SentenceTransformer: fails on one sentence, like a tokenizer bug would."""

    def encode(self, sentences, **_):
        if "bad" in sentences:
            raise ValueError("cannot tokenize 'bad'\nsecond line")
        return np.ones((len(sentences), DIMENSIONS))


def test_a_sentence_that_fails_costs_only_itself_and_says_why():
    vectors, errors = encode(["night", "bad", "rainy day"], _PickyModel())
    assert errors == [None, "ValueError: cannot tokenize 'bad'", None]
    assert np.linalg.norm(vectors[[0, 2]], axis=1) == pytest.approx([1.0, 1.0])
    assert encode([], _PickyModel())[0].shape == (0, DIMENSIONS)


def _vectors_table(vectors, errors):
    return pa.table({"vector": pa.array(vectors, pa.list_(pa.float32())), "error": pa.array(errors, pa.string())})


def test_the_gate_checks_vector_length_norm_and_that_a_missing_vector_says_why():
    unit = [1.0] + [0.0] * (DIMENSIONS - 1)
    assert check_vectors(_vectors_table([unit, None], [None, "the model gave a vector of norm 0.0"])) == []
    failures = check_vectors(_vectors_table([unit[:10], None], [None, None]))
    assert failures == ["vector: 1 row(s) without a vector and without an error",
                        f"vector: 1 vector(s) not of length {DIMENSIONS}"]
    assert check_vectors(_vectors_table([[0.5] + [0.0] * (DIMENSIONS - 1)], [None])) == [
        "vector: 1 vector(s) without unit L2 norm (e.g. 0.5000)"]
