"""A static HTML gallery of photo cards: one file, images embedded, readable offline in any browser.

Each card: the photo (an upright thumbnail, embedded as a data: URI), its verdict, its top labels
per group with scores, and the songs recommended for it with the labels that explain each one and a
link to the song's Genie page. No script, no web font, nothing fetched.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from core import settings
from schemas.scoring import LABEL_GROUPS
from scoring import images

GROUP_TITLES = {"weather": "weather · season", "mood": "mood", "situation": "situation · time"}
RECOMMENDER_TITLES = {"mpic_embedding": "by tag meaning (MPIC)", "imgenie_covers": "by similar covers (IMGenie)"}

CSS = """
:root { --ink:#1d1d24; --muted:#6b6b78; --line:#e4e4ea; --accent:#3b5bdb; --bad:#c92a2a; --card:#fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans KR", "Nanum Gothic", sans-serif;
       color: var(--ink); background: #f4f4f7; }
header { padding: 20px 28px 12px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 2px 0; color: var(--muted); }
.counts span { display: inline-block; margin-right: 12px; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 18px; padding: 22px 28px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden;
        display: flex; flex-direction: column; }
.photo { aspect-ratio: 4 / 3; background: #222; display: flex; align-items: center; justify-content: center; }
.photo img { width: 100%; height: 100%; object-fit: contain; display: block; }
.photo.missing { background: repeating-linear-gradient(45deg, #eee, #eee 10px, #f7f7f7 10px, #f7f7f7 20px);
                 color: var(--muted); padding: 16px; text-align: center; }
.body { padding: 12px 14px 14px; }
.name { font-weight: 600; word-break: break-all; }
.status { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #e7f5ff;
          color: #1864ab; margin-left: 6px; font-weight: 500; }
.status.failed, .status.rejected { background: #fff5f5; color: var(--bad); }
.status.duplicate { background: #f3f0ff; color: #5f3dc4; }
.reason { color: var(--bad); margin: 6px 0 0; }
.note { color: var(--muted); margin: 6px 0 0; font-size: 12px; }
.caption { font-style: italic; color: #444; margin: 6px 0 0; }
h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 12px 0 4px; }
.tag { display: flex; align-items: center; gap: 8px; margin: 2px 0; }
.tag .label { flex: 0 0 96px; }
.bar { flex: 1; height: 8px; background: #eef0f6; border-radius: 4px; overflow: hidden; }
.bar i { display: block; height: 100%; background: var(--accent); }
.tag.faint { opacity: .45; }
.uncertain { text-transform: none; letter-spacing: 0; background: #fff4e6; color: #d9480f; border-radius: 8px;
             padding: 0 6px; margin-left: 4px; }
.tag .score { flex: 0 0 36px; text-align: right; font-variant-numeric: tabular-nums; color: var(--muted); }
ol.songs { margin: 0; padding-left: 20px; }
ol.songs li { margin: 4px 0; }
.song a { color: var(--accent); text-decoration: none; }
.why { display: block; font-size: 12px; color: var(--muted); }
.why b { font-weight: 500; color: #2b8a3e; }
footer { padding: 8px 28px 24px; color: var(--muted); font-size: 12px; }
.problems { grid-column: 1 / -1; background: #fff; border: 1px solid var(--line); border-radius: 10px;
            padding: 12px 16px; }
.problems h2 { font-size: 14px; margin: 0 0 6px; }
.problems ul { margin: 0; padding-left: 18px; }
.problems li { margin: 3px 0; }
.problems .reason { color: var(--bad); }
"""


def _thumbnail_uri(stored_path: str | None, home: Path, max_pixels: int) -> tuple[str | None, str | None]:
    """A data: URI of the photo's upright thumbnail, or None and why not."""
    if not stored_path:
        return None, "not stored"
    try:
        picture = images.load(home / stored_path, max_pixels).image
        return "data:image/jpeg;base64," + base64.b64encode(images.thumbnail(picture)).decode("ascii"), None
    except images.Unreadable as why:
        return None, str(why)
    except Exception as err:  # noqa: BLE001 - one photo that cannot be shown must not cost the gallery
        return None, f"{type(err).__name__}: {err}"


def _source(head_weight: float | None) -> str:
    """Where the scores come from: the head (covers like this photo) or the zero-shot scorer (the photo itself)."""
    if head_weight is None:
        return ""
    covers = round(head_weight * 100)
    return (f'<p class="note source">{100 - covers}% from what is in the photo · {covers}% from similar covers</p>')


def _tags(tags: dict[str, list[dict]], verdicts: dict[str, str] | None = None) -> str:
    parts = []
    for group in LABEL_GROUPS:
        items = tags.get(group) or []
        if not items:
            continue
        uncertain = (verdicts or {}).get(group) == "uncertain"
        badge = ' <span class="uncertain" title="no label stands out: not used to choose songs">uncertain</span>' \
            if uncertain else ""
        parts.append(f"<h3>{escape(GROUP_TITLES[group])}{badge}</h3>")
        for t in items:
            width = max(0.0, min(1.0, float(t["score"]))) * 100
            shift = f" (caption {t['text_shift']:+.2f})" if t.get("text_shift") else ""
            parts.append(
                f'<div class="tag{" faint" if uncertain else ""}"><span class="label">{escape(t["label"])}</span>'
                f'<span class="bar"><i style="width:{width:.0f}%"></i></span>'
                f'<span class="score" title="score{escape(shift)}">{t["score"]:.2f}</span></div>')
    return "".join(parts)


def _songs(recommendations: dict[str, list[dict]]) -> str:
    parts = []
    for recommender, songs in recommendations.items():
        parts.append(f"<h3>songs {escape(RECOMMENDER_TITLES.get(recommender, recommender))}</h3><ol class=\"songs\">")
        for song in songs:
            title = f"{escape(song['title'])} — {escape(song['artist'])}"
            link = (f'<a href="{escape(song["url"])}" target="_blank" rel="noopener">{title} ↗</a>'
                    if song.get("url") else title)
            why = ", ".join(f"<b>#{escape(tag)}</b>" for tag in song["matched_tags"]) or "no shared tag"
            genres = escape(" · ".join(song.get("genres") or []))
            parts.append(f'<li class="song">{link}<span class="why">matches {why}'
                         f'{" · " + genres if genres else ""}</span></li>')
        parts.append("</ol>")
    return "".join(parts)


def card(row: dict, home: Path, max_pixels: int) -> str:
    uri, why_not = _thumbnail_uri(row["stored_path"], home, max_pixels) if row["status"] != "rejected" else (None, None)
    if uri:
        photo = f'<div class="photo"><img src="{uri}" alt="{escape(row["file_name"])}"></div>'
    else:
        photo = f'<div class="photo missing">{escape(row["reason"] or why_not or "no picture")}</div>'
    status = row["status"]
    lines = [f'<span class="name">{escape(row["file_name"])}</span><span class="status {status}">{status}</span>']
    if row["caption"]:
        lines.append(f'<p class="caption">“{escape(row["caption"])}”</p>')
    if status in ("rejected", "failed") and row["reason"]:
        lines.append(f'<p class="reason">{escape(row["reason"])}</p>')
    elif status == "duplicate" and row["duplicate_of"]:
        lines.append(f'<p class="note">same photo as {escape(row["duplicate_of"])}</p>')
    elif status in ("queued", "running") or (status == "duplicate" and not row["model_version"]):
        lines.append('<p class="note">not scored yet</p>')
    lines.append(_source(row.get("head_weight")) if row["tags"] else "")
    lines.append(_tags(row["tags"], row.get("verdicts")))
    if row["recommendations"]:
        lines.append(_songs(row["recommendations"]))
    elif row["tags"]:
        lines.append('<p class="note">no songs recommended yet</p>')
    return f'<article class="card">{photo}<div class="body">{"".join(lines)}</div></article>'


def problem(row: dict) -> str:
    """A file that will not be scored: one compact line, no photo."""
    return (f'<li><span class="name">{escape(row["file_name"])}</span>'
            f'<span class="status {row["status"]}">{row["status"]}</span> '
            f'<span class="reason">{escape(row["reason"] or "")}</span></li>')


def render(summary: dict, rows: list[dict], home: Path) -> str:
    max_pixels = settings.load().upload_max_pixels
    counts = " ".join(f"<span>{escape(k)} <b>{v}</b></span>" for k, v in summary["counts"].items() if v)
    who = f" by {escape(summary['submitter'])}" if summary.get("submitter") else ""
    genres = f" · genres {escape(', '.join(summary['genres']))}" if summary.get("genres") else ""
    models = ", ".join(summary.get("models") or []) or "not scored yet"
    failed = [row for row in rows if row["status"] in ("rejected", "failed")]
    cards = "\n".join(card(row, home, max_pixels) for row in rows if row not in failed)
    if failed:
        cards += ('\n<section class="problems"><h2>Not scored</h2><ul>'
                  + "".join(problem(row) for row in failed) + "</ul></section>")
    title = f"scenetune · {summary['submission_id']}"
    return f"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body>
<header><h1>Music for your photos</h1>
<p>Submission <b>{escape(summary['submission_id'])}</b>{who}{genres} · {summary['files']} files</p>
<p class="counts">{counts}</p></header>
<main>
{cards}
</main>
<footer>Tag model {escape(models)}. Song links open genie.co.kr.</footer>
</body></html>
"""
