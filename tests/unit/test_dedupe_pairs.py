"""The hand-labelled dedupe pairs: the fixture's shape, the evaluator's counting, and the issue's goals."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest

from core.errors import ScenetuneError
from quality import dedupe_pairs
from quality.dedupe_pairs import COLUMNS, NEGATIVE_CLASSES, POSITIVE_CLASSES, evaluate, load
from spark_jobs.song_identity import identify_rows

GENIE_ID = re.compile(r"^\d{8,9}$")


@pytest.fixture(scope="module")
def pairs():
    return load()


def test_the_pair_set_is_large_half_hard_negatives_and_covers_every_class(pairs):
    classes = Counter(p.cls for p in pairs)
    assert len(pairs) >= 160
    assert sum(not p.same for p in pairs) >= len(pairs) / 2
    assert set(classes) == set(POSITIVE_CLASSES) | set(NEGATIVE_CLASSES)
    assert min(classes[c] for c in NEGATIVE_CLASSES) >= 8
    assert min(classes[c] for c in POSITIVE_CLASSES) >= 12


def test_every_pair_is_complete_unique_and_labelled_by_its_class(pairs):
    assert len({p.pair_id for p in pairs}) == len(pairs)
    for p in pairs:
        assert all((p.a["artist_name"], p.a["song_title"], p.b["artist_name"], p.b["song_title"])), p.pair_id
        assert p.same == (p.cls in POSITIVE_CLASSES), p.pair_id
        assert p.note, p.pair_id
        for row in (p.a, p.b):
            for key in ("song_id", "album_id"):
                assert row[key] is None or GENIE_ID.match(row[key]), (p.pair_id, row[key])
    sides = Counter(frozenset((tuple(p.a.values()), tuple(p.b.values()))) for p in pairs)
    assert [s for s, n in sides.items() if n > 1] == []  # no pair twice, in either order
    assert all(p.a != p.b for p in pairs)  # no pair of one row with itself


def _evidence(p) -> bool:
    return any(p.a[k] and p.a[k] == p.b[k] for k in ("song_id", "album_id", "album_title"))


def test_renames_always_carry_evidence_and_work_titles_nearly_always(pairs):
    """A rename is never merged on strings alone; a work title without evidence is labelled by its truth."""
    assert all(_evidence(p) for p in pairs if p.cls == "renamed_artist")
    work = [p for p in pairs if p.cls == "work_title"]
    without = [p.pair_id for p in work if not _evidence(p)]
    assert len(without) <= len(work) // 4
    assert all("NO evidence" in p.note for p in work if p.pair_id in without)


def test_no_negative_shares_a_song_id(pairs):
    """A shared Genie song id is one song by definition: a negative with one would be mislabelled."""
    assert [p.pair_id for p in pairs if not p.same and p.a["song_id"] and p.a["song_id"] == p.b["song_id"]] == []


FOUR_PAIRS = [
    # one song, same spelling: certainly merged
    ["t1", "plain", "1", "아이유", "밤편지", "", "", "", "아이유", "밤편지", "", "", "", "identical rows"],
    # one song in truth (a rename), but no shared id or album: never merged on the strings alone
    ["t2", "renamed_artist", "1", "Dixie Chicks", "Landslide", "", "", "", "The Chicks", "Landslide", "", "", "",
     "no evidence"],
    # a live take: certainly kept apart
    ["t3", "neg_live", "0", "이승철", "널 보낸 이유 (Live)", "", "", "", "이승철", "널 보낸 이유", "", "", "", "live"],
    # labelled two songs on purpose, though only the spacing differs: certainly merged (a false merge)
    ["t4", "neg_other_song", "0", "SG 워너비", "내사람", "", "", "", "SG워너비", "내 사람", "", "", "", "wrong on purpose"],
]


def _write(path, rows, header=COLUMNS):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_the_evaluator_counts_a_hit_a_miss_a_kept_negative_and_a_false_merge(tmp_path):
    report = evaluate(load(_write(tmp_path / "pairs.csv", FOUR_PAIRS)), identify_rows)
    assert (report["precision"], report["recall"], report["f1"]) == (0.5, 0.5, 0.5)
    assert (report["pairs"], report["positives"], report["negatives"]) == (4, 2, 2)
    assert (report["true_merges"], report["false_merges"], report["missed"]) == (1, 1, 1)
    assert report["per_class"] == {
        "plain": {"pairs": 1, "same": 1, "merged": 1, "recall": 1.0},
        "renamed_artist": {"pairs": 1, "same": 1, "merged": 0, "recall": 0.0},
        "neg_live": {"pairs": 1, "same": 0, "merged": 0, "kept_apart": 1.0, "precision": 1.0},
        "neg_other_song": {"pairs": 1, "same": 0, "merged": 1, "kept_apart": 0.0, "precision": 0.5},
    }
    assert [(e["pair_id"], e["predicted"]) for e in report["errors"]] == [("t2", "kept apart"), ("t4", "merged")]
    assert report["errors"][1]["keys"][0] == report["errors"][1]["keys"][1]


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(ScenetuneError) as exc:
        load(tmp_path / "nowhere.csv")
    assert "nowhere.csv" in _one_line(exc)


@pytest.mark.parametrize("header, rows, says", [
    (("pair_id", "same"), [["x", "1"]], "expected pair_id,class"),
    (COLUMNS, [FOUR_PAIRS[0][:5]], "expected 14 fields"),
    (COLUMNS, [FOUR_PAIRS[0], FOUR_PAIRS[0]], "repeated"),
    (COLUMNS, [[*FOUR_PAIRS[0][:2], "yes", *FOUR_PAIRS[0][3:]]], "same must be 1 or 0"),
    (COLUMNS, [[FOUR_PAIRS[0][0], "remaster", *FOUR_PAIRS[0][2:]]], "class 'remaster'"),
    (COLUMNS, [[*FOUR_PAIRS[2][:2], "1", *FOUR_PAIRS[2][3:]]], "only same=0"),
    (COLUMNS, [[*FOUR_PAIRS[0][:8], "", *FOUR_PAIRS[0][9:]]], "an artist and a title"),
    (COLUMNS, [], "no pairs"),
])
def test_a_malformed_file_is_one_line(tmp_path, header, rows, says):
    with pytest.raises(ScenetuneError) as exc:
        load(_write(tmp_path / "pairs.csv", rows, header))
    assert says in _one_line(exc)


def test_the_bench_writes_the_standard_figures_with_its_baseline():
    from bench import bench_dedupe_pairs

    m = bench_dedupe_pairs.run("fixture")
    assert m.unit == "recall" and m.value == m.extra["recall"]
    assert 0 < m.baseline < 1 and m.extra["pairs"] == len(load())
    assert set(m.extra["per_class"]) == set(POSITIVE_CLASSES) | set(NEGATIVE_CLASSES)
    with pytest.raises(SystemExit):
        bench_dedupe_pairs.run("full")


def test_GOAL_the_shipped_pairs_meet_the_issues_precision_and_recall(pairs):
    """GOAL (issue: real-world spellings): precision >= 0.99 and recall >= 0.90 on the shipped pairs.

    Measures spark_jobs.song_identity as it stands; it fails until the rules for glosses, work titles,
    collaborations, aliases and renames reach the goals. The message lists the pairs judged wrong."""
    report = evaluate(pairs, identify_rows)
    wrong = [f"{e['pair_id']} ({e['predicted']}): {e['a']}  ~  {e['b']}" for e in report["errors"]]
    assert report["precision"] >= 0.99 and report["recall"] >= 0.90, (
        f"precision {report['precision']}, recall {report['recall']}; wrong: " + "; ".join(wrong))


def test_the_default_path_is_the_shipped_fixture():
    assert dedupe_pairs.PAIRS.parts[-3:] == ("fixtures", "dedupe_pairs", "pairs.csv")
