"""What a submission became: progress (``scenetune status SUBMISSION``) and results (``scenetune results``).

Results join each upload to the tags of its input under the model it was scored with
(``gold.image_tags``) and to the songs recommended for them (``gold.recommendations``, same model
and catalogue version); a duplicate shows the result it shares. Exports: CSV (one line per file),
JSON (one object per file, everything) and a static HTML gallery (``scoring.gallery``).
"""

from __future__ import annotations

import csv
import json
from typing import IO
from urllib.parse import quote

from core import settings
from core.errors import ScenetuneError
from schemas.scoring import IMAGE_TAGS, IMAGE_UPLOADS, LABEL_GROUPS, RECOMMENDATIONS, UPLOAD_STATUSES
from scoring import upload_queue
from warehouse import delta

GENIE_SONG_URL = "https://www.genie.co.kr/detail/songInfo?xgnm={}"
TOP_TAGS = 3  # labels shown per group


def song_url(song_id: str | None) -> str | None:
    return GENIE_SONG_URL.format(quote(str(song_id), safe="")) if song_id else None


def resolve_submission(given: str) -> str:
    """The submission id ``given`` names: itself, or the one submission it is a prefix of."""
    given = given.strip()
    ids = sorted(set(delta.read_or_empty(IMAGE_UPLOADS, columns=["submission_id"]).column("submission_id").to_pylist()))
    if given in ids:
        return given
    matches = [i for i in ids if given and i.startswith(given)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ScenetuneError(f"no submission {given!r}: `scenetune submit FOLDER` prints the id of each submission")
    raise ScenetuneError(f"{given!r} names {len(matches)} submissions ({', '.join(matches[:3])} ...): give more of the id")


def uploads(submission_id: str) -> list[dict]:
    return sorted(upload_queue.read([("submission_id", "=", submission_id)]), key=lambda r: r["file_name"])


def status(submission_id: str) -> dict:
    rows = uploads(submission_id)
    counts = {s: sum(r["status"] == s for r in rows) for s in UPLOAD_STATUSES}
    resolved_duplicates = sum(r["status"] == "duplicate" and r["model_version"] is not None for r in rows)
    to_score = counts["queued"] + counts["running"] + counts["scored"] + counts["failed"] + counts["duplicate"]
    done = counts["scored"] + counts["failed"] + resolved_duplicates
    first = rows[0] if rows else {}
    return {
        "submission_id": submission_id,
        "submitter": first.get("submitter"),
        "genres": first.get("genres") or [],
        "files": len(rows),
        "counts": counts,
        "done": done,
        "to_score": to_score,
        "finished": done == to_score,
        "models": sorted({r["model_version"] for r in rows if r["model_version"]}),
        "problems": [(r["file_name"], r["status"], r["reason"]) for r in rows if r["status"] in ("rejected", "failed")],
    }


def _tags_by_input(rows: list[dict]) -> tuple[dict[tuple[str, str], dict[str, list[dict]]], dict[tuple[str, str], dict]]:
    keys = sorted({r["input_key"] for r in rows if r["input_key"] and r["model_version"]})
    models = sorted({r["model_version"] for r in rows if r["model_version"]})
    out: dict[tuple[str, str], dict[str, list[dict]]] = {}
    about: dict[tuple[str, str], dict] = {}  # per input: each group's verdict, the head's weight
    if not keys:
        return out, about
    data = delta.read_or_empty(IMAGE_TAGS, filters=[("model_version", "in", models), ("input_key", "in", keys)])

    def rounded(value):
        return None if value is None else round(float(value), 4)

    for tag in sorted(data.to_pylist(), key=lambda t: (t["label_group"], t["rank_in_group"])):
        key = (tag["input_key"], tag["model_version"])
        groups = out.setdefault(key, {g: [] for g in LABEL_GROUPS})
        groups.setdefault(tag["label_group"], []).append({
            "label": tag["label"], "score": round(float(tag["score"]), 4),
            "image_score": round(float(tag["image_score"]), 4), "text_shift": round(float(tag["text_shift"]), 4),
            "head_score": rounded(tag["head_score"]), "zero_shot_score": rounded(tag["zero_shot_score"]),
        })
        info = about.setdefault(key, {"verdicts": {}, "head_weight": rounded(tag["head_weight"])})
        info["verdicts"][tag["label_group"]] = tag["group_verdict"]
    return out, about


def _genre_choice(genres) -> str:
    return ",".join(genres or ())


def _songs_by_input(rows: list[dict]) -> dict[tuple[str, str, str, str], dict[str, list[dict]]]:
    keys = sorted({r["input_key"] for r in rows if r["input_key"] and r["model_version"]})
    out: dict[tuple[str, str, str, str], dict[str, list[dict]]] = {}
    if not keys:
        return out
    data = delta.read_or_empty(RECOMMENDATIONS, filters=[("input_key", "in", keys)])
    for rec in sorted(data.to_pylist(), key=lambda r: (r["recommender"], r["rank"])):
        key = (rec["input_key"], rec["genre_choice"], rec["model_version"], rec["catalogue_version"])
        out.setdefault(key, {}).setdefault(rec["recommender"], []).append({
            "rank": rec["rank"], "title": rec["title"], "artist": rec["artist"], "song_id": rec["song_id"],
            "song_key": rec["song_key"], "url": song_url(rec["song_id"]), "genres": rec["genres"],
            "score": round(float(rec["score"]), 4), "matched_tags": rec["matched_tags"],
        })
    return out


def results(submission_id: str, top_tags: int | None = TOP_TAGS,
            recommenders: tuple[str, ...] | None = None) -> list[dict]:
    """One dict per file of the submission: its verdict, top tags per group, recommended songs (of every
    recommender, or of ``recommenders``)."""
    rows = uploads(submission_id)
    tags, about = _tags_by_input(rows)
    songs = _songs_by_input(rows)
    out = []
    for row in rows:
        result_tags = tags.get((row["input_key"], row["model_version"]), {})
        info = about.get((row["input_key"], row["model_version"]), {})
        out.append({
            "file_name": row["file_name"], "status": row["status"], "reason": row["reason"],
            "sha256": row["sha256"], "input_key": row["input_key"], "stored_path": row["stored_path"],
            "caption": row["caption"], "width": row["width"], "height": row["height"], "format": row["format"],
            "duplicate_of": row["duplicate_of"], "model_version": row["model_version"],
            "catalogue_version": row["catalogue_version"], "genres": row["genres"],
            "tags": {g: items[:top_tags] if top_tags else items for g, items in result_tags.items()},
            # confident | uncertain per group (uncertain: no label stands out; its tags chose no songs)
            "verdicts": info.get("verdicts", {}),
            "head_weight": info.get("head_weight"),  # share of the scores from similar covers (the rest: the photo)
            "recommendations": {name: picks for name, picks in songs.get(
                (row["input_key"], _genre_choice(row["genres"]), row["model_version"], row["catalogue_version"]),
                {}).items() if recommenders is None or name in recommenders},
        })
    return out


# ---------------------------------------------------------------------------------------------- exports
CSV_COLUMNS = ("file_name", "status", "reason", "sha256", "width", "height", "model_version", "catalogue_version",
               *(f"{g}_tags" for g in LABEL_GROUPS), *(f"{g}_verdict" for g in LABEL_GROUPS), "head_weight", "songs")


def _tag_text(items: list[dict]) -> str:
    return "; ".join(f"{t['label']} {t['score']:.2f}" for t in items)


def _songs_text(recommendations: dict[str, list[dict]]) -> str:
    return " | ".join(
        f"{name} {s['rank']}. {s['artist']} - {s['title']} [{', '.join(s['matched_tags'])}]"
        for name, songs in recommendations.items() for s in songs)


def write_csv(rows: list[dict], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([r["file_name"], r["status"], r["reason"] or "", r["sha256"] or "", r["width"] or "",
                         r["height"] or "", r["model_version"] or "", r["catalogue_version"] or "",
                         *(_tag_text(r["tags"].get(g, [])) for g in LABEL_GROUPS),
                         *(r["verdicts"].get(g, "") for g in LABEL_GROUPS),
                         "" if r["head_weight"] is None else f"{r['head_weight']:.2f}", _songs_text(r["recommendations"])])


def write_json(rows: list[dict], out: IO[str]) -> None:
    json.dump(rows, out, ensure_ascii=False, indent=1)
    out.write("\n")


def write_html(submission_id: str, rows: list[dict], out: IO[str]) -> None:
    from scoring.gallery import render

    out.write(render(status(submission_id), rows, settings.load().home))
