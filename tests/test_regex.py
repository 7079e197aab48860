"""Go RE2 regexps and gorilla/mux templates (routekit.rules._regex), on both engines."""

from __future__ import annotations

import functools
import os
import pickle
import subprocess
import sys
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routekit.errors import RoutekitError
from routekit.rules import _regex
from routekit.rules._regex import RegexError, Regexp, compile_regexp, compile_template

re2_native = pytest.importorskip("re2._re2")
import re2  # noqa: E402

ENGINES = ("re", "re2")

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


def native_search(pattern: str, text: str) -> bool:
    """What RE2 itself (Go's engine, in C++) says, as the oracle."""
    rx = re2_native.RE2(pattern.encode(), _OPTIONS)
    assert rx.ok(), rx.error()
    data = text.encode()
    return bool(rx.Match(re2_native.RE2.Anchor.UNANCHORED, data, 0, len(data))[0][0] >= 0)


# --- Go semantics that Python's re spells differently -----------------------------------

GO_SEMANTICS = [
    # (pattern, text, matches in Go)
    (r"^/api$", "/api\n", False),  # Go's $ is the end of the text, not before a final \n
    (r"(?m)^b$", "a\nb\nc", True),
    (r"\d", "\u0663", False),  # Arabic-Indic three: \d is ASCII in Go
    (r"\w", "é", False),
    (r"\s", "\v", False),  # Go's \s has no vertical tab
    (r"\s", "\f", True),
    (r"\bé", " é", False),  # \b is an ASCII word boundary: é is not a word character
    (r"x\b", "xé", True),
    (r"\Bx", "ax", True),
    (r"(?i)k", "\u212a", True),  # Kelvin sign folds to k
    (r"(?i)\W", "\u212a", False),  # folded, then negated
    (r"(?i)[^k]", "\u212a", False),
    (r"(?i)[[:^lower:]]", "A", False),
    (r"(?i)straße", "STRAẞE", True),
    (r"[[:alpha:]]", "é", False),
    (r"[[:punct:]]", "~", True),
    (r"\pL", "é", True),
    (r"\p{Lu}", "é", False),
    (r"\PL", "é", False),
    (r"\p{^L}", "1", True),
    (r"[\pN_]", "٣", True),
    (r"(?s)a.b", "a\nb", True),
    (r"a.b", "a\nb", False),
    (r"[^a]", "\n", True),
    (r"\Qa.b\E", "axb", False),
    (r"\Qa.b\E", "a.b", True),
    (r"\x{e9}\x41\101\0", "éAA\x00", True),
    (r"a{01}", "a{01}", True),  # leading zero: not a repeat, so a literal
    (r"a{,2}", "a{,2}", True),
    (r"x{", "x{", True),
    (r"a\z", "a\n", False),
    (r"\Aa", "ba", False),
    (r"(?i)HOST\.example", "host.EXAMPLE", True),
    (r"(?i:a)b", "AB", False),
    (r"a(?i)b", "aB", True),
    (r"(a(?i)b)c", "aBC", False),  # a flag set in a group ends with the group
    (r"^*a", "a", True),  # Go allows repeating an assertion
    (r"\_", "_", True),
    (r"[]a]", "]", True),
    (r"[a-]", "-", True),
    (r"", "", True),
    (r"a|", "zzz", True),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("pattern", "text", "expected"), GO_SEMANTICS)
def test_go_semantics(engine: str, pattern: str, text: str, expected: bool) -> None:
    assert compile_regexp(pattern, engine=engine).search(text) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("pattern", "text", "expected"), GO_SEMANTICS)
def test_go_semantics_agree_with_re2(pattern: str, text: str, expected: bool) -> None:
    assert native_search(pattern, text) is expected


@pytest.mark.parametrize("engine", ENGINES)
def test_named_groups_and_ungreedy(engine: str) -> None:
    rx = compile_regexp(r"(?P<user>[a-z]+)@(?<host>[a-z.]+)(?P<port>:\d+)?", engine=engine)  # type: ignore[arg-type]
    assert rx.groups("mail: bob@example.com") == {"user": "bob", "host": "example.com", "port": ""}
    assert rx.groups("nobody") is None
    lazy = compile_regexp(r"(?U)(?P<x>a+)", engine=engine)  # type: ignore[arg-type]
    assert lazy.groups("aaa") == {"x": "a"}
    greedy_again = compile_regexp(r"(?U)(?P<x>a+?)", engine=engine)  # type: ignore[arg-type]
    assert greedy_again.groups("aaa") == {"x": "aaa"}
    # Duplicate names are legal in Go; the leftmost group answers, as with SubexpIndex.
    dup = compile_regexp(r"(?P<v>a)(?P<v>b)", engine=engine)  # type: ignore[arg-type]
    assert dup.groups("ab") == {"v": "a"}


@pytest.mark.parametrize("engine", ENGINES)
def test_groups_offsets_with_multibyte_text(engine: str) -> None:
    rx = compile_regexp(r"(?P<w>\pL+)$", engine=engine)  # type: ignore[arg-type]
    assert rx.groups("→ ünïcødé") == {"w": "ünïcødé"}


# --- what Go rejects ----------------------------------------------------------------------

REJECTED = [
    # (pattern, words of the message, position)
    (r"(a)\1", "back-reference \\1", 3),
    (r"x(?=y)", "look-ahead", 1),
    (r"x(?!y)", "negative look-ahead", 1),
    (r"(?<=y)x", "look-behind", 0),
    (r"(?<!y)x", "negative look-behind", 0),
    (r"a++", "possessive quantifier", 1),
    (r"(?>a)", "atomic group", 0),
    (r"(?P<n>a)(?P=n)", "named back-reference", 8),
    (r"(?(1)a|b)", "conditional", 0),
    (r"a\Z", "\\Z", 1),
    (r"\C", "\\C", 0),
    (r"(?x)a b", "flag 'x'", 2),
    (r"a**", "nested repetition operator", 1),
    (r"*a", "missing argument", 0),
    (r"a|*", "missing argument", 2),
    (r"(ab", "missing closing )", 0),
    (r"ab)", "unexpected )", 2),
    (r"[ab", "missing closing ]", 0),
    (r"[z-a]", "invalid character class range", 1),
    (r"[[:alphabet:]]", "invalid POSIX class", 1),
    (r"\p{Klingon}", "unknown Unicode class", 0),
    (r"a\8", "back-reference", 1),
    (r"\q", "invalid escape", 0),
    (r"\x{110000}", "invalid escape", 0),
    (r"[\b]", "\\b inside a character class", 1),
    ("abc\\", "trailing backslash", 3),
    (r"a{1001}", "at most 1000", 1),
    (r"a{3,2}", "minimum exceeds the maximum", 1),
    (r"(a{100}){11}", "limit of 1000", 8),
    (r"(?P<a-b>x)", "invalid named capture", 0),
    (r"(?i-)", "invalid or unsupported Perl syntax", 0),
    ("\ud800", "invalid UTF-8", 0),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("pattern", "words", "position"), REJECTED)
def test_rejected_with_construct_and_position(
    engine: str, pattern: str, words: str, position: int
) -> None:
    with pytest.raises(RegexError) as info:
        compile_regexp(pattern, engine=engine)  # type: ignore[arg-type]
    assert words in info.value.message
    assert info.value.position == position
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, RoutekitError)


def test_rejected_by_re2_too() -> None:
    for pattern, _, _ in REJECTED:
        if pattern in ("\\C", "\ud800"):
            continue  # C++ RE2 has \C (Go does not); the surrogate cannot even be encoded
        assert not re2_native.RE2(pattern.encode(), _OPTIONS).ok(), pattern


def test_pattern_size_is_bounded() -> None:
    assert compile_regexp("a" * 4096).search("a" * 4096)
    with pytest.raises(RegexError, match="longer than 4096 bytes"):
        compile_regexp("a" * 4097)
    with pytest.raises(RegexError, match="nested deeper"):
        compile_regexp("(" * 150 + ")" * 150)


def test_translation_size_is_bounded_without_re2() -> None:
    many_classes = r"\pL" * 50  # each one is ~650 ranges once spelled out for Python
    with pytest.raises(RegexError, match=r"expands to .* routekit\[re2\]"):
        compile_regexp(many_classes, engine="re")
    assert compile_regexp(many_classes, engine="re2").search("é" * 50)


def test_unicode_scripts_need_re2() -> None:
    assert compile_regexp(r"^\p{Greek}+$", engine="re2").search("αβγ")
    with pytest.raises(RegexError, match=r"routekit\[re2\]"):
        compile_regexp(r"^\p{Greek}+$", engine="re")


def test_regex_error_pickles() -> None:
    err = RegexError("bad", 3)
    again = pickle.loads(pickle.dumps(err))
    assert (again.message, again.position, str(again)) == ("bad", 3, str(err))


# --- hostile patterns ---------------------------------------------------------------------

CATASTROPHIC = [
    r"^(a+)+$",
    r"(a*)*b",
    r"(.*a){20}",
    r"(a|a)*c",
    r"(a|ab)*c",
    r"^(\w+\s?)+$",
    r"(x+x+)+y",
    r"(a?a)+b",
    r"(\d+|\d+\.)*x",
    r"(a+ba+)*c",
    r"foo.*bar.*baz.*qux",
]

SAFE_FOR_RE = [
    r"^([a-z0-9-]+\.)*example\.com$",
    r"^/api/(.*)/v1/(.*)$",
    r".*\.php$",
    r"^/(?:[^/]+/)*index\.html$",
    r"^(\d{1,3}\.){3}\d{1,3}$",
    r"(www|web)\.example\.com",
    r"^(?:ab|cd)+$",
    r"^/(?:a|bc)+$",
    r"foo.*bar",
]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_re_fallback_refuses_catastrophic_patterns(pattern: str) -> None:
    with pytest.raises(RegexError) as info:
        compile_regexp(pattern, engine="re")
    assert "unsafe pattern without google-re2" in info.value.message
    assert "routekit[re2]" in info.value.message


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_re2_accepts_catastrophic_patterns(pattern: str) -> None:
    assert compile_regexp(pattern, engine="re2").engine == "re2"


@pytest.mark.parametrize("pattern", SAFE_FOR_RE)
def test_re_fallback_accepts_routing_patterns(pattern: str) -> None:
    assert compile_regexp(pattern, engine="re").engine == "re"


def test_refusal_quotes_the_repetition() -> None:
    with pytest.raises(RegexError) as info:
        compile_regexp(r"^/x/(a+)+$", engine="re")
    assert "'(a+)+'" in info.value.message
    assert info.value.position == 4


def test_catastrophic_pattern_is_accepted_by_re2_and_answers() -> None:
    # Python's re needs about 2**n steps for this on n 'a's, so the fallback refuses it (above);
    # RE2 matches in linear time (measured in benchmarks/bench_regex.py), so it is accepted.
    rx = compile_regexp(r"^(a+)+$", engine="re2")
    assert rx.search("a" * 80_000 + "!") is False
    assert rx.search("a" * 80_000) is True


def test_fallback_bounds_the_text_for_unbounded_patterns() -> None:
    from routekit.rules._redos import MAX_FALLBACK_SUBJECT

    # Accepted by the static checks, yet quadratic on a long crafted text: the fallback does not
    # search texts longer than the bound with a pattern that can repeat without end.
    rx = compile_regexp(r"(a\s*)*b", engine="re")
    assert rx.search("a" * (MAX_FALLBACK_SUBJECT - 1) + "b") is True
    assert rx.search("a" * MAX_FALLBACK_SUBJECT + "b") is False
    assert rx.groups("a" * MAX_FALLBACK_SUBJECT + "b") is None
    # The same pattern under RE2 has no such bound.
    assert compile_regexp(r"(a\s*)*b", engine="re2").search("a" * 10_000 + "b") is True
    # Bounded patterns keep matching long texts on the fallback.
    bounded = compile_regexp(r"\.php$", engine="re")
    assert bounded.search("/x" * 5_000 + ".php") is True


def test_default_engine_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    # google-re2 is installed in the test environment; CI also runs with the variable set.
    expected = os.environ.get("ROUTEKIT_REGEX_ENGINE") or "re2"
    assert expected == _regex.DEFAULT_ENGINE
    assert compile_regexp("a").engine == expected
    monkeypatch.setattr(_regex, "DEFAULT_ENGINE", "re")
    assert compile_regexp("a").engine == "re"
    assert compile_template("/{x}").engine == "re"
    with pytest.raises(RegexError):
        compile_regexp(r"(a+)+$")
    with pytest.raises(ValueError, match="unknown regexp engine"):
        compile_regexp("a", engine="pcre")  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "engine"), [("re", "re"), ("re2", "re2"), ("", "re2")])
def test_the_environment_chooses_the_default_engine(value: str, engine: str) -> None:
    code = "from routekit.rules import _regex; print(_regex.DEFAULT_ENGINE)"

    def run(chosen: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "ROUTEKIT_REGEX_ENGINE": chosen}
        command = [sys.executable, "-c", code]
        return subprocess.run(command, check=False, env=env, capture_output=True, text=True)

    out = run(value)
    assert out.stdout.strip() == engine, out.stderr
    out = run("pcre")
    assert out.returncode != 0 and "ROUTEKIT_REGEX_ENGINE='pcre'" in out.stderr


def test_regexp_value_behaviour() -> None:
    a, b = compile_regexp("^a$", engine="re"), compile_regexp("^a$", engine="re")
    assert a == b and hash(a) == hash(b)
    assert a != compile_regexp("^a$", engine="re2")
    assert a != compile_template("^a$", engine="re")
    assert repr(a) == "<Regexp '^a$' engine=re>"
    assert a.pattern == "^a$"


# --- gorilla/mux templates ----------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_template_variables(engine: str) -> None:
    t = compile_template("/users/{id:[0-9]{3}}/{name}", engine=engine)  # type: ignore[arg-type]
    assert t.groups("/users/123/bob") == {"id": "123", "name": "bob"}
    assert t.groups("/users/123/bob/x") is None  # anchored at the end; {name} stops at '/'
    assert t.groups("/users/12/bob") is None
    assert t.groups("/x/users/123/bob") is None  # anchored at the start
    assert not t.search("/users/1234/bob")


@pytest.mark.parametrize("engine", ENGINES)
def test_template_prefix_and_literal_quoting(engine: str) -> None:
    t = compile_template("/css{path:(?:/.*)?}", prefix=True, engine=engine)  # type: ignore[arg-type]
    assert t.groups("/css/site.css") == {"path": "/site.css"}
    assert t.search("/cssx")  # the optional part matches nothing; a prefix of /cssx
    # Literal text is quoted: regexp characters outside braces mean themselves.
    assert compile_template("(example.com", engine=engine).search("(example.com")  # type: ignore[arg-type]
    assert not compile_template("^[A-Z]+\\.com$", engine=engine).search("ABC.com")  # type: ignore[arg-type]
    assert not compile_template("/a.b", engine=engine).search("/axb")  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
def test_host_template(engine: str) -> None:
    t = compile_template("{sub}.example.com", case_insensitive=True, engine=engine)  # type: ignore[arg-type]
    assert t.groups("API.Example.COM") == {"sub": "API"}
    assert not t.search("a.b.example.com")  # a host variable stops at a dot: [^.]+
    dummy = compile_template("{dummy:[a-z-]+\\.bar\\.com}", case_insensitive=True, engine=engine)  # type: ignore[arg-type]
    assert dummy.search("FOO.bar.com")
    # Path templates keep their case and let a variable cross dots.
    path = compile_template("/{file}", engine=engine)  # type: ignore[arg-type]
    assert path.groups("/a.b.c") == {"file": "a.b.c"}
    assert not compile_template("/A", engine=engine).search("/a")  # type: ignore[arg-type]
    explicit = compile_template("{x}.com", host=True, engine=engine)  # type: ignore[arg-type]
    assert not explicit.search("a.b.com")


def test_template_repeated_name_keeps_the_last() -> None:
    assert compile_template("/{v}/{v}").groups("/a/b") == {"v": "b"}


TEMPLATE_ERRORS = [
    ("/a/{id", "unbalanced braces", 3),
    ("/a/id}", "unbalanced braces", 5),
    ("/a/{}", "missing name or pattern", 3),
    ("/a/{:[0-9]+}", "missing name or pattern", 3),
    ("/a/{id:}", "missing name or pattern", 3),
    ("/a/{id:[0-9}", "missing closing ]", 7),
    ("/a/{id:a\\1}", "back-reference", 8),
    ("/a/{id:\\Qx}", "\\Q without \\E", 7),
]


@pytest.mark.parametrize(("template", "words", "position"), TEMPLATE_ERRORS)
def test_template_errors_point_into_the_template(template: str, words: str, position: int) -> None:
    with pytest.raises(RegexError) as info:
        compile_template(template)
    assert words in info.value.message
    assert info.value.position == position


@pytest.mark.parametrize("engine", ENGINES)
def test_capturing_groups_in_a_variable_only_group(engine: str) -> None:
    # Traefik's own v2 tests (matcher_v2_test.go) route these with its gorilla/mux fork.
    host = compile_template(r"{subdomain:(foo\.)?bar\.com}", case_insensitive=True, engine=engine)  # type: ignore[arg-type]
    for name in ("foo.bar.com", "bar.com", "FOO.BAR.COM"):
        assert host.search(name)
    for name in ("fooubar.com", "barucom", "barcom"):
        assert not host.search(name)
    assert host.groups("foo.bar.com") == {"subdomain": "foo.bar.com"}
    path = compile_template("/css{path:(/.*)?}", engine=engine)  # type: ignore[arg-type]
    for hit in ("/css/main.css", "/css/components/component.css", "/css"):
        assert path.search(hit)
    for miss in ("/css.css", "/js/main.js"):
        assert not path.search(miss)
    # Named and nested groups inside a variable do not shift the variables that follow.
    both = compile_template("/{a:(x)(?P<n>y)}/{b}", engine=engine)  # type: ignore[arg-type]
    assert both.groups("/xy/z") == {"a": "xy", "b": "z"}


def test_unsafe_template_is_refused_without_re2() -> None:
    with pytest.raises(RegexError) as info:
        compile_template("/{x:(?:a+)+}/", engine="re")
    assert info.value.position == 4
    assert compile_template("/{x:(?:a+)+}/", engine="re2").search("/aaa/")


# --- properties ---------------------------------------------------------------------------

_ATOMS = [
    "a", "b", "k", "K", "\u212a", "s", "\u017f", ".", "\\d", "\\w", "\\s", "\\W", "\\S",
    "[a-c]", "[^ab]", "[[:alpha:]]", "[[:^digit:]]", "\\b", "^", "$", "\\A", "\\z", "\\pL",
    "\\PL", "\\p{Lu}", "[\\p{Ll}0-9]", "\\x41", "\\x{e9}", "é", "\\n", "\n", "\\.", "-",
    "[k-m]", "\\Qa.b\\E", "_", "1", " ", "[\\d\\s]", "(?i:k)", "\\101",
]  # fmt: skip
_OPS = ["", "", "", "*", "+", "?", "*?", "+?", "??", "{2}", "{1,2}", "{0,}", "{2,3}?"]
_FLAGS = ["", "(?i)", "(?s)", "(?m)", "(?U)", "(?is)", "(?-i)", "(?i-s)"]
_HEADS = ["(", "(?:", "(?i:", "(?P<n>", "(?s:", "(?m:", "(?U:"]


@st.composite
def re2_patterns(draw: st.DrawFn, depth: int = 0) -> str:
    """Patterns built from RE2 constructs whose Python spelling differs."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 9 if depth < 2 else 5))
        if kind <= 5:
            parts.append(draw(st.sampled_from(_ATOMS)) + draw(st.sampled_from(_OPS)))
        elif kind == 6:
            parts.append(draw(st.sampled_from(_FLAGS)))
        else:
            inner = draw(re2_patterns(depth + 1))
            if kind == 8:
                inner += "|" + draw(re2_patterns(depth + 1))
            head = draw(st.sampled_from(_HEADS))
            parts.append(head + inner + ")" + draw(st.sampled_from(_OPS)))
    return "".join(parts)


_TEXTS = st.text(alphabet="abkKsS\u212a\u017féÉAB1 _\n\t.-xZ", max_size=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(re2_patterns(), st.lists(_TEXTS, min_size=1, max_size=5))
def test_translation_agrees_with_re2(pattern: str, texts: list[str]) -> None:
    with_re2 = compile_regexp(pattern, engine="re2")
    try:
        with_re = compile_regexp(pattern, engine="re")
    except RegexError as exc:
        assert "unsafe pattern" in exc.message
        with_re = None
    for text in texts:
        expected = native_search(pattern, text)
        assert with_re2.search(text) is expected
        if with_re is not None:
            assert with_re.search(text) is expected
            assert with_re.groups(text) == with_re2.groups(text)


_SYNTAX = st.sampled_from(
    [
        *"ab()[]{}^$.*+?|\\-:,019PpLdwsbBAzZxQEiUm<>=!_#",
        "[:alpha:]",
        "(?",
        "(?P<",
        "\\p{",
        "\\x{",
        "{2}",
        "{1,3}",
        "\\Q",
        "(?i",
        "[^",
        "é",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=30), st.lists(_SYNTAX, max_size=15).map("".join)))
def test_only_regex_errors_escape(text: str) -> None:
    for engine in ("re", "re2"):
        compilers: list[Callable[[str], Regexp]] = [
            functools.partial(compile_regexp, engine=engine),
            functools.partial(compile_template, engine=engine),
            functools.partial(compile_template, prefix=True, case_insensitive=True, engine=engine),
        ]
        for compile_ in compilers:
            try:
                rx = compile_(text)
            except RegexError as exc:
                assert 0 <= exc.position <= max(len(text), 4096)
            else:
                rx.search(text)
                rx.groups(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SYNTAX, max_size=15).map("".join))
def test_accepts_what_re2_accepts(pattern: str) -> None:
    if "\\C" in pattern:
        return  # C++ RE2 knows \C; Go does not
    if any(d in pattern for d in ("{99999", "{10000")):
        return  # C++ RE2 reads an oversized count as literal text; Go rejects it
    native_ok = re2_native.RE2(pattern.encode(), _OPTIONS).ok()
    try:
        compile_regexp(pattern, engine="re2")
    except RegexError:
        assert not native_ok
    else:
        assert native_ok


_LONG = "a" * 3000  # longer than MAX_FALLBACK_SUBJECT


@pytest.mark.parametrize(
    ("pattern", "text", "bounded"),
    [
        (r"(a\s*)*b", _LONG + "b", True),  # unanchored: retried at every position
        (r"^.*a.*b", _LONG + "b", True),  # anchored, but two repetitions: every split retried
        (r"([a-z0-9-]+\.)*example\.com", "a." * 1500 + "example.com", True),
        (r"^/api/v[0-9]+/x", "/api/v1/x/" + _LONG, False),  # anchored, one repetition: linear
        (r"\.php$", _LONG + ".php", False),  # no unbounded repetition at all
        (r"^/a{2,5}/", "/aaa/" + _LONG, False),
    ],
)
def test_which_fallback_patterns_bound_the_text(pattern: str, text: str, bounded: bool) -> None:
    from routekit.rules._redos import MAX_FALLBACK_SUBJECT

    assert len(text) > MAX_FALLBACK_SUBJECT
    assert compile_regexp(pattern, engine="re2").search(text) is True
    # Over the bound, only the patterns that could cost quadratic time stop matching.
    assert compile_regexp(pattern, engine="re").search(text) is not bounded
