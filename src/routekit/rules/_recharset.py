"""Character sets as sorted code-point ranges, and the named classes of Go's regexp.

Go's Perl classes (``\\d``, ``\\s``, ``\\w``) and POSIX classes (``[[:alpha:]]``) are ASCII
only, unlike Python's Unicode-aware ``\\d`` and ``\\w``; they are spelled out as ranges here so
the Python translation keeps Go's meaning.  Unicode categories (``\\pL``) are built from
:mod:`unicodedata` on first use; scripts (``\\p{Greek}``) have no table in the standard library
and are only available with google-re2.
"""

from __future__ import annotations

import bisect
import functools
import sys
import unicodedata

__all__ = [
    "CATEGORIES",
    "PERL_CLASSES",
    "POSIX_CLASSES",
    "SCRIPTS",
    "Ranges",
    "category_ranges",
    "fold",
    "negate",
    "normalize",
    "orbit",
    "overlaps",
    "union",
]

#: Sorted, disjoint, non-adjacent inclusive ranges of code points.
Ranges = tuple[tuple[int, int], ...]

MAX_CHAR = sys.maxunicode


def normalize(ranges: list[tuple[int, int]] | Ranges) -> Ranges:
    """Sort ``ranges`` and merge those that overlap or touch."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def negate(ranges: Ranges) -> Ranges:
    """Every code point not in (normalised) ``ranges``."""
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CHAR:
        out.append((nxt, MAX_CHAR))
    return tuple(out)


def union(*sets: Ranges) -> Ranges:
    """The union of several range sets."""
    return normalize([r for ranges in sets for r in ranges])


def overlaps(a: Ranges, b: Ranges) -> bool:
    """Whether two normalised range sets share a code point."""
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][1] < b[j][0]:
            i += 1
        elif b[j][1] < a[i][0]:
            j += 1
        else:
            return True
    return False


# Characters are only cased below U+20000 (the last cased script, Adlam, ends at U+1E95F).
_CASED_LIMIT = 0x20000


@functools.cache
def _orbits() -> dict[int, tuple[int, ...]]:
    # Go's (?i) uses Unicode simple case folding: every character matches the others of its
    # "orbit" (k, K and the Kelvin sign U+212A; s, S and the long s U+017F...).  The orbits are
    # rebuilt from str.casefold (falling back to lower() where the full folding is several
    # characters, as for the German sharp s), about 0.1 s on first use.
    by_key: dict[str, list[int]] = {}
    for cp in range(_CASED_LIMIT):
        ch = chr(cp)
        key = ch.casefold()
        if len(key) != 1:
            key = ch.lower()
            if len(key) != 1:
                key = ch
        by_key.setdefault(key, []).append(cp)
    return {cp: tuple(group) for group in by_key.values() if len(group) > 1 for cp in group}


@functools.cache
def _folding_chars() -> tuple[int, ...]:
    return tuple(sorted(_orbits()))


def orbit(cp: int) -> tuple[int, ...]:
    """The code points that match ``cp`` under ``(?i)`` (``cp`` itself included), in order."""
    return _orbits().get(cp, (cp,))


@functools.lru_cache(maxsize=1024)
def fold(ranges: Ranges) -> Ranges:
    """``ranges`` closed under simple case folding, as Go builds a ``(?i)`` class."""
    orbits = _orbits()
    extra: list[tuple[int, int]] = []
    chars = _folding_chars()
    for lo, hi in ranges:
        for k in range(bisect.bisect_left(chars, lo), bisect.bisect_right(chars, hi)):
            extra.extend((other, other) for other in orbits[chars[k]])
    return union(ranges, tuple(extra)) if extra else ranges


def _r(*pairs: str) -> Ranges:
    return normalize([(ord(p[0]), ord(p[-1])) for p in pairs])


#: Go's Perl classes, keyed by their lower-case letter (``\\D`` is the negation of ``d``).
PERL_CLASSES: dict[str, Ranges] = {
    "d": _r("09"),
    "s": _r("\t\n", "\f\r", " "),
    "w": _r("09", "AZ", "az", "_"),
}

#: Go's POSIX classes (``[[:name:]]``), all ASCII.
POSIX_CLASSES: dict[str, Ranges] = {
    "alnum": _r("09", "AZ", "az"),
    "alpha": _r("AZ", "az"),
    "ascii": ((0, 0x7F),),
    "blank": _r("\t", " "),
    "cntrl": ((0, 0x1F), (0x7F, 0x7F)),
    "digit": _r("09"),
    "graph": _r("!~"),
    "lower": _r("az"),
    "print": _r(" ~"),
    "punct": _r("!/", ":@", "[`", "{~"),
    "space": _r("\t\r", " "),
    "upper": _r("AZ"),
    "word": _r("09", "AZ", "az", "_"),
    "xdigit": _r("09", "AF", "af"),
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Go's Unicode general categories (``unicode.Categories``); ``C`` has no ``Cn``.
CATEGORIES = _words(
    "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps "
    "S Sc Sk Sm So Z Zl Zp Zs"
)

#: Go's Unicode scripts (``unicode.Scripts``, Unicode 15).
SCRIPTS = _words(
    """Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak
    Bengali Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian
    Caucasian_Albanian Chakma Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot
    Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs
    Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi
    Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inherited
    Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li
    Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha Limbu Linear_A
    Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen
    Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs
    Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa
    Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian
    Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage
    Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic
    Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian Sora_Sompeng
    Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil
    Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho
    Warang_Citi Yezidi Yi Zanabazar_Square"""
)


@functools.cache
def _category_table() -> dict[str, Ranges]:
    # One pass over every code point (about 0.2 s), done only when a pattern uses \p with
    # Python's re; google-re2 has its own tables.
    found: dict[str, list[tuple[int, int]]] = {}
    category = unicodedata.category
    prev = ""
    start = 0
    for cp in range(MAX_CHAR + 2):
        cat = category(chr(cp)) if cp <= MAX_CHAR else ""
        if cat != prev:
            if prev:
                found.setdefault(prev, []).append((start, cp - 1))
            prev, start = cat, cp
    table = {name: normalize(ranges) for name, ranges in found.items()}
    for major in "CLMNPSZ":
        parts = [r for name, rs in table.items() if name[0] == major and name != "Cn" for r in rs]
        table[major] = normalize(parts)
    return table


def category_ranges(name: str) -> Ranges:
    """The code points of Unicode general category ``name`` (``L``, ``Lu``, …) or ``Any``."""
    if name == "Any":
        return ((0, MAX_CHAR),)
    return _category_table().get(name, ())
