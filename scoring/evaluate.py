"""``scenetune evaluate scoring``: how good the two recommenders are, as an HTML report with plots.

Queries are held-out covers: the covers the tag head did not train on (``tag_head.heldout``: one in
five by image hash) whose playlists carry labels; with fewer than ``MIN_QUERIES`` of them (a tiny
catalogue) every cover is a query. A query's truth T_query is the labels of the playlists showing
the cover; it is scored from its stored features (``gold.cover_embeddings``) by the current model,
given 1-2 genres (seeded, drawn from the catalogue's genres by song count), and recommended for by
both recommenders; its own cover is never searched (leave-one-out).

Measures (IMGenie's, ``taxonomy.md``; extended to songs):

- Precision@K = mean over queries of |T_query ∩ T_retrieved| / |T_retrieved|, T_retrieved = the
  union of the labels of the K songs recommended (K = 5 for both, so they compare);
- Coverage = distinct songs ever recommended / songs in the catalogue;
- genre-constraint satisfaction: share of recommended songs in a chosen genre, and share of
  queries where every chosen genre has a song in the list;
- diversity: distinct artists and genres in a top-K, and intra-list distance (mean pairwise
  1 - cosine of the songs' sentence vectors);
- popularity bias: mean popularity percentile (by ``playlist_count``, mid-ranks) of recommended songs; 50 = none;
- spread over the queries (``scoring.diversity``): distinct lists / queries, distinct songs / slots.

Plus a table for scikit-image's real photos: their predicted labels and both recommenders' songs.
"""

from __future__ import annotations

import base64
import io
import itertools
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from pathlib import Path

import numpy as np

from core import settings
from scoring import blend, models, photo_eval, recommend

K = 5
MIN_QUERIES = 10
SKIMAGE_PHOTOS = ("coffee", "astronaut", "chelsea", "rocket", "camera", "coins", "cat", "immunohistochemistry")
RECOMMENDERS = (recommend.MPIC, recommend.IMGENIE)


@dataclass
class Query:
    key: str  # the cover's image_sha1
    truth: frozenset[str]
    genres: list[str]
    cover_index: int


def _queries(catalogue, label_set: set[str], seed: int = 7) -> tuple[list[Query], str]:
    from scoring.tag_head import heldout

    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    for genres in catalogue.genres:
        for g in genres:
            counts[g] = counts.get(g, 0) + 1
    common = [g for g, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:6]
    every = []
    for i, sha in enumerate(catalogue.cover_ids):
        truth = frozenset(set().union(*(catalogue.playlist_labels.get(p, frozenset())
                                        for p in catalogue.cover_playlists[i])) & label_set)
        if truth:
            every.append((i, sha, truth))
    held = [e for e in every if heldout(e[1])]
    chosen, how = (held, "held-out covers (one in five by image hash, never trained on)") \
        if len(held) >= MIN_QUERIES else (every, f"every cover, leave-one-out (only {len(held)} held out)")
    queries = []
    for i, sha, truth in chosen:
        n = int(rng.integers(1, 3)) if common else 0
        genres = [str(g) for g in rng.choice(common, size=min(n, len(common)), replace=False)] if common else []
        queries.append(Query(sha, truth, genres, i))
    return queries, how


def _sentence_of_song(catalogue) -> dict[int, int]:
    out = {}
    for s, songs in enumerate(catalogue.sentence_songs):
        for song in songs:
            out[int(song)] = s
    return out


def measure(catalogue, spec: models.ModelSpec, queries: list[Query], picks: list[dict]) -> dict:
    """The measures above, per recommender."""
    from scoring import diversity

    sentence_of = _sentence_of_song(catalogue)
    percentile = diversity.popularity_percentiles(catalogue.popularity)
    out = {}
    for name in RECOMMENDERS:
        precisions, artists, genres_n, distances, pops, in_genre, all_genres = [], [], [], [], [], [], []
        seen: set[int] = set()
        answered = 0
        for query, chosen in zip(queries, picks):
            songs = [p.song for p in chosen.get(name, [])][:K]
            if not songs:
                continue
            answered += 1
            seen.update(songs)
            retrieved = set().union(*(catalogue.song_labels[s] for s in songs))
            precisions.append(len(query.truth & retrieved) / len(retrieved) if retrieved else 0.0)
            artists.append(len({catalogue.artist[s] for s in songs}))
            genres_n.append(len({g for s in songs for g in catalogue.genres[s]}))
            vectors = [catalogue.sentence_vectors[sentence_of[s]] for s in songs if s in sentence_of]
            if len(vectors) > 1:
                pairs = [1 - float(a @ b) for a, b in itertools.combinations(vectors, 2)]
                distances.append(float(np.mean(pairs)))
            pops.extend(percentile[s] for s in songs)
            if query.genres:
                in_genre.append(np.mean([bool(set(catalogue.genres[s]) & set(query.genres)) for s in songs]))
                all_genres.append(all(any(g in catalogue.genres[s] for s in songs) for g in query.genres))
        lists = [[p.song for p in chosen.get(name, [])][:K] for chosen in picks]
        out[name] = {
            "queries_answered": answered,
            "precision_at_k": float(np.mean(precisions)) if precisions else None,
            "coverage": len(seen) / max(catalogue.songs, 1),
            "genre_share": float(np.mean(in_genre)) if in_genre else None,
            "all_genres_met": float(np.mean(all_genres)) if all_genres else None,
            "distinct_artists": float(np.mean(artists)) if artists else None,
            "distinct_genres": float(np.mean(genres_n)) if genres_n else None,
            "intra_list_distance": float(np.mean(distances)) if distances else None,
            "popularity_percentile": float(np.mean(pops)) if pops else None,
            "distinct_lists_ratio": diversity.distinct_lists_ratio(lists),
            "distinct_songs_ratio": diversity.distinct_songs_ratio(lists),
            "_popularity": pops,
        }
    return out


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(scores: dict) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(scores)
    plots = []
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for ax, (metric, title) in zip(axes, (("precision_at_k", f"Precision@{K}"), ("coverage", "Coverage (songs)"),
                                          ("genre_share", "songs in a chosen genre"))):
        values = [scores[n][metric] or 0 for n in names]
        ax.bar(names, values, color=["#3b5bdb", "#2b8a3e"])
        ax.set_title(title)
        ax.set_ylim(0, 1.12)  # room for the value above a full bar
        for i, v in enumerate(values):
            ax.text(i, v + 0.02, f"{v:.2f}", ha="center")
    plots.append(("Precision, coverage and genre constraint", _png(fig)))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    for ax, (metric, title, top) in zip(axes, (("distinct_artists", f"distinct artists in top {K}", K),
                                               ("distinct_genres", f"distinct genres in top {K}", None),
                                               ("intra_list_distance", "intra-list distance", 1))):
        values = [scores[n][metric] or 0 for n in names]
        ax.bar(names, values, color=["#3b5bdb", "#2b8a3e"])
        ax.set_title(title)
        if top:
            ax.set_ylim(0, top)
    plots.append(("Diversity", _png(fig)))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for name, color in zip(names, ["#3b5bdb", "#2b8a3e"]):
        ax.hist(scores[name]["_popularity"], bins=20, range=(0, 100), alpha=0.55, label=name, color=color)
    ax.set_xlabel("popularity percentile of recommended songs (playlist_count)")
    ax.set_ylabel("songs")
    ax.legend()
    plots.append(("Popularity bias (a flat histogram = none)", _png(fig)))
    return plots


def _photo_rows(spec: models.ModelSpec, catalogue) -> list[dict]:
    from PIL import Image
    from skimage import data

    from scoring.score_uploads import recommend_picks

    model = models.load(spec)
    names, pictures = [], []
    for name in SKIMAGE_PHOTOS:
        if not hasattr(data, name):
            continue
        try:
            array = getattr(data, name)()
        except Exception:  # noqa: BLE001 - a photo scikit-image must fetch (not shipped) is skipped
            continue
        picture = Image.fromarray(array)
        names.append(name)
        pictures.append(picture.convert("RGB"))
    if not pictures:
        return []
    scores, features = model.predict_with_features(np.stack([model.prepare(p) for p in pictures]))
    verdicts = blend.group_verdicts(scores, spec.groups, settings.load().uncertain_margin)
    targets = [{"input_key": n, "sha256": n, "genres": []} for n in names]
    picks = recommend_picks(spec, targets, dict(zip(names, scores)), dict(zip(names, features)), catalogue)
    rows = []
    for name, picture, row_scores, chosen in zip(names, pictures, scores, picks):
        labels = recommend.chosen_labels(blend.confident_scores(row_scores, spec.groups, verdicts[len(rows)]),
                                         spec.labels, spec.groups)
        score_of = dict(zip(spec.labels, row_scores))
        thumb = picture.copy()
        thumb.thumbnail((120, 120))
        buffer = io.BytesIO()
        thumb.save(buffer, "JPEG", quality=80)
        rows.append({"name": name, "thumb": "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode(),
                     "labels": [(label, float(score_of[label])) for label in labels],
                     "songs": {r: [(catalogue.artist[p.song], catalogue.title[p.song], p.matched)
                                   for p in chosen.get(r, [])] for r in RECOMMENDERS}})
    return rows


def _score_covers(model, queries: list[Query]) -> tuple[list[Query], models.Prediction]:
    """The queries whose cover file is on disk, and the model's full answer for them (head, zero-shot, blend)."""
    from PIL import Image

    from scoring.tag_head import cover_images

    paths = cover_images({})[0]
    kept, prepared = [], []
    for query in queries:
        path = paths.get(query.key)
        if path is None or not path.is_file():
            continue
        with Image.open(path) as image:
            prepared.append(model.prepare(image.convert("RGB")))
        kept.append(query)
    if not kept:
        return [], models.Prediction(np.zeros((0, 0)), np.zeros((0, 0)))
    batches = [model.predict_sources(np.stack(prepared[i:i + 64])) for i in range(0, len(prepared), 64)]
    parts = {name: np.concatenate([getattr(b, name) for b in batches])
             for name in ("scores", "features", "head", "zero_shot", "weight") if getattr(batches[0], name) is not None}
    return kept, models.Prediction(**parts)


def covers_map(spec: models.ModelSpec, queries: list[Query], prediction: models.Prediction) -> dict:
    """Held-out covers: mAP over the head's labels of the head alone, the zero-shot scorer alone and the blend
    (a label's AP over the queries, ranked by its score; labels without a positive query skipped)."""
    from scoring.tag_head import average_precision

    columns = [spec.labels.index(label) for label in (spec.head_labels or spec.labels)]
    truth = np.array([[spec.labels[j] in q.truth for j in columns] for q in queries], bool)
    out = {"covers": len(queries), "mean_head_weight": None if prediction.weight is None
           else float(np.mean(prediction.weight))}
    for name, values in (("head", prediction.head), ("zero_shot", prediction.zero_shot), ("blend", prediction.scores)):
        if values is None:
            continue
        aps = [average_precision(values[:, j], truth[:, c]) for c, j in enumerate(columns)]
        aps = [a for a in aps if a is not None]
        out[f"{name}_map"] = float(np.mean(aps)) if aps else None
    return out


def head_quality(spec: models.ModelSpec) -> dict:
    """The head's own held-out mAP and per-label AP, as training recorded them (ops.tag_models, tag_model_labels)."""
    from schemas.scoring import TAG_MODEL_LABELS, TAG_MODELS
    from warehouse import delta

    head = spec.head_version or spec.model_version
    trained = [r for r in delta.read_or_empty(TAG_MODELS).to_pylist() if r["model_version"] == head]
    if not trained:
        return {}
    latest = max(trained, key=lambda r: r["run_key"])
    per_label = {r["label"]: r["heldout_ap"] for r in delta.read_or_empty(TAG_MODEL_LABELS).to_pylist()
                 if r["run_key"] == latest["run_key"] and r["in_head"]}
    return {"heldout_map": latest["heldout_map"], "prior_map": latest["prior_map"], "per_label_ap": per_label}


def run(out_path: Path) -> dict:
    """Measure the current model and catalogue, write the HTML report to ``out_path``; return the numbers."""
    from core import files
    from core.errors import ScenetuneError
    from scoring import catalogue as catalogues

    spec = models.current_spec()
    catalogue = catalogues.load(cover_encoder=spec.encoder)
    if not catalogue.cover_ids:
        raise ScenetuneError("no cover features of the model's encoder (gold.cover_embeddings): run `scenetune refresh` "
                             "so the tag head is trained, then evaluate again")
    queries, how = _queries(catalogue, set(spec.labels))
    if not queries:
        raise ScenetuneError("no cover whose playlists carry a label the model knows: nothing to evaluate on")
    if spec.kind != "head":
        raise ScenetuneError("evaluate scoring measures the trained head (unset SCENETUNE_CLIP_MODEL_DIR)")
    model = models.load(spec)
    queries, prediction = _score_covers(model, queries)
    if not queries:
        raise ScenetuneError("no held-out cover image on disk (covers/): run `scenetune refresh` again")
    features = {q.key: f for q, f in zip(queries, prediction.features)}
    tag_scores = {q.key: prediction.scores[i] for i, q in enumerate(queries)}
    from scoring.score_uploads import recommend_picks

    targets = [{"input_key": q.key, "sha256": q.key, "genres": q.genres, "exclude_covers": {q.cover_index}}
               for q in queries]
    picks = recommend_picks(spec, targets, tag_scores, features, catalogue)
    scores = measure(catalogue, spec, queries, picks)
    photos = _photo_rows(spec, catalogue)
    report = {
        "model_version": spec.model_version, "encoder": spec.encoder, "catalogue_version": catalogue.version,
        "head": head_quality(spec), "covers_map": covers_map(spec, queries, prediction), "queries": len(queries), "query_source": how, "k": K, "songs": catalogue.songs, "covers": len(catalogue.cover_ids),
        "recommenders": {n: {k: v for k, v in s.items() if not k.startswith("_")} for n, s in scores.items()},
        "photos": [{"name": p["name"], "labels": p["labels"], "songs": p["songs"]} for p in photos],
        "real_photos": photo_eval.evaluate(spec, catalogue),
    }
    files.write_text(out_path, _html(report, _plots(scores), photos))
    return report


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _real_photos_html(real: dict) -> str:
    """Hit rates per source and group beside chance, verdicts, and the songs' spread (``scoring.photo_eval``)."""
    if not real:
        return ""
    rows = []
    for source, groups in real["sources"].items():
        for group, r in groups.items():
            rows.append(f"<tr><td>{escape(source)}</td><td>{escape(group)}</td><td>{r['photos']}</td>"
                        f"<td>{_fmt(r['top1'])}</td><td>{_fmt(r['chance_top1'])}</td><td>{_fmt(r['top3'])}</td>"
                        f"<td>{_fmt(r['chance_top3'])}</td></tr>")
    v = real["verdicts"]
    songs = "".join(f"<tr><td>{escape(n)}</td>" + "".join(f"<td>{_fmt(f[k])}</td>" for k in (
        "distinct_lists_ratio", "distinct_songs_ratio", "popularity_percentile")) + "</tr>"
        for n, f in (real.get("recommenders") or {}).items())
    return f"""<h2>Real photos ({escape(real['split'])} split, {real['photos']} photos)</h2>
<p>Hand-labelled packaged photographs (<code>scoring/real_photos</code>): a hit is a top label a person accepted.
Mean head weight {_fmt(real['head_weight'])} (0: unlike every training cover).</p>
<table><tr><th>source</th><th>group</th><th>photos</th><th>top-1</th><th>chance</th><th>top-3</th><th>chance</th></tr>
{''.join(rows)}</table>
<p>Verdicts at margin {_fmt(v['margin'])}: right {_fmt(v['verdict_accuracy'])}; uncertain where the photo says
nothing {_fmt(v['uncertain_where_nothing'])}; confident where it says something {_fmt(v['confident_where_something'])}.</p>
<table><tr><th>recommender</th><th>distinct lists / photos</th><th>distinct songs / slots</th>
<th>popularity percentile</th></tr>{songs}</table>
"""


def _html(report: dict, plots: list[tuple[str, str]], photos: list[dict]) -> str:
    metrics = list(next(iter(report["recommenders"].values())))
    table = "".join(f"<tr><th>{escape(m)}</th>" + "".join(f"<td>{_fmt(report['recommenders'][n][m])}</td>"
                                                           for n in report["recommenders"]) + "</tr>" for m in metrics)
    figures = "".join(f"<h2>{escape(title)}</h2><img src=\"{uri}\" alt=\"{escape(title)}\">" for title, uri in plots)
    photo_rows = []
    for p in photos:
        labels = ", ".join(f"{escape(label)} {score:.2f}" for label, score in p["labels"])
        songs = "".join(
            "<td><ol>" + "".join(f"<li>{escape(artist)} – {escape(title)} <small>{escape(', '.join(why))}</small></li>"
                                  for artist, title, why in p["songs"][n]) + "</ol></td>" for n in RECOMMENDERS)
        photo_rows.append(f"<tr><td><img src=\"{p['thumb']}\" alt=\"{escape(p['name'])}\"><br>{escape(p['name'])}</td>"
                          f"<td>{labels}</td>{songs}</tr>")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scenetune · scoring evaluation</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d24}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}} img{{max-width:100%}}
small{{color:#2b8a3e}}</style></head><body>
<h1>Scoring evaluation</h1>
<p>Model <b>{escape(report['model_version'])}</b> ({escape(report['encoder'])}) · catalogue version
<b>{escape(report['catalogue_version'])}</b> · {report['songs']} songs, {report['covers']} covers with features ·
{report['queries']} queries: {escape(report['query_source'])} · K = {report['k']} · {stamp}</p>
<p>Tag head held-out mAP {_fmt(report['head'].get('heldout_map'))} (constant-scorer floor
{_fmt(report['head'].get('prior_map'))}); per label: {escape(', '.join(f"{k} {_fmt(v)}" for k, v in
sorted((report['head'].get('per_label_ap') or {}).items())))}</p>
<p>Held-out covers, mAP over the head's labels: head {_fmt(report['covers_map'].get('head_map'))}, zero-shot
{_fmt(report['covers_map'].get('zero_shot_map'))}, blend {_fmt(report['covers_map'].get('blend_map'))} (mean head
weight {_fmt(report['covers_map'].get('mean_head_weight'))}).</p>
<table><tr><th></th>{''.join(f'<th>{escape(n)}</th>' for n in report['recommenders'])}</tr>{table}</table>
<p>Precision@K = mean over queries of |T_query ∩ T_retrieved| / |T_retrieved| (T = labels of the query cover's
playlists and of the K songs); Coverage = distinct songs recommended / songs. Popularity percentile 50 = no bias.</p>
{figures}
{_real_photos_html(report.get('real_photos') or {})}
<h2>scikit-image photos</h2>
<table><tr><th>photo</th><th>labels</th>{''.join(f'<th>{escape(n)}</th>' for n in RECOMMENDERS)}</tr>
{''.join(photo_rows)}</table>
</body></html>
"""
