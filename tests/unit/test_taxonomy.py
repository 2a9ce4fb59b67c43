"""The taxonomy shipped as data: six categories matched by whole tag, genres, genre strings split on '/'."""

from __future__ import annotations

import pytest

from schemas import gold, taxonomy


def test_the_six_categories_and_genres_ship_in_the_repository():
    sizes = {name: len(tags) for name, tags in taxonomy.categories().items()}
    assert sizes == {"situation": 21, "emotion": 18, "time": 5, "style": 23, "weather": 7, "season": 4}
    assert taxonomy.category_names() == gold.TAG_CATEGORIES  # gold.songs has one list per category
    assert len(taxonomy.genres()) == 17 and "R&B/소울" in taxonomy.genres()
    every = [t for tags in taxonomy.categories().values() for t in tags]
    assert len(every) == len(set(every)) == 78  # no tag in two categories


@pytest.mark.parametrize("tag, category", [
    ("밤", "time"), ("비오는날", "weather"), ("잠잘 때", "situation"), ("  잠잘 때 ", "situation"),
    ("ｒ", "other"), ("밤산책", "other"),  # MPIC's substring match put this under 밤: a whole tag is needed
    ("발라드", "other"), ("NORDLUX", "other"), ("", "other"),
])
def test_tags_are_matched_whole(tag, category):
    assert taxonomy.category_of(tag) == category


@pytest.mark.parametrize("shown, genres", [
    ("가요 / 발라드", ["가요", "발라드"]),
    ("POP / 락", ["POP", "락"]),
    ("가요 / 락/메탈", ["가요", "락/메탈"]),  # a genre name with a bare '/' stays whole
    ("가요 / R&B/소울", ["가요", "R&B/소울"]),
    ("POP/락", ["POP", "락"]),  # unspaced levels still split
    ("OST / OST", ["OST"]),  # a set
    ("  ", []), (None, []),
])
def test_genre_strings_split_into_a_set(shown, genres):
    assert taxonomy.split_genres(shown) == genres
