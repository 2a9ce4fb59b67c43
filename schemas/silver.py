"""Silver: the current, cleaned state of each playlist and its song rows."""

from schemas.table import RUN_KEY, Table
from schemas.table import Column as C

PLAYLISTS = Table(
    name="playlists",
    layer="silver",
    grain="one row per playlist of each source, as of the latest crawl (or import) that fetched it",
    key=("source", "plm_seq"),
    columns=(
        C("source", "string", False, "genie | melon (bronze.SOURCE)"),
        C("plm_seq", "int64", False, "playlist id in its source (Genie plmSeq, Melon id)"),
        C("title", "string", False, "playlist title"),
        C("subtitle", "string", True, "subtitle / description"),
        C("maker_name", "string", True, "curator"),
        C("song_count", "int64", False, "song rows actually listed"),
        C("view_count", "int64", True, "views"),
        C("like_count", "int64", True, "likes"),
        C("tags", "list<string>", False, "tags (NFKC, spaces trimmed), deduplicated, page order"),
        C("cover_sha1", "string", True, "cover file in the cover store"),
        C("cover_status", "string", False, "ok | missing | not_image | download_failed"),
        C("cover_verdict", "string", True,
          "silver.cover_quality's verdict on the cover: keep | crop | drop | unreadable (null: covers not cleaned)"),
        C("cover_kind", "string", True, "silver.cover_quality's kind: scene | text | ad | template_N | duplicate"),
        C("content_hash", "string", False, "change detector from the crawl"),
        C("updated_at", "timestamp", True, "when the source last changed it (Melon updt_date); null for Genie"),
        C("crawl_run_key", "string", False, "run whose crawl (or import) this state comes from"),
        C("fetched_at", "timestamp", False, "when that crawl fetched it"),
        RUN_KEY,
    ),
)

PLAYLIST_SONGS = Table(
    name="playlist_songs",
    layer="silver",
    grain="one row per song row of a playlist's current state",
    key=("source", "plm_seq", "position"),
    doc=("Titles are parsed by spark_jobs.normalise: bracketed parts become the fields below; credits,"
         " remasters, OST notes and glosses (a bracket in another script) leave the title's identity"
         " (`title_key`), live / remix / inst. / other versions and unknown brackets stay in it. `song_key` is the song the row belongs to after"
         " deduplication (gold.songs)."),
    columns=(
        C("source", "string", False, "genie | melon: the playlist's source"),
        C("plm_seq", "int64", False, "playlist id in its source"),
        C("position", "int32", False, "1-based row number"),
        C("song_key", "string", False,
          "the song (gold.songs.song_key): rows sharing a song id of their source or a normalised artist|title "
          "are one song, across sources"),
        C("artist_key", "string", False, "the artist in comparison form, aliases resolved (gold.artist_aliases)"),
        C("title_key", "string", False, "the title in comparison form: base title plus what makes it another version"),
        C("song_id", "string", True, "the source's song id (Genie xgnm, Melon song_meta id)"),
        C("song_title", "string", False, "title as crawled"),
        C("artist_name", "string", False, "artist as crawled"),
        C("album_title", "string", True, "album as crawled"),
        C("title_base", "string", False, "title without its recognised bracketed parts (NFKC, spaces collapsed)"),
        C("feat", "list<string>", False, "featured artists ('Feat. X', 'with X'); may be empty"),
        C("credit", "string", True, "'Prod. by X' credits"),
        C("remaster", "string", True, "remaster note ('2011 Remaster'): the same song"),
        C("live", "string", True, "live version ('Live at ...'): another song"),
        C("inst", "bool", False, "instrumental / Inst. / MR: another song"),
        C("remix", "string", True, "remix, mix or edit ('Radio Edit'): another song"),
        C("version", "string", True, "other version ('Acoustic Ver.', 'Duet'): another song"),
        C("ost", "string", True, "soundtrack note ('From \"Frozen\"', '... OST'): the same song"),
        C("gloss", "string", True, "the title in another script ('Every day Every Moment', '何如歌'): the same song"),
        C("crawl_run_key", "string", False, "run whose crawl the row comes from"),
        RUN_KEY,
    ),
)

COVER_QUALITY = Table(
    name="cover_quality",
    layer="silver",
    grain="one row per playlist in its latest crawled state, with the verdict on its cover",
    key=("plm_seq",),
    doc=("Written by spark_jobs.clean_covers. What a cover's image shows (`image_*` and the evidence columns)"
         " depends only on its bytes and the rules version, and is reused from the previous version of this"
         " table for covers already analysed with the same rules; the verdict also weighs the playlist's tags"
         " and duplicates among all playlists. `keep` and `crop` covers (with `cleaned_path`) and their"
         " playlists' tags are the image training set; `drop` and `unreadable` ones are not. A playlist"
         " dropped for its tags keeps its songs in the catalogue."),
    columns=(
        C("plm_seq", "int64", False, "playlist id"),
        C("cover_sha1", "string", True, "sha1 of the cover's bytes (the cover store's file name); null without a cover"),
        C("cover_status", "string", False, "from the crawl: ok | missing | not_image | download_failed"),
        C("verdict", "string", False,
          "keep (a scene: train on it) | crop (a template: train on its album art) | drop | unreadable"),
        C("cover_kind", "string", True,
          "what was found: scene | text | ad | template_1 | template_2 | template_3 | duplicate; null when unreadable"),
        C("reason", "string", False, "one line: why this verdict"),
        C("tag_flags", "list<string>", False,
          "'kind:tag' for tags marking an ad (brand) or a non-mood collection (weekday, chart, kids, dj, media)"),
        C("image_kind", "string", True, "what the image alone shows (before tags and duplicates)"),
        C("image_reason", "string", True, "one line: the evidence for image_kind"),
        C("stages", "string", True, "stages the image went through: decode, template, text, ocr"),
        C("image_format", "string", True, "JPEG, PNG, WEBP, GIF ... as decoded"),
        C("image_mode", "string", True, "mode as stored: RGB, CMYK, P, RGBA, I;16 ..."),
        C("width", "int32", True, "pixels, upright"),
        C("height", "int32", True, "pixels, upright"),
        C("template_id", "int32", True, "the best-matching Genie template (1-3)"),
        C("template_ssim", "float32", True, "its masked, luminance-normalised SSIM"),
        C("template_frame_step", "float32", True, "template 3: brightness step at its frame edge (noise units)"),
        C("text_region_ratio", "float32", True, "share of the cover the cheap detector sees as text lines"),
        C("ocr_text", "string", True, "words Tesseract read with enough confidence (null: OCR not run or nothing)"),
        C("ocr_confidence", "float32", True, "their mean confidence (0-100)"),
        C("ocr_word_ratio", "float32", True, "share of the cover their boxes cover"),
        C("logo_share", "float32", True, "share of the cover drawn as solid shapes in the lettering's colour"),
        C("crop_left", "int32", True, "crop: the album art's box in the cover's pixels"),
        C("crop_top", "int32", True, "crop box"),
        C("crop_right", "int32", True, "crop box (exclusive)"),
        C("crop_bottom", "int32", True, "crop box (exclusive)"),
        C("phash", "string", True, "64-bit perceptual hash of the cover (16 hex digits)"),
        C("duplicate_group", "string", True, "cover_sha1 of the group's representative cover (null: no duplicate)"),
        C("duplicate_of", "int64", True, "duplicate: the playlist whose cover represents the group"),
        C("duplicate_distance", "int32", True, "pHash bits from the representative (0: the same bytes)"),
        C("cleaned_path", "string", True,
          "keep / crop: the cleaned image, relative to SCENETUNE_HOME, named by the sha1 of its bytes"),
        C("rules_version", "string", False, "version of the cleaning rules and thresholds that judged the image"),
        C("analysed_by", "string", True, "run whose job analysed this cover's image (earlier runs: reused)"),
        C("crawl_run_key", "string", False, "run whose crawl the playlist's state comes from"),
        RUN_KEY,
    ),
)

TABLES = (PLAYLISTS, PLAYLIST_SONGS, COVER_QUALITY)
