"""Genie's playlist tags as the demo site uses them: codes, categories, and what each tag means.

Each tag carries three things the generator needs:
- a Genie-style code (``ST0002`` for 드라이브 ... the real codes from genie_site.md where
  known, the rest numbered consistently in the gaps);
- the song moods it prefers (so a playlist's songs fit its tags);
- the cover "look" it asks for (palette, scene elements), so covers follow their tags.

Song mood classes: bright, love, sad, calm, intense, groove.
"""

from __future__ import annotations

from dataclasses import dataclass

MOOD_CLASSES = ("bright", "love", "sad", "calm", "intense", "groove")

CATEGORIES: dict[str, tuple[str, ...]] = {
    "situation": (
        "출/퇴근길", "휴식", "일/공부", "집", "외출", "카페", "휴가/여행", "드라이브", "산책", "잠잘 때",
        "운동", "하우스파티", "시상식", "집중", "거리", "클럽", "고백", "해변", "공연", "라운지", "애도",
    ),
    "emotion": (
        "기분전환", "외로움", "슬픔", "힘찬", "이별", "지침/힘듦", "설렘", "위로", "사랑", "스트레스/짜증",
        "그리움", "추억", "우울", "행복", "불만", "분노", "기쁨", "축하",
    ),
    "time": ("오후", "밤", "새벽", "저녁", "아침"),
    "style": (
        "밝은", "신나는", "편안한", "따뜻한", "그루브한", "부드러운", "로맨틱한", "웅장한", "매혹적인", "영화음악",
        "잔잔한", "몽환적인", "댄서블한", "달콤한", "시원한", "애절한", "어두운", "연주음악", "캐롤", "발렌타인데이",
        "화이트데이", "섹시한", "로파이",
    ),
    "weather": ("맑은날", "추운날", "흐린날", "비오는날", "더운날", "안개낀날", "눈오는날"),
    "season": ("봄", "여름", "가을", "겨울"),
}

GENRES: tuple[str, ...] = (
    "가요", "발라드", "댄스", "락/메탈", "POP", "랩/힙합", "일렉트로니카", "인디", "블루스/포크", "트롯",
    "OST", "JPOP", "재즈", "클래식", "뉴에이지", "월드뮤직", "R&B/소울",
)

# Genie's own display strings for a song's genre ("POP / 락" style: split on "/").
GENIE_GENRE_STRING: dict[str, str] = {
    "가요": "가요 / 국내가요", "발라드": "가요 / 발라드", "댄스": "가요 / 댄스", "락/메탈": "가요 / 락/메탈",
    "POP": "POP / 팝", "랩/힙합": "가요 / 랩/힙합", "일렉트로니카": "일렉트로니카 / 해외일렉트로니카",
    "인디": "가요 / 인디", "블루스/포크": "POP / 블루스/포크", "트롯": "가요 / 트롯", "OST": "OST / 드라마",
    "JPOP": "JPOP / J-POP", "재즈": "재즈 / 보컬재즈", "클래식": "클래식 / 독주곡", "뉴에이지": "뉴에이지 / 피아노",
    "월드뮤직": "월드뮤직 / 라틴", "R&B/소울": "가요 / R&B/소울",
}

_FOREIGN_GENRE_STRING: dict[str, str] = {
    "발라드": "POP / 발라드", "댄스": "POP / 댄스", "락/메탈": "POP / 락", "랩/힙합": "POP / 랩/힙합",
    "인디": "POP / 인디", "R&B/소울": "POP / R&B/소울", "가요": "POP / 팝", "트롯": "가요 / 트롯",
}


def genie_genre_string(genre: str, korean_artist: bool) -> str:
    """Genie's genre label for a song, e.g. '가요 / 발라드' or 'POP / 락'."""
    if not korean_artist and genre in _FOREIGN_GENRE_STRING:
        return _FOREIGN_GENRE_STRING[genre]
    return GENIE_GENRE_STRING[genre]


# Codes seen on the real site (genie_site.md). Everything else is numbered into the gaps.
KNOWN_CODES: dict[str, str] = {
    "드라이브": "ST0002", "출/퇴근길": "ST0005", "밤": "ST0009", "맑은날": "ST0013", "가을": "ST0015",
    "겨울": "ST0016", "흐린날": "ST0018", "비오는날": "ST0019", "봄": "ST0025", "눈오는날": "ST0026",
    "여름": "ST0028", "일/공부": "ST0034", "집중": "ST0037",
    "R&B/소울": "GR0003", "랩/힙합": "GR0006",
}

# Tags that mark a playlist as an ad or a non-mood collection (IMGenie removed these).
NON_MOOD_TAGS: dict[str, tuple[str, ...]] = {
    "weekday": ("월요일", "금요일", "주말"),
    "chart": ("차트", "TOP100", "인기차트"),
    "kids": ("동요", "태교", "자장가"),
    "dj": ("DJ지니", "DJ하루", "DJ펀치"),
    "media": ("드라마", "뮤지컬", "노래방"),
}
# Fictional brands (ad playlists carry the brand as a tag and in the title).
BRANDS: tuple[str, ...] = (
    "NORDLUX", "VELOCE", "SOLMATE", "URBAN ROAST", "MINTPAY", "AURORA AIR", "BLUEWAVE", "HAVEN",
    "PIXELONE", "MOONBEAN", "REDLINE", "COZYHOME", "LUMEN", "TERRA", "ORBIT", "KIWIMART",
)

# Planted co-occurrence groups, as IMGenie measured them (P(consequent | antecedent)).
PLANTED_GROUPS: tuple[tuple[str, str, float], ...] = (
    ("눈오는날", "겨울", 0.8),
    ("더운날", "여름", 0.6),
    ("맑은날", "봄", 0.5),
    ("흐린날", "비오는날", 0.5),
)


@dataclass(frozen=True)
class TagProfile:
    name: str
    code: str
    category: str  # one of CATEGORIES, "genre", or "non_mood:<kind>" / "brand"
    moods: tuple[str, ...]  # preferred song moods, strongest first
    look: str  # cover look preset (see covers.py)


# tag -> (preferred song moods, cover look). Looks: sunny beach night dawn sunset morning rain cloudy
# fog snow pastel spring autumn road city neon calm dark room.
_MOOD_TABLE: dict[str, tuple[str, str]] = {
    # situation
    "출/퇴근길": ("bright groove", "road"), "휴식": ("calm", "calm"), "일/공부": ("calm", "room"),
    "집": ("calm love", "room"), "외출": ("bright", "sunny"), "카페": ("calm love", "room"),
    "휴가/여행": ("bright", "beach"), "드라이브": ("bright groove", "road"), "산책": ("calm bright", "spring"),
    "잠잘 때": ("calm", "night"), "운동": ("intense bright", "neon"), "하우스파티": ("bright groove", "neon"),
    "시상식": ("intense bright", "neon"), "집중": ("calm", "room"), "거리": ("groove", "city"),
    "클럽": ("groove intense", "neon"), "고백": ("love", "pastel"), "해변": ("bright", "beach"),
    "공연": ("intense", "neon"), "라운지": ("groove calm", "city"), "애도": ("sad calm", "dark"),
    # emotion
    "기분전환": ("bright", "sunny"), "외로움": ("sad", "cloudy"), "슬픔": ("sad", "rain"),
    "힘찬": ("intense bright", "neon"), "이별": ("sad", "rain"), "지침/힘듦": ("calm sad", "cloudy"),
    "설렘": ("love bright", "pastel"), "위로": ("calm sad", "calm"), "사랑": ("love", "pastel"),
    "스트레스/짜증": ("intense", "dark"), "그리움": ("sad love", "autumn"), "추억": ("sad calm", "autumn"),
    "우울": ("sad", "cloudy"), "행복": ("bright love", "sunny"), "불만": ("intense", "dark"),
    "분노": ("intense", "dark"), "기쁨": ("bright", "sunny"), "축하": ("bright", "neon"),
    # time
    "오후": ("calm bright", "sunny"), "밤": ("calm groove love", "night"), "새벽": ("calm sad", "dawn"),
    "저녁": ("calm love", "sunset"), "아침": ("bright calm", "morning"),
    # style
    "밝은": ("bright", "sunny"), "신나는": ("bright intense", "neon"), "편안한": ("calm", "calm"),
    "따뜻한": ("calm love", "autumn"), "그루브한": ("groove", "city"), "부드러운": ("calm love", "calm"),
    "로맨틱한": ("love", "pastel"), "웅장한": ("intense", "dark"), "매혹적인": ("groove", "dark"),
    "영화음악": ("calm intense", "dark"), "잔잔한": ("calm", "calm"), "몽환적인": ("calm groove", "night"),
    "댄서블한": ("bright groove", "neon"), "달콤한": ("love", "pastel"), "시원한": ("bright", "beach"),
    "애절한": ("sad", "rain"), "어두운": ("intense sad", "dark"), "연주음악": ("calm", "calm"),
    "캐롤": ("bright love", "snow"), "발렌타인데이": ("love", "pastel"), "화이트데이": ("love", "pastel"),
    "섹시한": ("groove", "dark"), "로파이": ("calm groove", "night"),
    # weather
    "맑은날": ("bright", "sunny"), "추운날": ("calm sad", "snow"), "흐린날": ("sad calm", "cloudy"),
    "비오는날": ("sad calm", "rain"), "더운날": ("bright", "beach"), "안개낀날": ("calm sad", "fog"),
    "눈오는날": ("calm love", "snow"),
    # season
    "봄": ("love bright", "spring"), "여름": ("bright", "beach"), "가을": ("sad calm", "autumn"),
    "겨울": ("calm love", "snow"),
}

_GENRE_MOODS: dict[str, str] = {
    "가요": "bright love", "발라드": "sad love", "댄스": "bright groove", "락/메탈": "intense",
    "POP": "bright love", "랩/힙합": "groove intense", "일렉트로니카": "groove bright", "인디": "calm love",
    "블루스/포크": "calm sad", "트롯": "bright", "OST": "sad love", "JPOP": "bright calm", "재즈": "calm groove",
    "클래식": "calm", "뉴에이지": "calm", "월드뮤직": "bright groove", "R&B/소울": "groove love",
}

# Effective tag frequency where melon_tag_counts.csv has no exact entry: which melon tags stand for it.
MELON_ALIASES: dict[str, tuple[str, ...]] = {
    "출/퇴근길": ("출근길", "퇴근길", "퇴근"), "일/공부": ("공부",), "휴가/여행": ("여행",),
    "잠잘 때": ("잠", "잠잘때", "잠들기전"), "지침/힘듦": ("지침", "힘듦", "힘들때"),
    "스트레스/짜증": ("스트레스", "짜증"), "불만": ("불만",), "댄서블한": ("댄서블",), "안개낀날": ("안개",),
    "R&B/소울": ("알앤비", "소울"), "POP": ("팝",), "락/메탈": ("락", "메탈"), "랩/힙합": ("랩", "힙합"),
    "블루스/포크": ("블루스", "포크"),
}
# Weather/season/time tags were far more common on Genie than in the Melon data; floors keep the
# planted co-occurrence groups measurable at demo and full scale.
CATEGORY_FLOOR = {"weather": 900, "season": 600, "time": 500, "situation": 120, "emotion": 120, "style": 120}


def _assign_codes() -> dict[str, str]:
    """Known codes stay; other tags get the lowest free number of their prefix, in table order."""
    codes = dict(KNOWN_CODES)
    used = {"ST": {int(c[2:]) for c in codes.values() if c.startswith("ST")},
            "GR": {int(c[2:]) for c in codes.values() if c.startswith("GR")},
            "ET": set()}

    def next_code(prefix: str) -> str:
        n = 1
        while n in used[prefix]:
            n += 1
        used[prefix].add(n)
        return f"{prefix}{n:04d}"

    for names in CATEGORIES.values():
        for name in names:
            if name not in codes:
                codes[name] = next_code("ST")
    for name in GENRES:
        if name not in codes:
            codes[name] = next_code("GR")
    for names in NON_MOOD_TAGS.values():
        for name in names:
            codes[name] = next_code("ET")
    for brand in BRANDS:
        codes[brand] = next_code("ET")
    return codes


TAG_CODES: dict[str, str] = _assign_codes()


def _build_profiles() -> dict[str, TagProfile]:
    profiles: dict[str, TagProfile] = {}
    for category, names in CATEGORIES.items():
        for name in names:
            moods, look = _MOOD_TABLE[name]
            profiles[name] = TagProfile(name, TAG_CODES[name], category, tuple(moods.split()), look)
    for name in GENRES:
        profiles[name] = TagProfile(name, TAG_CODES[name], "genre", tuple(_GENRE_MOODS[name].split()), "calm")
    kind_moods = {"weekday": "bright", "chart": "bright love", "kids": "calm bright", "dj": "groove bright",
                  "media": "love sad"}
    for kind, names in NON_MOOD_TAGS.items():
        for name in names:
            profiles[name] = TagProfile(name, TAG_CODES[name], f"non_mood:{kind}",
                                        tuple(kind_moods[kind].split()), "calm")
    for brand in BRANDS:
        profiles[brand] = TagProfile(brand, TAG_CODES[brand], "brand", ("bright", "groove"), "calm")
    return profiles


PROFILES: dict[str, TagProfile] = _build_profiles()
BY_CODE: dict[str, TagProfile] = {p.code: p for p in PROFILES.values()}
MOOD_TAGS: tuple[str, ...] = tuple(n for names in CATEGORIES.values() for n in names)

# Which tag decides the cover's sky, strongest first.
LOOK_PRIORITY = ("weather", "time", "season", "situation", "emotion", "style")


def tag_ref(name: str) -> str:
    """The ``tags=`` value Genie uses for one tag: ``<CODE>||<NAME>``."""
    return f"{TAG_CODES[name]}||{name}"
