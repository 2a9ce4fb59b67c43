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
