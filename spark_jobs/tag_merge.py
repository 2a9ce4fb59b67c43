"""Tag co-occurrence over playlists, and automatic merges of near-synonymous tags into labels.

A playlist is one context (IMGenie's idea): two tags co-occur when one playlist carries both.
From the counts come the conditional shares P(B | A) (of the playlists tagged A, the share also
tagged B; IMGenie measured 눈오는날→겨울 0.83) and the lift P(B | A) / P(B) (how much more often
than chance), over the playlists that carry at least one tag.

Merge rule (subsumption, as in tag-hierarchy induction): a tag A of the six categories joins a
broader tag B (B on more playlists than A) when

- P(B | A) >= ``min_p``: most of A's playlists also say B;
- lift >= ``min_lift``: and not merely because B is everywhere (기분전환 follows many tags);
- at least ``min_playlists`` playlists carry both: a handful of playlists proves nothing.

Among the broader tags that qualify, A joins the one with the highest P(B | A). Each tag then
points to at most one broader tag, so the pointers form a forest; a tag's label is the root of its
tree (A→B→C gives C). Tags of no category (genres, brands, weekdays ...) are their own labels: a
brand must not become a mood. Thresholds come from the settings (``SCENETUNE_TAG_MERGE_*``).

The Spark part counts; the merge itself is a small driver step over at most (tags)² pairs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from schemas import glossary
from schemas.gold import TAG_CATEGORIES
from schemas.taxonomy import OTHER, category_of

HEATMAP_NAME = "tag_cooccurrence.png"


@dataclass(frozen=True)
class MergeRule:
    min_p: float
    min_lift: float
    min_playlists: int

    @classmethod
    def from_settings(cls) -> MergeRule:
        from core import settings

        s = settings.load()
        return cls(s.tag_merge_min_p, s.tag_merge_min_lift, s.tag_merge_min_playlists)

    def describe(self) -> str:
        return (f"P(label|tag) >= {self.min_p:g}, lift >= {self.min_lift:g}, >= {self.min_playlists} playlists with both;"
                f" tags of the six categories only; the label is on more playlists than the tag")


@dataclass(frozen=True)
class Pair:
    """What the playlists say about tag ``a`` and tag ``b`` (ordered: the shares are of ``a``'s playlists)."""

    a: str
    b: str
    both: int
    playlists_a: int
    playlists_b: int
    tagged_playlists: int

    @property
    def p_b_given_a(self) -> float:
        return self.both / self.playlists_a

    @property
    def p_a_given_b(self) -> float:
        return self.both / self.playlists_b

    @property
    def lift(self) -> float:
        return self.p_b_given_a / (self.playlists_b / self.tagged_playlists)

    def describe(self) -> str:
        return (f"{self.a}→{self.b}: P({self.b}|{self.a}) = {self.p_b_given_a:.3f}, P({self.a}|{self.b}) = "
                f"{self.p_a_given_b:.3f}, lift {self.lift:.1f}, {self.both} of {self.playlists_a} playlists")


def pairs_of(playlists: Mapping[str, int], both: Mapping[tuple[str, str], int], tagged_playlists: int) -> list[Pair]:
    """Every ordered pair of distinct tags sharing a playlist (``both`` may hold either order or both)."""
    out = {}
    for (a, b), n in both.items():
        if a != b and n > 0:
            out[(a, b)] = Pair(a, b, n, playlists[a], playlists[b], tagged_playlists)
            out[(b, a)] = Pair(b, a, n, playlists[b], playlists[a], tagged_playlists)
    return [out[k] for k in sorted(out)]


def _broader(pair: Pair) -> bool:
    # A strict order (playlists, then name) so that two tags never point at each other.
    return (pair.playlists_b, pair.a) > (pair.playlists_a, pair.b)


def _shortfall(pair: Pair, rule: MergeRule) -> list[str]:
    missing = []
    if pair.p_b_given_a < rule.min_p:
        missing.append(f"P below {rule.min_p:g}")
    if pair.lift < rule.min_lift:
        missing.append(f"lift below {rule.min_lift:g}")
    if pair.both < rule.min_playlists:
        missing.append(f"fewer than {rule.min_playlists} playlists with both")
    return missing


def merge_tags(playlists: Mapping[str, int], pairs: list[Pair], rule: MergeRule,
               category: Callable[[str], str] = category_of,
               english: Callable[[str], str | None] = glossary.english) -> list[dict]:
    """One gold.tag_map row (without run_key) per tag of ``playlists`` (tag -> playlists carrying it), by tag."""
    by_tag: dict[str, list[Pair]] = {}
    for pair in pairs:
        by_tag.setdefault(pair.a, []).append(pair)
    parent: dict[str, Pair] = {}
    closest: dict[str, Pair] = {}
    for tag in playlists:
        if category(tag) == OTHER:
            continue
        candidates = [p for p in by_tag.get(tag, ()) if category(p.b) != OTHER and _broader(p)]
        ranked = sorted(candidates, key=lambda p: (-p.p_b_given_a, -p.lift, p.b))
        qualified = [p for p in ranked if not _shortfall(p, rule)]
        if qualified:
            parent[tag] = qualified[0]
        elif ranked:
            closest[tag] = ranked[0]

    rows = []
    for tag in sorted(playlists):
        chain: list[Pair] = []
        label = tag
        while label in parent:  # terminates: each step goes to a strictly broader tag
            chain.append(parent[label])
            label = parent[label].b
        direct = chain[0] if chain else None
        if chain:
            evidence = [p.describe() for p in chain]
        elif category(tag) == OTHER:
            evidence = ["a tag of no category (genre, brand, chart ...): its own label, never merged"]
        elif tag in closest:
            p = closest[tag]
            evidence = [f"not merged; closest broader tag {p.describe()} ({', '.join(_shortfall(p, rule))})"]
        else:
            evidence = ["not merged: it shares no playlist with a broader tag of the six categories"]
        rows.append({
            "tag": tag, "label": label, "label_en": english(label), "category": category(label),
            "tag_category": category(tag),
            "merged": bool(chain), "merged_into": direct.b if direct else None,
            "playlists": int(playlists[tag]),
            "playlists_both": direct.both if direct else None,
            "p_into_given_tag": direct.p_b_given_a if direct else None,
            "p_tag_given_into": direct.p_a_given_b if direct else None,
            "lift": direct.lift if direct else None,
            "evidence": evidence,
        })
    version = map_version(rows)
    for row in rows:
        row["map_version"] = version
        row["merge_rule"] = rule.describe()
    return rows


def map_version(rows: list[dict]) -> str:
    """A digest of the mapping itself (tag, label, category): equal maps have equal versions across runs,
    whatever the counts behind them."""
    body = json.dumps(sorted((r["tag"], r["label"], r["category"]) for r in rows), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]


def cooccurrence_rows(pairs: list[Pair]) -> list[dict]:
    """gold.tag_cooccurrence rows (without run_key)."""
    return [{"tag_a": p.a, "tag_b": p.b, "category_a": category_of(p.a), "category_b": category_of(p.b),
             "playlists_both": p.both, "playlists_a": p.playlists_a, "playlists_b": p.playlists_b,
             "tagged_playlists": p.tagged_playlists, "p_b_given_a": p.p_b_given_a, "p_a_given_b": p.p_a_given_b,
             "lift": p.lift} for p in pairs]


# --- Spark: the counts --------------------------------------------------------------------------
def count_cooccurrence(playlists) -> tuple[dict[str, int], list[Pair], int]:
    """From a DataFrame of (source, plm_seq, tags) with each playlist's tags deduplicated (silver.playlists):
    playlists per tag, every co-occurring ordered pair, and the number of tagged playlists."""
    from pyspark.sql import functions as F

    tag_rows = playlists.select(F.struct("source", "plm_seq").alias("plm_seq"),
                                F.explode(F.array_distinct("tags")).alias("tag"))
    counts = {r["tag"]: int(r["n"]) for r in tag_rows.groupBy("tag").agg(F.count("*").alias("n")).collect()}
    a, b = tag_rows.alias("a"), tag_rows.alias("b")
    together = (a.join(b, "plm_seq").where(F.col("a.tag") < F.col("b.tag"))  # each unordered pair once
                .groupBy(F.col("a.tag").alias("tag_a"), F.col("b.tag").alias("tag_b")).agg(F.count("*").alias("n"))
                .collect())
    tagged = playlists.where(F.size("tags") > 0).count()
    return counts, pairs_of(counts, {(r["tag_a"], r["tag_b"]): int(r["n"]) for r in together}, tagged), tagged


# --- the heatmap --------------------------------------------------------------------------------
def heatmap_path(run_key: str) -> Path:
    """Where the build of ``run_key`` draws its heatmap (a reused build: look under the run that built it)."""
    from core import settings

    return settings.load().reports_dir / run_key / HEATMAP_NAME


def draw_heatmap(cooccurrence: list[dict], tag_map: list[dict], path: Path, title: str) -> Path:
    """P(column | row) for the tags of the six categories (rows of gold.tag_cooccurrence and gold.tag_map),
    grouped by label (merged tags beside their label, merges outlined), labelled in English (fonts need
    no Hangul)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, whatever the environment says
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from core import files

    rows = [r for r in tag_map if r["tag_category"] != OTHER]
    label_size = {r["tag"]: r["playlists"] for r in tag_map}
    order = {c: i for i, c in enumerate(TAG_CATEGORIES)}
    rows.sort(key=lambda r: (order.get(r["category"], len(order)), -label_size.get(r["label"], 0), r["label"],
                             r["merged"], -r["playlists"], r["tag"]))
    tags = [r["tag"] for r in rows]
    index = {t: i for i, t in enumerate(tags)}
    matrix = np.zeros((len(tags), len(tags)))
    for pair in cooccurrence:
        if pair["tag_a"] in index and pair["tag_b"] in index:
            matrix[index[pair["tag_a"]], index[pair["tag_b"]]] = pair["p_b_given_a"]
    size = max(6.0, 0.17 * len(tags) + 3)
    fig = Figure(figsize=(size + 1.5, size), dpi=100)
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="magma_r", vmin=0, vmax=1, interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="P(column tag | row tag) over playlists")
    names = [f"{glossary.english(r['tag']) or r['tag']} ({r['tag_category'][:3]})" for r in rows]
    ax.set_xticks(range(len(tags)), names, rotation=90, fontsize=6)
    ax.set_yticks(range(len(tags)), names, fontsize=6)
    for r in rows:
        if r["merged_into"] in index:
            ax.add_patch(Rectangle((index[r["merged_into"]] - 0.5, index[r["tag"]] - 0.5), 1, 1, fill=False,
                                   edgecolor="#1f77b4", linewidth=1.2))
    for b in (i for i in range(1, len(rows)) if rows[i]["category"] != rows[i - 1]["category"]):
        ax.axhline(b - 0.5, color="#888888", linewidth=0.6)
        ax.axvline(b - 0.5, color="#888888", linewidth=0.6)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with files.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path
