"""Pieces of crawlers.pipelines that need no crawl: the schema check and the cover check."""

from __future__ import annotations

import copy
from io import BytesIO

import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from crawlers.pipelines import CoverNotImage, RowValidator, inspect_image
from schemas import bronze

GOOD_PLAYLIST = {
    "run_key": "r1", "source": "genie", "plm_seq": 7, "title": "비 오는 날", "subtitle": None, "maker_name": "DJ 지니",
    "maker_id": "DJ0001", "song_count": 2, "view_count": 10, "like_count": None, "tags": ["비오는날"],
    "cover_url": "http://x/c.JPG", "cover_sha1": None, "cover_status": "missing", "content_hash": "ab",
    "source_url": "http://x/playlist/detailView?plmSeq=7", "fetched_at": "2026-01-01T00:00:00+00:00",
}
MUTATIONS = [
    {}, {"plm_seq": "7"}, {"plm_seq": 7.0}, {"plm_seq": True}, {"title": None}, {"tags": None},
    {"tags": ["a", 1]}, {"tags": "a"}, {"like_count": 3}, {"extra": 1}, {"subtitle": 5}, {"cover_status": None},
]


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_fast_check_agrees_with_jsonschema(mutation):
    schema = bronze.PLAYLISTS.json_schema()
    row = {**copy.deepcopy(GOOD_PLAYLIST), **mutation}
    reference = next(iter(Draft202012Validator(schema).iter_errors(row)), None)
    error = RowValidator(schema).error(row)
    assert (error is None) == (reference is None)
    if reference is not None:
        assert reference.message in error


def test_missing_required_column_is_reported():
    row = dict(GOOD_PLAYLIST)
    del row["content_hash"]
    assert "'content_hash' is a required property" in RowValidator(bronze.PLAYLISTS.json_schema()).error(row)


def _image(fmt: str, size=(40, 30)) -> bytes:
    buf = BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buf, fmt)
    return buf.getvalue()


def test_images_are_measured():
    assert inspect_image(_image("JPEG")) == (40, 30, ".jpg")
    assert inspect_image(_image("PNG", (12, 9))) == (12, 9, ".png")


@pytest.mark.parametrize("body", [b"<html><body>error</body></html>", b"", _image("JPEG", (200, 200))[:400]])
def test_non_images_and_cut_off_images_are_rejected(body):
    with pytest.raises(CoverNotImage, match="not an image") as err:
        inspect_image(body)
    assert " at 0x" not in str(err.value)  # no memory addresses in recorded errors


def test_the_check_is_compiled_with_fastjsonschema_and_reads_formats():
    validator = RowValidator(bronze.PLAYLISTS.json_schema())
    assert type(validator.check).__module__ != "crawlers.pipelines"  # fastjsonschema's compiled function
    assert validator.error(dict(GOOD_PLAYLIST)) is None
    # jsonschema does not check "format"; the compiled validator does and words the reason itself.
    assert validator.error({**GOOD_PLAYLIST, "fetched_at": "yesterday"}) == "fetched_at: must be date-time"


@pytest.mark.parametrize("mutation", [{"title": "two\nlines"}, {"tags": ["a\nb", 3]}, {"plm_seq": "x" * 1000}])
def test_reasons_are_one_short_line(mutation):
    row = {**copy.deepcopy(GOOD_PLAYLIST), **mutation, "plm_seq": mutation.get("plm_seq", "7")}
    error = RowValidator(bronze.PLAYLISTS.json_schema()).error(row)
    assert error and "\n" not in error and len(error) <= 300
    assert error.split(":", 1)[0] in ("plm_seq", "tags.1")
