"""The text analysis and query language both search engines share (etl.search and its DuckDB
index, etl.search_index): one analyser turns text and queries into terms (words of letters and
digits, folded to ASCII lower case, Snowball's English stop words dropped, Snowball English
stems), each at its position; a query (words, "quoted phrases", OR, -exclusion) is parsed here,
not by an engine; snippets are cut from the stored text here, as (text, marked) segments with no
markup: each surface escapes them for itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

MAX_QUERY_CHARS = 500
MAX_LIMIT = 1000
MAX_TERM_CHARS = 40  # longer runs are codes or garbage, not words anyone searches for
SNIPPET_WORDS = 24  # terms shown (the stop words between them come too)
SNIPPET_LEAD = 6  # terms shown before the first match
SNIPPET_READ = 800  # characters of a page tokenized first for its snippet (x4 until enough)

# Snowball's English stop words (PostgreSQL's english.stop): common words are no search
STOP_WORDS = frozenset(
    """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
hers herself it its itself they them their theirs themselves what which who whom this that these
those am is are was were be been being have has had having do does did doing a an the and but if or
because as until while of at by for with about against between into through during before after
above below to from up down in out on off over under again further then once here there when where
why how all any both each few more most other some such no nor not only own same so than too very s
t can will just don should now
""".split()
)


class QueryError(ValueError):
    """A query that cannot be searched: the message says why, for the person who typed it."""


# -- the analyser: text -> terms, the same for every engine ----------------------------------
_SPACE = re.compile(r"\s+")
_EDGE_AFTER = re.compile(r"\S*")  # the non-space run a word ends in

Phrase = tuple[tuple[int, str], ...]  # (position from the phrase's first term, term)


@lru_cache(maxsize=1)
def analyzer():
    """tantivy's analyser, run in Rust for both engines: words split at anything not a letter or
    digit, over-long ones dropped, lower case, folded to ASCII (naïve -> naive), words left with
    anything else dropped, stop words dropped, Snowball English stems. A dropped word keeps its
    place, so phrases match across it the same way on both engines."""
    import tantivy

    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TERM_CHARS + 1))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.alphanum_only())
        .filter(tantivy.Filter.custom_stopword(sorted(STOP_WORDS)))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def tokens(text: str) -> list[tuple[int, str, int, int]]:
    """(position, term, start, end) of every term of `text` (start and end: character offsets)."""
    return [(t.position, t.text, t.char_offset_from, t.char_offset_to) for t in analyzer().pre_tokenize(text).tokens]


def terms(text: str) -> list[str]:
    """Every term of `text`, in order."""
    return analyzer().analyze(text)


def tsvector(text: str) -> bytes:
    """`text` as a PostgreSQL tsvector in its binary form (what COPY ... FORMAT BINARY sends),
    each term at the position tantivy gives it, 1-based, at most 16,383, its first 256 positions
    (tsvector's limits).
    A first run writes millions of tokens, so the text is only split in Rust (a word's position
    is its place among the words) and each distinct word is analysed once per process: every
    filter of the analyser reads one word alone, so a word's term never depends on its context
    (this halved the time; tests/test_search.py checks it against the analyser token by token).
    PostgreSQL reads this form several times faster than tsvector text."""
    positions: dict[bytes, list[int]] = {}
    term_of = _TERM_OF.__getitem__
    for position, word in enumerate(_words().analyze(text)):
        term = term_of(word)
        if term is not None:
            at = positions.get(term)
            if at is None:
                positions[term] = [position]
            else:
                at.append(position)
    parts = [len(positions).to_bytes(4, "big")]
    for term, at in positions.items():
        if len(at) > _MOST_POSITIONS or at[-1] >= _LAST_POSITION:  # what PostgreSQL's text form keeps
            at = sorted({min(p, _LAST_POSITION - 1) for p in at})[:_MOST_POSITIONS]
        parts.append(term)
        parts.append(_UINT16[len(at)])
        parts += [_UINT16[p + 1] for p in at]
    return b"".join(parts)


@lru_cache(maxsize=1)
def _words():
    """The analyser's tokenizer alone: every word, none dropped, so a word's index is its position."""
    import tantivy

    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).build()


_LAST_POSITION, _MOST_POSITIONS = 16383, 256
_UINT16 = [n.to_bytes(2, "big") for n in range(_LAST_POSITION + 1)]


class _TermOf(dict):
    """A word -> its term as tsvector's binary form starts it (UTF-8, NUL-terminated), or None
    for a word the analyser drops; each word analysed once (at most a few hundred thousand)."""

    def __missing__(self, word: str) -> bytes | None:
        if len(self) > 1_000_000:  # garbage text: keep memory bounded
            self.clear()
        found = analyzer().analyze(word)
        term = self[word] = found[0].encode() + b"\0" if len(found) == 1 else None
        return term


_TERM_OF = _TermOf()


def _phrase(text: str) -> Phrase:
    found = tokens(text)
    return tuple((position - found[0][0], term) for position, term, _, _ in found)


# -- the query ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """AND over `groups` (each an OR of phrases), none of the `excluded` phrases; a phrase is
    its terms with their positions from its first."""

    groups: tuple[tuple[Phrase, ...], ...]
    excluded: tuple[Phrase, ...] = ()

    def phrases(self) -> list[Phrase]:
        return [p for g in self.groups for p in g]

    def tsquery(self) -> str:
        """The query as PostgreSQL `to_tsquery('simple', ...)` text (terms are [a-z0-9]+)."""

        def phrase(p):
            out = f"'{p[0][1]}'"
            for (before, _), (position, term) in zip(p, p[1:]):
                out += f" <{position - before}> '{term}'"
            return out

        parts = ["(" + " | ".join(f"({phrase(p)})" for p in g) + ")" for g in self.groups]
        parts += [f"!({phrase(p)})" for p in self.excluded]
        return " & ".join(parts)


_QUERY_ITEM = re.compile(r'(-)?(?:"([^"]*)"|([^\s"]+))')


def parse_query(text: str) -> Query:
    """A search box's text -> Query: words (all must appear), "quoted phrases", OR between two
    words or phrases, -word or -"phrase" to exclude. QueryError says what is wrong."""
    if text is None or not text.strip():
        raise QueryError('empty query: type a word or a "quoted phrase" to find')
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: {len(text)} characters (the limit is {MAX_QUERY_CHARS})")
    if text.count('"') % 2:
        raise QueryError('unbalanced quotes: close the "quoted phrase" with a second "')
    groups: list[list[Phrase]] = []
    excluded: list[Phrase] = []
    join_next = False  # the previous item was OR: the next phrase joins the last group
    for m in _QUERY_ITEM.finditer(text):
        negated, quoted, word = m.group(1), m.group(2), m.group(3)
        if word == "OR" and not negated:
            join_next = bool(groups)
            continue
        phrase = _phrase(quoted if quoted is not None else word)
        if not phrase:  # stop words only, or punctuation
            continue
        if negated:
            excluded.append(phrase)
        elif join_next:
            groups[-1].append(phrase)
        else:
            groups.append([phrase])
        join_next = False
    if not groups:
        if excluded:
            raise QueryError("nothing to find: add a word or phrase to look for, not only -exclusions")
        raise QueryError(
            "only common words (such as 'the', 'of', 'and'), which are not searched: add a word that says what to find"
        )
    return Query(tuple(tuple(dict.fromkeys(g)) for g in groups), tuple(dict.fromkeys(excluded)))


# -- snippets ----------------------------------------------------------------------------
Segment = tuple[str, bool]  # (text, marked)


def _run_before(text: str, at: int) -> str:
    """The non-space run of `text` that ends at `at` (what a shown word starts with)."""
    start = at
    while start and not text[start - 1].isspace():
        start -= 1
    return text[start:at]


class _Tokens:
    """A text's tokens as (position, term, start, end), read from tantivy's token objects only
    where asked: a snippet needs every term but the positions and offsets of a few (each read
    costs a Python object; a page has hundreds)."""

    __slots__ = ("raw", "terms")

    def __init__(self, text: str):
        self.raw = analyzer().pre_tokenize(text).tokens
        self.terms = [t.text for t in self.raw]

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, i: int) -> tuple[int, str, int, int]:
        t = self.raw[i]
        return t.position, self.terms[i], t.char_offset_from, t.char_offset_to


def _matches(found: _Tokens, query: Query) -> list[tuple[int, int]]:
    """Token ranges (first, last index into `found`) of every match of the query's phrases, in order."""
    starting: dict[str, list[Phrase]] = {}  # a phrase's first term -> the phrases
    for phrase in query.phrases():
        starting.setdefault(phrase[0][1], []).append(phrase)
    raw, terms, spans = found.raw, found.terms, []
    for i in [i for i, term in enumerate(terms) if term in starting]:
        base = raw[i].position
        for phrase in starting[terms[i]]:
            last = i
            for offset, term in phrase[1:]:  # each next term at its distance, if there
                want, k = base + offset, last + 1
                while k < len(raw) and raw[k].position < want:
                    k += 1
                if k == len(raw) or raw[k].position != want or terms[k] != term:
                    break
                last = k
            else:
                spans.append((i, last))
    return spans


def _tokens_to_show(text: str, query: Query, words: int) -> tuple[_Tokens, list[tuple[int, int]]]:
    """The tokens of the shortest prefix of `text` that decides the snippet, and their matches:
    the first match and the `words` terms from just before it, with room for any phrase to end.
    A prefix cut at a space has exactly the text's first tokens; a hit's match is usually early,
    so most of a page is never tokenized (this was most of a search's time)."""
    reach = max(phrase[-1][0] for phrase in query.phrases())  # positions a phrase spans
    cut = SNIPPET_READ
    while True:
        space = _SPACE.search(text, cut) if cut < len(text) else None
        found = _Tokens(text[: space.start()] if space else text)
        spans = _matches(found, query)
        if space is None:
            return found, spans
        if spans:
            first = spans[0][0]
            end = max(0, first - SNIPPET_LEAD) + words
            if len(found) > end and found[max(first, end - 1)][0] + reach < found[-1][0]:
                return found, spans
        cut *= 4


def snippet(text: str, query: Query, words: int = SNIPPET_WORDS) -> tuple[Segment, ...]:
    """About `words` terms of `text` from just before the first match (the stop words between
    them shown too), each matched phrase marked whole; plain text segments (no markup, not
    escaped)."""
    found, spans = _tokens_to_show(text, query, words)
    if not found:
        return ((" ".join(text.split())[:200], False),) if text.strip() else ()
    start = max(0, (spans[0][0] if spans else 0) - SNIPPET_LEAD)
    end = min(len(found), start + words)  # tokens start .. end - 1 are shown
    marked = [(found[a][2], found[b][3]) for a, b in spans if a >= start and b < end]
    segments: list[list] = []

    def add(piece: str, is_marked: bool) -> None:
        piece = _SPACE.sub(" ", piece)
        if not piece:
            return
        if segments and segments[-1][1] == is_marked:
            segments[-1][0] += piece
        else:
            segments.append([piece, is_marked])

    first = found[start][2] if start else 0  # from the text's start, or its end,
    last = found[end - 1][3] if end < len(found) else len(text)  # when shown to there
    if start > 0:
        add("… ", False)
    add(_run_before(text, first), False)  # punctuation the first word starts with
    cursor = first
    for a, b in marked:
        if a < cursor:  # overlapping matches: one mark
            a = cursor
        add(text[cursor:a], False)
        add(text[a:b], True)
        cursor = max(cursor, b)
    add(text[cursor:last], False)
    add(_EDGE_AFTER.match(text, last).group(), False)  # and the punctuation it ends with
    if end < len(found):
        add(" …", False)
    if segments:
        segments[0][0], segments[-1][0] = segments[0][0].lstrip(), segments[-1][0].rstrip()
    return tuple((s, m) for s, m in segments if s)


def snippet_text(segments: Iterable[Segment], mark: tuple[str, str] = ("«", "»")) -> str:
    """Segments as one line of plain text, matches between `mark`s (terminal, CSV)."""
    return "".join(f"{mark[0]}{s}{mark[1]}" if m else s for s, m in segments)
