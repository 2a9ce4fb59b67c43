"""The bilingual glossary shipped beside the taxonomy: every taxonomy tag has one English text, no two share one."""

from __future__ import annotations

from schemas import glossary, taxonomy


def test_every_taxonomy_tag_has_an_english_entry():
    tags = [t for tags in taxonomy.categories().values() for t in tags] + list(taxonomy.genres())
    assert glossary.missing(tags) == [], "add these tags to schemas/glossary.json"
    assert len(tags) == 95


def test_the_glossary_knows_only_taxonomy_tags_and_no_two_tags_share_an_english_text():
    known = {taxonomy.clean_tag(t) for tags in taxonomy.categories().values() for t in tags}
    known |= {taxonomy.clean_tag(g) for g in taxonomy.genres()}
    entries = glossary.entries()
    assert set(entries) == known
    texts = list(entries.values())
    assert len(texts) == len(set(texts))  # a sentence's English and Korean forms name the same tags
    assert all(text and text == text.strip() and "," not in text for text in texts)  # commas separate labels


def test_lookup_cleans_the_tag_and_says_none_when_unknown():
    assert glossary.english("비오는날") == "rainy day"
    assert glossary.english(" 잠잘  때 ") == "bedtime"  # NFKC and spaces as the taxonomy matches them
    assert glossary.english("NORDLUX") is None
    assert glossary.missing(["밤", "NORDLUX", "월요일", "NORDLUX", ""]) == ["NORDLUX", "월요일"]
