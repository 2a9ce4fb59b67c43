"""Image scoring: the upload queue, the tag models, and what scoring a photo produces.

An upload's *input* is its image bytes plus its caption: ``input_key`` = sha256 of both.
Results are keyed by input and model, so the same photo submitted again (same caption)
is scored once and every submission of it points to the same rows.
"""

from schemas.table import Column as C
from schemas.table import Table

# What a queue row can be; see scoring/queue.py for the transitions.
UPLOAD_STATUSES = ("queued", "duplicate", "rejected", "running", "scored", "failed")
# IMGenie's three label groups (weather & season, mood & style, situation & time).
LABEL_GROUPS = ("weather", "mood", "situation")
RECOMMENDERS = ("mpic_embedding", "imgenie_covers")

IMAGE_UPLOADS = Table(
    name="image_uploads",
    layer="ops",
    grain="one row per file found in a submitted folder",
    key=("submission_id", "file_name"),
    doc=(
        "The scoring queue. `scenetune submit` writes every file it found, with a verdict: queued, duplicate"
        " (the same image and caption is queued or was scored by the current model: it shares that result)"
        " or rejected (with the reason; nothing outside the folder is opened). A scoring run claims queued"
        " rows and those a crashed run left running (status running, `scoring_run_key` = the run), and ends"
        " each one scored or failed with the reason. Written by merges on the key, one writer at a time."
    ),
    columns=(
        C("submission_id", "string", False, "<moment>-<digest of the submission>, printed by `scenetune submit`"),
        C("file_name", "string", False, "path inside the submitted folder, as given ('/'-separated)"),
        C("status", "string", False, " | ".join(UPLOAD_STATUSES)),
        C("reason", "string", True, "one line: why rejected, failed or a duplicate; null when queued or scored"),
        C("sha256", "string", True, "sha256 of the file's bytes; null when it was not read"),
        C("input_key", "string", True, "sha256 of the image's sha256 and its caption: what a result is keyed by"),
        C("stored_path", "string", True, "content-addressed copy, relative to SCENETUNE_HOME (uploads/...)"),
        C("bytes", "int64", True, "file size"),
        C("caption", "string", True, "the caption given for the image (captions.csv or a sidecar .txt)"),
        C("caption_source", "string", True, "captions.csv | --captions | sidecar; null without a caption"),
        C("genres", "list<string>", False, "the submitter's chosen genres (0-3), for the recommenders"),
        C("submitter", "string", True, "who submitted (--submitter)"),
        C("duplicate_of", "string", True, "submission_id/file_name of the upload whose result this one shares"),
        C("scoring_run_key", "string", True, "scoring run that claimed or scored it; null while queued"),
        C("attempts", "int32", False, "scoring runs that claimed it"),
        C("model_version", "string", True, "tag model its result was made with (scored, or shared by a duplicate)"),
        C("catalogue_version", "string", True, "catalogue run its model and songs come from"),
        C("width", "int32", True, "decoded width in pixels, upright"),
        C("height", "int32", True, "decoded height in pixels, upright"),
        C("format", "string", True, "image format (JPEG, PNG, WEBP, GIF ...)"),
    ),
)

SCORING_RUNS = Table(
    name="scoring_runs",
    layer="ops",
    grain="one row per scoring run",
    key=("run_key",),
    doc=("The books of a run: claimed = recovered + scored + failed (+ poisoned rows failed at claim); recovered ="
         " inputs whose tags this model had stored already (a dead run's, or the same photo sent again for other"
         " genres or a newer catalogue): not scored again, only recommended."),
    columns=(
        C("run_key", "string", False, "the scoring run"),
        C("model_version", "string", False, "tag model used"),
        C("encoder", "string", False, "image encoder and its weights"),
        C("claimed", "int64", False, "queue rows claimed (queued, or running in a crashed run)"),
        C("reclaimed", "int64", False, "of claimed: rows a crashed run had left running"),
        C("poisoned", "int64", False, "of claimed: failed at claim, having been claimed by too many runs"),
        C("recovered", "int64", False, "of claimed: results already stored by a crashed run, not scored again"),
        C("scored", "int64", False, "of claimed: scored now"),
        C("failed", "int64", False, "of claimed: failed now, with a reason"),
        C("images_encoded", "int64", False, "distinct inputs run through the encoder"),
        C("duplicates_resolved", "int64", False, "duplicate rows that got their original's result or failure"),
        C("recommendations", "int64", False, "gold.recommendations rows written (both recommenders)"),
        C("catalogue_version", "string", True, "catalogue the songs came from (null: no catalogue yet)"),
        C("duration_s", "float64", False, "wall seconds"),
    ),
)

TAG_MODELS = Table(
    name="tag_models",
    layer="ops",
    grain="one row per tag head trained (the head a catalogue refresh run trained)",
    key=("run_key",),
    partition_by=("run_key",),
    doc=(
        "A linear multi-label head over frozen EfficientNet-Lite0 features, trained on cleaned covers and"
        " their playlists' labels. Files under SCENETUNE_HOME/models/tag_head/<model_version>/ (head.npz: weight"
        " and bias; head.json). Scoring uses the head of the live catalogue version's run (else of the newest"
        " published version that trained one) unless a CLIP model is configured (SCENETUNE_CLIP_MODEL_DIR)."
    ),
    columns=(
        C("run_key", "string", False, "catalogue refresh run that trained it"),
        C("model_version", "string", False,
          "head-<digest of weights, labels and encoder>: the same data trains the same head, the same version"),
        C("catalogue_version", "string", False,
          "the catalogue build it learnt from (run_key on the silver.playlists rows it read; a reused build keeps it)"),
        C("encoder", "string", False, "image encoder and its weights"),
        C("path", "string", False, "model folder, relative to SCENETUNE_HOME"),
        C("label_source", "string", False, "where raw tag -> label came from (taxonomy, gold.tag_map@vN)"),
        C("labels", "list<string>", False, "labels the head predicts, in output order"),
        C("label_groups", "list<string>", False, "each label's group (weather | mood | situation)"),
        C("image_source", "string", False, "silver.cover_quality@vN (cleaned covers) or bronze.covers@vN (raw)"),
        C("train_images", "int64", False, "images it was trained on"),
        C("heldout_images", "int64", False, "images held out (a fifth, by image hash)"),
        C("heldout_map", "float64", True, "mean average precision over labels with a held-out positive"),
        C("prior_map", "float64", True, "the same for a constant scorer (label frequency): the floor"),
    ),
)

TAG_MODEL_LABELS = Table(
    name="tag_model_labels",
    layer="ops",
    grain="one row per label a trained head knows, or left out for too few examples",
    key=("run_key", "label"),
    partition_by=("run_key",),
    columns=(
        C("run_key", "string", False, "catalogue refresh run that trained the head"),
        C("model_version", "string", False, "the head"),
        C("label", "string", False, "label (a raw tag, or a merged label of gold.tag_map)"),
        C("label_group", "string", False, " | ".join(LABEL_GROUPS)),
        C("train_positives", "int64", False, "training images carrying it"),
        C("heldout_positives", "int64", False, "held-out images carrying it"),
        C("heldout_ap", "float64", True, "average precision on the held-out images; null without a positive"),
        C("in_head", "bool", False, "the head predicts it (enough training positives)"),
    ),
)

COVER_EMBEDDINGS = Table(
    name="cover_embeddings",
    layer="gold",
    grain="one row per cover image embedded by the current image encoder",
    key=("image_sha1",),
    doc=(
        "Normalised image features of the covers the tag head trains on; kept so the next training embeds only"
        " new covers, and for recommenders that search covers by image similarity."
    ),
    columns=(
        C("image_sha1", "string", False, "sha1 of the image file's bytes"),
        C("encoder", "string", False, "image encoder and its weights"),
        C("embedding", "list<float32>", False, "L2-normalised features"),
        C("run_key", "string", False, "run that embedded it"),
    ),
)

IMAGE_TAGS = Table(
    name="image_tags",
    layer="gold",
    grain="one row per scored input (image + caption), tag model and label",
    key=("input_key", "model_version", "label"),
    partition_by=("model_version", "run_key"),
    doc=(
        "Every label of the model with its score (0-1). `image_score` is the photo's own: for a tag head, the blend"
        " head_weight * head_score + (1 - head_weight) * zero_shot_score (scoring/blend.py; head_weight = how much the"
        " photo looks like the head's training covers, 1 for a cover, ~0 for a photo unlike them); `text_shift` what"
        " the caption moved it; `score` = image_score + text_shift, clipped. `group_verdict` is `uncertain` when no"
        " label of the group stands clearly above the others: the recommenders use confident groups only."
        " Join to ops.image_uploads on (input_key, model_version). Each scoring run replaces its own partition;"
        " an input is never scored twice by one model (a run first recovers what a dead run stored)."
    ),
    columns=(
        C("input_key", "string", False, "the scored input (ops.image_uploads.input_key)"),
        C("sha256", "string", False, "the image's sha256"),
        C("model_version", "string", False, "tag model"),
        C("catalogue_version", "string", True, "catalogue run its labels come from"),
        C("label", "string", False, "label"),
        C("label_group", "string", False, " | ".join(LABEL_GROUPS)),
        C("score", "float32", False, "final score, 0-1"),
        C("image_score", "float32", False, "score from the image alone"),
        C("text_shift", "float32", False, "what the caption added or took away (bounded); 0 without a caption"),
        C("head_score", "float32", True, "the tag head's score (learnt from covers); null: the head lacks the label, or CLIP"),
        C("zero_shot_score", "float32", True, "the zero-shot scorer's (what is in the photo); null for CLIP"),
        C("head_weight", "float32", True, "the head's share of image_score for this input, 0-1; null for CLIP"),
        C("rank_in_group", "int32", False, "1 = the group's best label for this input"),
        C("group_verdict", "string", False, "confident | uncertain: whether the group's best label stands out"),
        C("run_key", "string", False, "scoring run that wrote it"),
    ),
)

RECOMMENDATIONS = Table(
    name="recommendations",
    layer="gold",
    grain="one row per scored input, chosen genres, recommender, model and catalogue version, and rank",
    key=("input_key", "genre_choice", "recommender", "model_version", "catalogue_version", "rank"),
    partition_by=("recommender",),
    doc=(
        "Songs for a photo, with the why: `matched_tags` are the photo's labels the song carries. Written by"
        " the recommenders (" + ", ".join(RECOMMENDERS) + ") in every scoring run, for each scored input and the"
        " genres its submitter chose; the gallery links each song to its Genie page. mpic_embedding: the photo's"
        " labels as an English sentence, MiniLM, cosine over gold.sentence_embeddings; the best song of each chosen"
        " genre, then the best of those genres up to 5. imgenie_covers: per label group the 15 playlists whose"
        " cleaned covers are nearest the photo (EfficientNet-Lite0 features, FAISS), their songs interleaved from"
        " three orderings (genre match + newest, genre match + most listed, cover similarity + most listed),"
        " first 6; newest = highest Genie song id, most listed = gold.songs.playlist_count (no listen counts are"
        " crawled)."
    ),
    columns=(
        C("input_key", "string", False, "the scored input (ops.image_uploads.input_key)"),
        C("sha256", "string", False, "the image's sha256"),
        C("genre_choice", "string", False, "the submitter's genres joined by ',' in their order; '' for none"),
        C("recommender", "string", False, " | ".join(RECOMMENDERS)),
        C("rank", "int32", False, "1 = best"),
        C("song_key", "string", False, "gold.songs.song_key"),
        C("song_id", "string", True, "a Genie song id of the song (its page: /detail/songInfo?xgnm=<id>)"),
        C("title", "string", False, "title as the catalogue shows it"),
        C("artist", "string", False, "artist as the catalogue shows it"),
        C("genres", "list<string>", False, "the song's genres"),
        C("score", "float32", False, "the recommender's score (higher is better)"),
        C("matched_tags", "list<string>", False, "the photo's labels that the song carries: why it was chosen"),
        C("model_version", "string", False, "tag model the photo's labels come from"),
        C("catalogue_version", "string", False, "catalogue run the songs come from"),
        C("run_key", "string", False, "run that wrote it"),
    ),
)

IMAGE_EMBEDDINGS = Table(
    name="image_embeddings",
    layer="gold",
    grain="one row per uploaded image (by content) and image encoder",
    key=("sha256", "encoder"),
    doc=(
        "The uploaded image's features, as gold.cover_embeddings holds the covers': what imgenie_covers searches"
        " the covers with. Kept so recommendations can be made again (a new catalogue, other genres, a run that"
        " died after storing its tags) without encoding the image again."
    ),
    columns=(
        C("sha256", "string", False, "the image's sha256"),
        C("encoder", "string", False, "image encoder and its weights"),
        C("embedding", "list<float32>", False, "L2-normalised features"),
        C("run_key", "string", False, "scoring run that encoded it"),
    ),
)

TABLES = (IMAGE_UPLOADS, SCORING_RUNS, TAG_MODELS, TAG_MODEL_LABELS, COVER_EMBEDDINGS, IMAGE_EMBEDDINGS, IMAGE_TAGS,
          RECOMMENDATIONS)
