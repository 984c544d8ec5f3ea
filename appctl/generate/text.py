"""Condense prose for a model: links to their text, markup and boilerplate out, length capped.

Pure string functions; nothing here knows about formats or the contract.
"""

from __future__ import annotations

import re
from functools import lru_cache

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_BOILERPLATE = re.compile(
    r"(?:^|(?<=[.!?]))\s*(?:For more (?:information|details)|See also|To learn more|"
    r"Learn more)\b[^.!?]*(?:[.!?]\"?|$)",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_SENTENCE = re.compile(r".+?(?:[.!?]+(?=\s|$)|$)", re.DOTALL)


def _first_group(match: re.Match[str]) -> str:
    return match.group(1)


@lru_cache(maxsize=65536)
def plain(text: str) -> str:
    """Markdown/HTML → one line of plain text (links keep their words)."""
    if "](" in text or "][" in text:
        text = _IMAGE.sub("", text)
        text = _LINK.sub(_first_group, text)
        text = _REF_LINK.sub(_first_group, text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if text.isascii() and text.isprintable() and "  " not in text:
        return text.strip()  # its only whitespace is single spaces: nothing to squeeze
    return _SPACES.sub(" ", text).strip()


def first_paragraph(text: str) -> str:
    blocks = re.split(r"\n\s*\n", text.strip()) if "\n" in text else [text.strip()]
    for block in blocks:
        if block.strip() and not block.lstrip().startswith(("#", "|", "```", "> **Note", ">")):
            return block
    return ""


def _may_hold_boilerplate(text: str) -> bool:
    """False only when _BOILERPLATE cannot match: every phrase it drops holds "more" or
    "also", in any case (where re's IGNORECASE also lets "ſ" stand for "s")."""
    low = text.lower()
    return "more" in low or "also" in low.replace("\u017f", "s")


@lru_cache(maxsize=65536)
def drop_boilerplate(text: str) -> str:
    trimmed = (_BOILERPLATE.sub("", text) if _may_hold_boilerplate(text) else text).strip()
    return trimmed or text


def cap(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a sentence end when one is near, else a word."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] >= limit // 2:
        return head[: ends[-1]]
    cut = head.rsplit(" ", 1)[0] if " " in head else head
    return cut.rstrip(",;:") + "…"


def condense(text: str, limit: int) -> str:
    return cap(drop_boilerplate(plain(text)), limit)


def brief(text: str, *, soft: int, hard: int) -> str:
    """Whole sentences up to ``soft`` characters (at least one, cut at ``hard``)."""
    text = drop_boilerplate(plain(text))
    if len(text) <= soft:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    fitting = [e for e in ends if e <= soft]
    if fitting:
        return text[: fitting[-1]]
    return cap(text, hard)


_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=65536)
def _stems(text: str) -> frozenset[str]:
    return frozenset([w.rstrip("s") for w in _WORD.findall(text.lower())])


def novel(sentence: str, known: frozenset[str] | set[str]) -> bool:
    """Whether most of a sentence's words are not already said."""
    words = _stems(sentence)
    return bool(words) and len(words - known) / len(words) > 0.5


@lru_cache(maxsize=65536)
def sentences(text: str) -> tuple[str, ...]:
    return tuple(filter(None, [m.group(0).strip() for m in _SENTENCE.finditer(text)]))


def tool_description(summary: str, description: str, *, limit: int) -> str:
    """The summary, then those sentences of the description's first paragraph that add to it."""
    head = plain(summary).rstrip(".")
    body = drop_boilerplate(plain(first_paragraph(description))) if description else ""
    known = _stems(head)
    kept = [head + "."] if head else []
    for sentence in sentences(body):
        if novel(sentence, known):
            kept.append(sentence)
            known |= _stems(sentence)
    text = brief(" ".join(kept), soft=limit, hard=limit)
    return text[:1].upper() + text[1:]


# an article before a word of two or more letters ("A B node" keeps its article)
_ARTICLE = re.compile(r"^(?:The|A|An) (?=[A-Za-z`][A-Za-z`])")


def terse(text: str) -> str:
    """A noun-phrase style for argument descriptions: no leading article, and no final period
    on a single sentence ("The name of the branch." → "Name of the branch")."""
    text = _ARTICLE.sub("", text)
    if text.endswith(".") and len(sentences(text)) == 1 and not text.endswith(".."):
        text = text[:-1]
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=65536)
def humanize(name: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")
    return _SPACES.sub(" ", words).strip().capitalize()
