"""`scenetune evaluate catalogue`: a group with a subcommand, and one-line errors when there is nothing to score."""

from __future__ import annotations

import json

from click.testing import CliRunner

from scenetune.cli import cli


def test_evaluate_is_a_group_with_a_catalogue_subcommand():
    out = CliRunner().invoke(cli, ["evaluate", "--help"])
    assert out.exit_code == 0 and "catalogue" in out.output


def test_without_a_published_catalogue_it_says_so_in_one_line(home, tmp_path):
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"rows": []}))
    out = CliRunner().invoke(cli, ["evaluate", "catalogue", "--ground-truth", str(truth)])
    assert out.exit_code != 0 and "no published catalogue" in str(out.exception)


def test_a_file_that_is_not_a_ground_truth_is_named(home, tmp_path):
    truth = tmp_path / "truth.json"
    truth.write_text("not json")
    out = CliRunner().invoke(cli, ["evaluate", "catalogue", "--ground-truth", str(truth)])
    assert out.exit_code != 0 and "cannot read ground truth" in str(out.exception)


def _publish_lineage(rows):
    """A published catalogue with only what `evaluate catalogue` reads: the song_lineage table in DuckDB."""
    import duckdb

    from core import settings

    path = settings.load().duckdb_path
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE song_lineage (source VARCHAR, plm_seq BIGINT, position INTEGER, song_id VARCHAR, "
                    "song_key VARCHAR, artist_name VARCHAR, song_title VARCHAR)")
        con.executemany("INSERT INTO song_lineage VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [r if len(r) == 7 else ("genie", r[0], r[1], None, *r[2:]) for r in rows])
    finally:
        con.close()


TRUTH = {
    "rows": [
        {"plm_seq": 1, "position": 1, "canonical_song_key": "IU - 밤편지", "variants": []},
        {"plm_seq": 1, "position": 2, "canonical_song_key": "IU - 밤편지", "variants": ["gloss"]},
        {"plm_seq": 1, "position": 3, "canonical_song_key": "IU - 밤편지 (Live)", "variants": ["neg_live"]},
        {"plm_seq": 1, "position": 4, "canonical_song_key": "IU & BTS - 좋은 날", "variants": []},
        {"plm_seq": 1, "position": 5, "canonical_song_key": "IU & BTS - 좋은 날", "variants": ["collaboration"]},
    ],
    "negatives": {"IU - 밤편지 (Live)": "IU - 밤편지"},
}
LINEAGE = [
    (1, 1, "iu|밤편지", "IU", "밤편지"),
    (1, 2, "iu|밤편지", "IU", "밤편지 (Night Letter)"),  # gloss merged
    (1, 3, "iu|밤편지live", "IU", "밤편지 (Live)"),  # kept apart
    (1, 4, "iu&bts|좋은날", "IU & BTS", "좋은 날"),
    (1, 5, "iuxbts|좋은날", "IU X BTS", "좋은 날"),  # separator not understood
]


def test_it_prints_per_class_precision_recall_and_kept_apart(home, tmp_path):
    _publish_lineage(LINEAGE)
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(TRUTH, ensure_ascii=False), encoding="utf-8")
    out = CliRunner().invoke(cli, ["evaluate", "catalogue", "--ground-truth", str(truth)])
    assert out.exit_code == 0, out.output
    scores = json.loads(out.output)
    assert scores["form_pair_precision"] == 1.0 and scores["form_pair_recall"] == 0.5
    assert scores["per_class"] == {
        "collaboration": {"precision": 1.0, "recall": 0.0, "spellings": 1},
        "gloss": {"precision": 1.0, "recall": 1.0, "spellings": 1},
        "neg_live": {"precision": 1.0, "recall": 1.0, "spellings": 1, "kept_apart": 1.0, "with_twin": 1},
    }
    assert (scores["songs"], scores["true_songs"]) == (4, 3)


def test_the_table_form_has_a_row_per_class(home, tmp_path):
    _publish_lineage(LINEAGE)
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(TRUTH, ensure_ascii=False), encoding="utf-8")
    out = CliRunner().invoke(cli, ["evaluate", "catalogue", "--ground-truth", str(truth), "--table"])
    assert out.exit_code == 0, out.output
    assert "spellings: pair precision 1.0000, recall 0.5000" in out.output
    lines = {line.split("│")[1].strip(): line for line in out.output.splitlines() if line.count("│") > 2}
    assert {"class", "collaboration", "gloss", "neg_live"} <= set(lines)
    assert "kept apart" in lines["class"]
    cells = [c.strip() for c in lines["neg_live"].split("│")[1:-1]]
    assert cells == ["neg_live", "1", "1.0", "1.0", "1.0", "1"]


def test_with_a_melon_truth_it_scores_per_source_and_across_sources(home, tmp_path):
    # Melon's playlist 1 (another playlist than Genie's 1) lists 밤편지 as song 10 (merged with Genie's:
    # right) and a cover by another artist as song 11 (kept apart: right).
    _publish_lineage([*LINEAGE, ("melon", 1, 1, "10", "iu|밤편지", "아이유", "밤편지"),
                      ("melon", 1, 2, "11", "other|밤편지", "Other", "밤편지")])
    truth, melon = tmp_path / "truth.json", tmp_path / "melon"
    truth.write_text(json.dumps(TRUTH, ensure_ascii=False), encoding="utf-8")
    melon.mkdir()
    (melon / "ground_truth.json").write_text(json.dumps(
        {"generator": "melon", "songs": {"10": "IU - 밤편지", "11": "Other - 밤편지"},
         "shared_with_genie": {"10": "same"}, "negatives": {"11": {"class": "neg_cover", "of": 10}}},
        ensure_ascii=False), encoding="utf-8")
    out = CliRunner().invoke(cli, ["evaluate", "catalogue", "--ground-truth", str(truth), "--melon-truth", str(melon)])
    assert out.exit_code == 0, out.output
    scores = json.loads(out.output)
    assert set(scores["by_source"]) == {"genie", "melon"} and scores["matched_rows"] == 7
    assert scores["by_source"]["melon"]["form_pair_precision"] == 1.0
    assert (scores["cross_source"]["pair_precision"], scores["cross_source"]["pair_recall"]) == (1.0, 1.0)
    assert scores["per_class"]["melon_neg_cover"]["kept_apart"] == 1.0
    table = CliRunner().invoke(cli, ["evaluate", "catalogue", "--ground-truth", str(truth), "--melon-truth",
                                     str(melon / "ground_truth.json"), "--table"])
    assert "across sources (a Genie and a Melon spelling): pair precision 1.0000, recall 1.0000" in table.output


def test_evaluate_pairs_scores_the_shipped_hand_labelled_set_per_class():
    out = CliRunner().invoke(cli, ["evaluate", "pairs"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["pairs"] >= 150 and result["precision"] >= 0.99 and result["recall"] >= 0.90
    assert {"gloss", "collaboration", "work_title", "neg_live", "neg_cover"} <= set(result["per_class"])


def test_evaluate_pairs_reads_a_pair_file_of_ones_own(tmp_path):
    from quality.dedupe_pairs import COLUMNS

    pairs = tmp_path / "pairs.csv"
    pairs.write_text(",".join(COLUMNS) + "\n"
                     "p1,collaboration,1,Coldplay X BTS,My Universe,,,,BTS & Coldplay,My Universe,,,,\n"
                     "p2,neg_live,0,아이유,좋은 날,,,,아이유,좋은 날 (Live),,,,\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["evaluate", "pairs", "--pairs", str(pairs)])
    result = json.loads(out.output)
    assert (result["precision"], result["recall"], result["pairs"]) == (1.0, 1.0, 2)
    pairs.write_text("a,b\n1,2\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["evaluate", "pairs", "--pairs", str(pairs)])
    assert out.exit_code != 0 and "expected pair_id" in str(out.exception)
