"""Score the queued uploads: a Spark job (``mapInPandas``), the tag model built once per worker.

    spark-submit scoring/score_uploads.py --run-key 20261122T020000Z

1. claim: queued rows, and rows a dead run left running, become ``running`` under this run
   (``scoring.upload_queue``); inputs whose results a dead run already stored are not scored again;
2. score: each distinct input (image + caption) once, in Spark tasks of up to ``IMAGES_PER_TASK``
   images: read the stored copy, decode it safely, prepare it, predict every label in batches;
   one bad image fails alone, with its reason, never its batch;
3. store: the images' features (``gold.image_embeddings``); a caption's shift of the tags
   (``scoring.text_intent``); ``gold.image_tags`` (the run's partition);
4. recommend: both recommenders (``scoring.recommend``) for each scored input and the genres its
   submitter chose, over the live catalogue (``scoring.catalogue``): ``gold.recommendations``;
5. finish: each claimed row ``scored`` or ``failed``; duplicates waiting on them get the result; the
   run's books in ``ops.scoring_runs``.

A crash anywhere leaves rows ``running``: the next run claims them again, and what was stored
before the crash is recovered, not scored twice.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core import settings
from core.process import exit_now
from core.runs import RunPartition
from schemas.scoring import IMAGE_EMBEDDINGS, IMAGE_TAGS, RECOMMENDATIONS, SCORING_RUNS
from scoring import blend, encoders, images, models, upload_queue, zero_shot
from warehouse import delta

log = logging.getLogger(__name__)

IMAGES_PER_TASK = 64  # a Spark task's share: small enough for a progress bar that moves, big enough to batch
RESULT_SCHEMA = ("input_key STRING, ok BOOLEAN, reason STRING, width INT, height INT, format STRING, scores ARRAY<FLOAT>,"
                 " features ARRAY<FLOAT>, head_scores ARRAY<FLOAT>, zero_shot_scores ARRAY<FLOAT>, head_weight FLOAT")
RESULT_COLUMNS = ["input_key", "ok", "reason", "width", "height", "format", "scores", "features", "head_scores",
                  "zero_shot_scores", "head_weight"]
Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------------------------------- executors
def score_inputs(items: list[tuple[str, str]], spec: models.ModelSpec, home: str, max_pixels: int) -> list[dict]:
    """Score ``(input_key, stored_path)`` pairs; one result dict per pair, ``ok`` or with a ``reason``."""
    model = models.load(spec)  # once per worker process; a failure here is the run's, not an image's
    results: dict[str, dict] = {}
    prepared: list[tuple[str, np.ndarray]] = []
    for key, stored_path in items:
        results[key], arr = _prepare(model, key, Path(home) / stored_path, max_pixels)
        if arr is not None:
            prepared.append((key, arr))
    if prepared:
        for key, predicted in _predict(model, prepared):
            if isinstance(predicted, str):
                results[key] = _failed(key, predicted)
            else:
                results[key].update(predicted)
    return [results[key] for key, _ in items]


def _prepare(model: models.TagModel, key: str, path: Path, max_pixels: int) -> tuple[dict, np.ndarray | None]:
    """Decode one upload and turn it into model input; its full-size pixels are freed on return."""
    try:
        decoded = images.load(path, max_pixels)
        arr = model.prepare(decoded.image)
    except images.Unreadable as why:
        return _failed(key, str(why)), None
    except Exception as err:  # noqa: BLE001 - whatever one image does, the others go on
        return _failed(key, f"unexpected {type(err).__name__}: {' '.join(str(err).split())[:160]}"), None
    return dict(input_key=key, ok=True, reason=None, width=decoded.width, height=decoded.height,
                format=decoded.format, scores=None, features=None, head_scores=None, zero_shot_scores=None,
                head_weight=None), arr


def _failed(key: str, reason: str) -> dict:
    return dict(input_key=key, ok=False, reason=reason, width=None, height=None, format=None, scores=None,
                features=None, head_scores=None, zero_shot_scores=None, head_weight=None)


def _result_fields(prediction: models.Prediction, i: int) -> dict:
    """Row ``i`` of a prediction as a result's fields (sources are None for a model without them)."""
    return {"scores": prediction.scores[i].tolist(), "features": prediction.features[i].tolist(),
            "head_scores": None if prediction.head is None else prediction.head[i].tolist(),
            "zero_shot_scores": None if prediction.zero_shot is None else prediction.zero_shot[i].tolist(),
            "head_weight": None if prediction.weight is None else float(prediction.weight[i])}


def _predict(model: models.TagModel, prepared: list[tuple[str, np.ndarray]]) -> Iterator[tuple[str, object]]:
    """A result's fields per key; a batch that fails is retried one image at a time, so only the bad one fails."""
    try:
        prediction = model.predict_sources(np.stack([arr for _, arr in prepared]))
        yield from ((k, _result_fields(prediction, i)) for i, (k, _) in enumerate(prepared))
        return
    except Exception:  # noqa: BLE001 - isolate the culprit below
        if len(prepared) == 1:
            key, arr = prepared[0]
            try:
                yield key, _result_fields(model.predict_sources(arr[None]), 0)
            except Exception as err:  # noqa: BLE001
                yield key, f"the model failed on it: {type(err).__name__}: {' '.join(str(err).split())[:160]}"
            return
    for one in prepared:
        yield from _predict(model, [one])


def _score_partition(batches, spec: models.ModelSpec, home: str, max_pixels: int):
    import pandas as pd

    for pdf in batches:
        items = list(zip(pdf["input_key"], pdf["stored_path"]))
        yield pd.DataFrame(score_inputs(items, spec, home, max_pixels), columns=RESULT_COLUMNS)


# ---------------------------------------------------------------------------------------------- driver
def _watch(spark, group: str, tasks: int, images_total: int, progress: Progress, stop: threading.Event) -> None:
    """Report finished images (tasks x images per task) while the job runs."""
    tracker = spark.sparkContext.statusTracker()
    per_task = images_total / max(tasks, 1)
    while not stop.wait(0.5):
        done = 0
        for job_id in tracker.getJobIdsForGroup(group):
            job = tracker.getJobInfo(job_id)
            for stage_id in (job.stageIds if job else []):
                info = tracker.getStageInfo(stage_id)
                if info is not None and info.numTasks == tasks:
                    done = max(done, info.numCompletedTasks)
        progress(min(images_total, round(done * per_task)), images_total)


def run_spark(spark, items: list[tuple[str, str]], spec: models.ModelSpec, run_key: str,
              progress: Progress | None = None) -> dict[str, dict]:
    """Score ``(input_key, stored_path)`` pairs on the cluster; ``{input_key: result}``."""
    from pyspark.sql import types as T

    s = settings.load()
    if spec.kind == "head":
        encoders.efficientnet_onnx(spec.encoder_dir)  # exported here once, not by every worker at the same time
        # Likewise the zero-shot scorer's MiniLM text vectors (cached in the encoder folder; workers read them).
        zero_shot.shared_scorer(spec.labels, spec.groups, spec.members, spec.encoder_dir)
    tasks = max(min(len(items), spark.sparkContext.defaultParallelism), math.ceil(len(items) / IMAGES_PER_TASK))
    schema = T.StructType([T.StructField("input_key", T.StringType()), T.StructField("stored_path", T.StringType())])
    frame = spark.createDataFrame(spark.sparkContext.parallelize(items, tasks), schema)
    home, max_pixels = str(s.home), s.upload_max_pixels

    def score_partition(batches):
        return _score_partition(batches, spec, home, max_pixels)

    scored = frame.mapInPandas(score_partition, RESULT_SCHEMA)
    group = f"score-uploads-{run_key}"
    spark.sparkContext.setJobGroup(group, f"score {len(items)} uploads")
    stop = threading.Event()
    watcher = None
    if progress is not None:
        watcher = threading.Thread(target=_watch, args=(spark, group, tasks, len(items), progress, stop), daemon=True)
        watcher.start()
    try:
        table = scored.toArrow()
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    if progress is not None:
        progress(len(items), len(items))
    return {row["input_key"]: row for row in table.to_pylist()}


def stored_results(spec: models.ModelSpec, input_keys: set[str]) -> set[str]:
    """Inputs that already have this model's tags: stored by a run that died before its verdicts, or by an
    earlier run when the same input comes again for other genres or a newer catalogue. Never scored twice."""
    if not input_keys:
        return set()
    data = delta.read_or_empty(IMAGE_TAGS, columns=["input_key"],
                               filters=[("model_version", "=", spec.model_version),
                                        ("input_key", "in", sorted(input_keys))])
    return set(data.column("input_key").to_pylist())


def stored_tag_scores(spec: models.ModelSpec, input_keys: set[str]) -> dict[str, np.ndarray]:
    """The final scores (image + caption) of stored inputs, in the model's label order."""
    if not input_keys:
        return {}
    data = delta.read_or_empty(IMAGE_TAGS, columns=["input_key", "label", "score"],
                               filters=[("model_version", "=", spec.model_version),
                                        ("input_key", "in", sorted(input_keys))])
    column = {label: j for j, label in enumerate(spec.labels)}
    out: dict[str, np.ndarray] = {}
    for row in data.to_pylist():
        scores = out.setdefault(row["input_key"], np.zeros(len(spec.labels), np.float32))
        if row["label"] in column:
            scores[column[row["label"]]] = row["score"]
    return out


def stored_embeddings(encoder: str, shas: set[str]) -> dict[str, np.ndarray]:
    if not shas:
        return {}
    data = delta.read_or_empty(IMAGE_EMBEDDINGS, filters=[("encoder", "=", encoder), ("sha256", "in", sorted(shas))])
    return {r["sha256"]: np.asarray(r["embedding"], dtype=np.float32) for r in data.to_pylist()}


def store_embeddings(encoder: str, run_key: str, features: dict[str, list[float]]) -> None:
    """New images' features, once per image and encoder (a merge that never replaces)."""
    rows = [{"sha256": sha, "encoder": encoder, "embedding": list(f), "run_key": run_key}
            for sha, f in sorted(features.items())]
    delta.merge(IMAGE_EMBEDDINGS, pa.Table.from_pylist(rows, schema=IMAGE_EMBEDDINGS.arrow_schema()), update=False)


def store_tags(spec: models.ModelSpec, run_key: str, new_rows: pa.Table) -> None:
    """Replace the run's partition with its tags: those a retry of the same run kept, plus the new ones."""
    partition = {"model_version": spec.model_version, "run_key": run_key}
    kept = delta.read_or_empty(IMAGE_TAGS, filters=[(c, "=", v) for c, v in partition.items()])
    if kept.num_rows:
        fresh = set(new_rows.column("input_key").to_pylist())
        kept = kept.filter(~pc.is_in(kept.column("input_key"), pa.array(sorted(fresh), pa.string())))
    delta.replace_partition(IMAGE_TAGS, pa.concat_tables([kept.select(IMAGE_TAGS.column_names).cast(
        IMAGE_TAGS.arrow_schema()), new_rows]), partition)


def image_tag_rows(spec: models.ModelSpec, results: list[dict], sha_of: dict[str, str], run_key: str,
                   shifts: dict[str, np.ndarray] | None = None) -> pa.Table:
    """One row per (input, label): the photo's score and its sources (head, zero-shot, the head's weight), what
    its caption moved it (``shifts``), the final score (clipped to 0-1), each label's rank within its group by
    the final score, and the group's verdict (``scoring.blend.group_verdicts`` on the final scores)."""
    ok = [r for r in results if r["ok"]]
    n, labels = len(ok), len(spec.labels)
    if not n:
        return IMAGE_TAGS.arrow_schema().empty_table()
    image = np.asarray([r["scores"] for r in ok], dtype=np.float32).reshape(n, labels)
    shift = np.zeros_like(image)
    for i, r in enumerate(ok):
        if shifts and r["input_key"] in shifts:
            shift[i] = shifts[r["input_key"]]
    scores = np.clip(image + shift, 0.0, 1.0).astype(np.float32)
    shift = scores - image  # what the caption actually moved, after clipping
    ranks = np.zeros_like(scores, dtype=np.int32)
    groups = np.asarray(spec.groups)
    for group in dict.fromkeys(spec.groups):
        cols = np.flatnonzero(groups == group)
        order = np.argsort(-scores[:, cols], axis=1, kind="stable")
        ranks[np.arange(n)[:, None], cols[order]] = np.arange(1, len(cols) + 1)
    verdicts = blend.group_verdicts(scores, spec.groups, settings.load().uncertain_margin)

    def source(name: str) -> pa.Array:
        values = np.full((n, labels), np.nan, np.float32)
        for i, r in enumerate(ok):
            if r.get(name) is not None:
                values[i] = r[name]
        flat = values.ravel()
        return pa.array(flat, pa.float32(), mask=np.isnan(flat))  # null: no such source (or the head lacks the label)

    weights = [r.get("head_weight") for r in ok]
    keys = [r["input_key"] for r in ok]
    return pa.table({
        "input_key": np.repeat(keys, labels),
        "sha256": np.repeat([sha_of[k] for k in keys], labels),
        "model_version": [spec.model_version] * (n * labels),
        "catalogue_version": pa.array([spec.catalogue_version] * (n * labels), pa.string()),
        "label": np.tile(spec.labels, n),
        "label_group": np.tile(spec.groups, n),
        "score": scores.ravel(),
        "image_score": image.ravel(),
        "text_shift": shift.ravel(),
        "head_score": source("head_scores"),
        "zero_shot_score": source("zero_shot_scores"),
        "head_weight": pa.array([w for w in weights for _ in range(labels)], pa.float32()),
        "rank_in_group": ranks.ravel(),
        "group_verdict": [verdicts[i][g] for i in range(n) for g in spec.groups],
        "run_key": [run_key] * (n * labels),
    }, schema=IMAGE_TAGS.arrow_schema())


# ---------------------------------------------------------------------------------------------- songs
def genre_choice(genres) -> str:
    return ",".join(genres or ())


def recommend_picks(spec: models.ModelSpec, targets: list[dict], tag_scores: dict[str, np.ndarray],
                    features: dict[str, np.ndarray], catalogue) -> list[dict[str, list]]:
    """Both recommenders' picks for each target ``{input_key, sha256, genres}`` (tags of the input in
    ``tag_scores``, image features of the sha256 in ``features``): ``[{recommender: [Pick, ...]}]``.
    Targets naming the same ``submission`` spread their songs: taken in input-key order, a song already
    given to an earlier photo of the submission is penalised for the next (``recommend.Rerank``)."""
    import dataclasses
    from collections import Counter

    from core import settings
    from scoring import recommend

    group_of = dict(zip(spec.labels, spec.groups))
    # Only confident groups choose songs (scoring.blend: the verdicts image_tag_rows stores, from the same scores).
    margin = settings.load().uncertain_margin
    confident = {}
    for t in targets:
        raw = np.asarray(tag_scores[t["input_key"]], np.float32)
        confident[t["input_key"]] = blend.confident_scores(raw, spec.groups,
                                                           blend.group_verdicts(raw, spec.groups, margin)[0])
    chosen = {key: recommend.chosen_labels(scores, spec.labels, spec.groups) for key, scores in confident.items()}
    sentences = {key: recommend.tag_sentence(labels, catalogue, group_of) for key, labels in chosen.items()}
    distinct = sorted({s for s in sentences.values() if s})
    vectors = (dict(zip(distinct, recommend.embed_sentences(distinct)))
               if distinct and len(catalogue.sentence_vectors) else {})
    mix = settings.load().recommend_query_mix
    label_vectors = (recommend.label_vectors(spec.labels, catalogue, group_of)
                     if (mix or not all(chosen.values())) and len(catalogue.sentence_vectors) else None)
    searchable = sorted({t["sha256"] for t in targets if t["sha256"] in features}) if catalogue.cover_ids else []
    nearest = {}
    if searchable:
        sims, covers = recommend.nearest_covers(np.stack([features[s] for s in searchable]), catalogue)
        nearest = {sha: (sims[i], covers[i]) for i, sha in enumerate(searchable)}
    rerank = recommend.Rerank.from_settings(catalogue)
    used: dict[tuple[str, str], Counter] = {}  # (submission, recommender) -> song -> photos given it so far
    out: list[dict] = [{} for _ in targets]
    for i in sorted(range(len(targets)), key=lambda i: (str(targets[i].get("submission") or ""),
                                                        targets[i]["input_key"], genre_choice(targets[i]["genres"]))):
        target = targets[i]
        key, genres, picks, submission = target["input_key"], list(target["genres"] or ()), out[i], target.get("submission")

        def rerank_for(recommender: str) -> recommend.Rerank:
            spread = used.setdefault((submission, recommender), Counter()) if submission else Counter()
            return dataclasses.replace(rerank, used=spread)

        query = vectors.get(sentences[key])
        if label_vectors is not None and chosen[key]:
            query = recommend.score_weighted_query(confident[key], spec.groups, label_vectors,
                                                   [group_of[label] for label in chosen[key]], query, mix)
        elif label_vectors is not None:  # nothing confident: the whole score vector, so songs still follow the photo
            query = recommend.score_weighted_query(tag_scores[key], spec.groups, label_vectors, spec.groups, None, 1.0)
        if query is not None:
            picks[recommend.MPIC] = recommend.mpic(query, chosen[key], genres, catalogue, rerank=rerank_for(recommend.MPIC))
        if target["sha256"] in nearest:
            sims, covers = nearest[target["sha256"]]
            best = recommend.best_of_groups(confident[key], spec.labels, spec.groups)
            picks[recommend.IMGENIE] = recommend.imgenie(features[target["sha256"]], sims, covers, best, chosen[key],
                                                         genres, catalogue, exclude=target.get("exclude_covers", ()),
                                                         rerank=rerank_for(recommend.IMGENIE))
        if submission:
            for recommender, chosen_picks in picks.items():
                used[(submission, recommender)].update(p.song for p in chosen_picks)
    return out


def recommendation_rows(spec: models.ModelSpec, run_key: str, targets: list[dict], tag_scores: dict[str, np.ndarray],
                        features: dict[str, np.ndarray], catalogue) -> pa.Table:
    """Both recommenders' songs for each target ``{input_key, sha256, genres}``, as gold.recommendations rows."""
    rows = []
    for target, picks in zip(targets, recommend_picks(spec, targets, tag_scores, features, catalogue)):
        for recommender, chosen in picks.items():
            for rank, pick in enumerate(chosen, start=1):
                rows.append({
                    "input_key": target["input_key"], "sha256": target["sha256"],
                    "genre_choice": genre_choice(target["genres"]), "recommender": recommender, "rank": rank,
                    "song_key": catalogue.song_key[pick.song], "song_id": catalogue.song_id[pick.song],
                    "title": catalogue.title[pick.song], "artist": catalogue.artist[pick.song],
                    "genres": list(catalogue.genres[pick.song]), "score": pick.score,
                    "matched_tags": list(pick.matched), "model_version": spec.model_version,
                    "catalogue_version": catalogue.version, "run_key": run_key,
                })
    return pa.Table.from_pylist(rows, schema=RECOMMENDATIONS.arrow_schema())


def recommend_for(spec: models.ModelSpec, run_key: str, targets: list[dict], tag_scores: dict[str, np.ndarray],
                  features: dict[str, np.ndarray]) -> tuple[str | None, int]:
    """Make and store both recommenders' songs for the targets; ``(catalogue version, rows)``. Without a
    catalogue yet: ``(None, 0)``, the tags are kept and the next run after a refresh recommends."""
    from scoring import catalogue as catalogues

    if not targets:
        return catalogues.current_version(), 0
    try:
        catalogue = catalogues.load(cover_encoder=spec.encoder)
    except catalogues.NoCatalogue as why:
        log.warning("no recommendations: %s", why)
        return None, 0
    rows = recommendation_rows(spec, run_key, targets, tag_scores, features, catalogue)
    delta.merge(RECOMMENDATIONS, rows)  # on (input, genres, recommender, model, catalogue, rank): a rerun replaces
    return catalogue.version, rows.num_rows


@dataclass
class Books:
    run_key: str
    model_version: str = ""
    encoder: str = ""
    claimed: int = 0
    reclaimed: int = 0
    poisoned: int = 0
    recovered: int = 0
    scored: int = 0
    failed: int = 0
    images_encoded: int = 0
    duplicates_resolved: int = 0
    recommendations: int = 0
    catalogue_version: str | None = None
    duration_s: float = 0.0


def score(run_key: str, *, spark=None, progress: Progress | None = None) -> dict:
    """Score everything queued (and what a dead run left running); return the run's books."""
    RunPartition.parse(run_key)  # a malformed key stops here, in one line
    s = settings.load()
    started = time.monotonic()
    books = Books(run_key)
    with upload_queue.run_lock():
        if upload_queue.pending_count() == 0:
            books.duplicates_resolved = upload_queue.resolve_duplicates()
            return vars(books)  # nothing to do, no model needed, no books row
        spec = models.current_spec()
        books.model_version, books.encoder = spec.model_version, spec.encoder
        claim = upload_queue.claim(run_key, s.scoring_max_attempts)
        books.claimed = len(claim.rows) + len(claim.poisoned)
        books.reclaimed, books.poisoned = claim.reclaimed, len(claim.poisoned)
        sha_of = {r["input_key"]: r["sha256"] for r in claim.rows}
        recovered = stored_results(spec, set(sha_of))
        features = stored_embeddings(spec.encoder, set(sha_of.values()))
        # Encode what has no tags yet, and what has tags but no stored features (a dead run's, an older layout's).
        todo = {r["input_key"]: r["stored_path"] for r in claim.rows
                if r["input_key"] not in recovered or r["sha256"] not in features}
        results: dict[str, dict] = {}
        if todo:
            from spark_jobs.session import spark_session

            with spark_session("scenetune-score-uploads", spark) as session:
                results = run_spark(session, sorted(todo.items()), spec, run_key, progress)
        fresh = {sha_of[k]: r["features"] for k, r in results.items() if r["ok"] and sha_of[k] not in features}
        if fresh:
            store_embeddings(spec.encoder, run_key, fresh)
            features.update({sha: np.asarray(f, dtype=np.float32) for sha, f in fresh.items()})
        to_tag = [r for k, r in results.items() if k not in recovered]
        if to_tag:
            from scoring import text_intent

            captions = {r["input_key"]: r["caption"] for r in claim.rows if r["caption"]}
            shifts = text_intent.shifts({r["input_key"]: captions[r["input_key"]] for r in to_tag
                                         if r["ok"] and r["input_key"] in captions}, spec.labels, spec.groups)
            store_tags(spec, run_key, image_tag_rows(spec, to_tag, sha_of, run_key, shifts))
        books.images_encoded = len(results)

        good = [r for r in claim.rows if r["input_key"] in recovered
                or (r["input_key"] in results and results[r["input_key"]]["ok"])]
        targets = list({(r["input_key"], genre_choice(r["genres"])): {
            "input_key": r["input_key"], "sha256": r["sha256"], "genres": list(r["genres"] or ()),
            "submission": r["submission_id"]} for r in good}.values())  # a submission's photos spread their songs
        tag_scores = stored_tag_scores(spec, {t["input_key"] for t in targets})
        catalogue_version, books.recommendations = recommend_for(spec, run_key, targets, tag_scores, features)
        books.catalogue_version = catalogue_version or spec.catalogue_version

        finished = []
        for row in claim.rows:
            row.update(model_version=spec.model_version, catalogue_version=books.catalogue_version)
            result = results.get(row["input_key"])
            if row["input_key"] in recovered:
                row.update(status="scored", reason=None)
                books.recovered += 1
            elif result is not None and result["ok"]:
                row.update(status="scored", reason=None, width=result["width"], height=result["height"],
                           format=result["format"])
                books.scored += 1
            else:
                reason = result["reason"] if result is not None else "no result came back from the scoring job"
                row.update(status="failed", reason=reason, model_version=None, catalogue_version=None)
                books.failed += 1
            finished.append(row)
        upload_queue.finish(run_key, finished)
        books.duplicates_resolved = upload_queue.resolve_duplicates()
        books.duration_s = round(time.monotonic() - started, 3)
        delta.merge(SCORING_RUNS, pa.Table.from_pylist([vars(books)], schema=SCORING_RUNS.arrow_schema()))
    return vars(books)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-key", required=True, help="the scoring run's key, e.g. 20261122T020000Z")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    print(json.dumps(score(args.run_key)))


if __name__ == "__main__":
    main()
    exit_now(0)  # printed and committed: skip a teardown native threads can abort
