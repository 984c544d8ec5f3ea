"""Condense prose for a model: links to their text, markup and boilerplate out, length capped.

Pure string functions; nothing here knows about formats or the contract.
"""

from __future__ import annotations

import html
import json
import re
import textwrap
from functools import lru_cache

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_BOILERPLATE = re.compile(
    r"(?:^|(?<=[.!?]))\s*(?:For more (?:information|details)|See also|To learn more|"
    r"Learn more)\b(?:[^.!?]|[.!?](?=[^\s\"]))*(?:[.!?]\"?(?=\s|$)|$)",
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


# ---------------------------------------------------------------------------------------
# Whole descriptions, condensed: the same meaning in fewer tokens.
#
# Only what carries no meaning for a model is removed: link targets (the words stay), HTML
# tags, emphasis markers, blank lines and indentation, reference-link definitions, and
# sentences that only point elsewhere ("For more information, see ..."). Every other
# sentence is kept, list items stay one per line, a table keeps its cells, and a code
# block keeps its first lines (JSON made compact: the same value, fewer characters).

CODE_LINES = 8  # lines of a code block kept; "…" marks the rest
CODE_CHARS = 400  # characters of a JSON example kept (made compact first); "…" marks the rest
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*$")
_ITEM = re.compile(r"^([-*+]|\d{1,3}[.)])\s+(.*)$")
_RULE = re.compile(r"^(?:[-*_]\s*){3,}$")
_TABLE_RULE = re.compile(r"^\|?[\s:|-]+\|[\s:|-]*$")
_REF_DEF = re.compile(r"^\[[^\]]+\]:\s*\S+")
_ALERT = re.compile(r"^\[!(\w+)\]\s*(.*)$")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^<>\s]+)>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)")
_HELD = re.compile("\ue000(\\d+)\ue001")  # a code span, set aside while the prose is cleaned
_EM = re.compile(r"(?<![\w*`])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
# HTML elements by name, so a placeholder such as "<owner>" in prose is kept as written
_HTML_TAG = re.compile(
    r"</?(?:a|abbr|b|big|cite|code|del|dfn|em|font|i|img|ins|kbd|mark|q|s|samp|small|span|"
    r"strike|strong|sub|sup|tt|u|var|hr|details|summary|dl|dt|dd|thead|tbody|tfoot|td|th|"
    r"caption|center|section|article|header|footer|nav|figure|figcaption|wbr)\b[^<>]*>",
    re.IGNORECASE,
)
_BLOCK_TAG = re.compile(r"</?(?:p|div|ul|ol|table|tr|h[1-6]|pre|blockquote)\b[^<>]*>", re.I)
_ITEM_TAG = re.compile(r"<li\b[^<>]*>(?:\s*<p\b[^<>]*>)?", re.IGNORECASE)
_ITEM_END = re.compile(r"(?:</p>\s*)?</li>", re.IGNORECASE)
_ASIDE_TAG = re.compile(r"<(note|important|warning|tip)>(?:\s*<p\b[^<>]*>)?", re.IGNORECASE)
_ASIDE_END = re.compile(r"</(?:note|important|warning|tip)>", re.IGNORECASE)
_CODE_TAG = re.compile(r"</?code\b[^<>]*>", re.IGNORECASE)
_CELL_TAG = re.compile(r"</t[dh]>[ \t]*<t[dh]\b[^<>]*>", re.IGNORECASE)
_CLAUSE_POINTER = re.compile(
    r"[;,]\s*(?:for more (?:information|details)|see also)\b(?:[^.!?]|[.!?](?=[^\s\"]))*"
    r"(?=[.!?]\"?(?:\s|$))",
    re.IGNORECASE,
)


def _html_blocks(text: str) -> str:
    """HTML structure as markdown: paragraphs and breaks as blank lines, items as "- ",
    table cells as " | ", code as backticks; other tags are dropped by ``_inline``."""
    text = _BREAK.sub("\n", text)
    text = _ASIDE_TAG.sub(lambda m: f"\n\n[!{m.group(1)}] ", text)  # AWS: <note>, ...
    text = _ASIDE_END.sub("\n\n", text)
    text = _ITEM_TAG.sub("\n- ", text)
    text = _ITEM_END.sub("\n", text)
    text = _BLOCK_TAG.sub("\n\n", text)
    text = _CELL_TAG.sub(" | ", text)
    return _CODE_TAG.sub("`", text)


def _inline(text: str) -> str:
    """One line of markdown/HTML → plain text: links keep their words, code spans stay as
    written (``__init__`` and ``**kwargs`` are not emphasis)."""
    if "`" not in text:
        return _prose(text)
    held: list[str] = []

    def hold(match: re.Match[str]) -> str:
        held.append(match.group(0))
        return f"\ue000{len(held) - 1}\ue001"

    cleaned = _prose(_CODE_SPAN.sub(hold, text))
    return _HELD.sub(lambda m: held[int(m.group(1))], cleaned) if held else cleaned


def _prose(text: str) -> str:
    if "<" in text:
        text = _AUTOLINK.sub(r"\1", text)
        text = _BREAK.sub(" ", text)
        text = _HTML_TAG.sub("", text)  # inline tags (<a>, <em>...): their words stay
    if "](" in text or "][" in text:
        text = _IMAGE.sub("", text)
        text = _LINK.sub(_first_group, text)
        text = _REF_LINK.sub(_first_group, text)
    text = _SPACES.sub(" ", text).strip()
    if "*" in text or "__" in text:
        text = _STRONG.sub(lambda m: m.group(1) or m.group(2), text)
        text = _EM.sub(r"\1", text)
    if "&" in text:
        text = html.unescape(text)
    if _may_hold_boilerplate(text):
        text = _CLAUSE_POINTER.sub("", text)
        text = drop_boilerplate(text)
        if _BOILERPLATE.fullmatch(text):
            return ""
    return text


def _code(lines: list[str]) -> str:
    """A fenced code block, compactly: JSON on one line (cut after CODE_CHARS), other code
    dedented, cut after CODE_LINES lines."""
    body = textwrap.dedent("\n".join(lines)).strip("\n")
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if isinstance(value, dict | list):
        compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return "`" + clip(compact, CODE_CHARS) + "`"
    kept = [line.rstrip() for line in body.split("\n") if line.strip()]
    if not kept:
        return ""
    if len(kept) == 1:
        return "`" + kept[0].strip() + "`"
    if len(kept) > CODE_LINES:
        kept = [*kept[:CODE_LINES], "…"]
    return "```\n" + "\n".join(kept) + "\n```"


class _Blocks:
    """Collects the condensed lines of a markdown document."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.para: list[str] = []
        self.label = ""  # "Note: " from a GitHub alert, put before the next line

    def flush(self) -> None:
        if self.para:
            self.add(_inline(" ".join(self.para)))
            self.para = []

    def add(self, line: str) -> None:
        if line:
            self.lines.append(self.label + line)
            self.label = ""

    def text(self) -> str:
        self.flush()
        return "\n".join(self.lines)


def _table_row(line: str) -> str:
    cells = [_inline(c) for c in line.strip().strip("|").split("|")]
    return " | ".join(c for c in cells)


@lru_cache(maxsize=65536)
def condense_markdown(text: str) -> str:
    """A description's whole meaning in fewer characters: one line per paragraph, list
    item, table row or heading; see the comment above for what is removed."""
    if not text or not text.strip():
        return ""
    out = _Blocks()
    if "<" in text and (
        _HTML_TAG.search(text) or _BLOCK_TAG.search(text) or _ITEM_TAG.search(text)
    ):
        text = _html_blocks(text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        while line.startswith(">"):
            line = line[1:].strip()
        i += 1
        fence = _FENCE.match(line)
        if fence and fence.group(1) not in line[fence.end() :]:  # not ```one line```
            out.flush()
            code: list[str] = []
            while i < len(lines) and not lines[i].strip().startswith(fence.group(1)):
                code.append(lines[i])
                i += 1
            i += 1
            out.add(_code(code))
        else:
            _line(out, line)
    return out.text()


_MARKS = frozenset("#-*+_[|0123456789")  # how every line that is not plain prose begins


def _line(out: _Blocks, line: str) -> None:
    if line and line[0] not in _MARKS and "|" not in line:
        out.para.append(line)  # prose: none of the patterns below can match
        return
    alert = _ALERT.match(line)
    if alert:
        out.flush()
        out.label = alert.group(1).capitalize() + ": "
        line = alert.group(2)
    heading = _HEADING.match(line)
    item = _ITEM.match(line)
    if not line or _RULE.match(line) or _REF_DEF.match(line):
        out.flush()
    elif heading:
        out.flush()
        words = _inline(heading.group(1)).rstrip(":")
        out.add(words + ":" if words else "")
    elif line.startswith("|") or (line.count("|") >= 2 and _TABLE_RULE.match(line)):
        out.flush()
        if not _TABLE_RULE.match(line):
            out.add(_table_row(line))
    elif item:
        out.flush()
        marker = item.group(1) if item.group(1)[0].isdigit() else "-"
        out.para = [f"{marker} {item.group(2)}"]
    else:
        out.para.append(line)


def covers(sentence: str, summary: str) -> bool:
    """Whether a sentence already says every word of a summary (so the summary adds
    nothing: "List flows" is covered by "Lists flows matching the filter.")."""
    words = {w for w in _stems(summary) if len(w) > 1}  # "user's" also yields "s"
    return bool(words) and words <= _stems(sentence)


def full_description(summary: str, description: str) -> str:
    """The summary and the whole description, condensed; the summary is left out only when
    the description's first sentence already says all of its words."""
    head = drop_boilerplate(plain(summary)).rstrip(".").strip()
    body = condense_markdown(description) if description else ""
    if body:
        line, _, rest = body.partition("\n")
        first = sentences(line)
        if head and first and covers(first[0], head):
            head = ""  # the description's first sentence already says the summary
        elif head and first and covers(head, first[0]):
            # the first sentence only restates the summary ("Stops a user's codespace.")
            line = " ".join(first[1:])
            body = "\n".join(filter(None, [line, rest]))
        if head:
            joint = "\n" if not line or body.startswith(("- ", "`", "1.")) else " "
            body = head + "." + (joint + body if body else "")
    else:
        body = head + "." if head else ""
    return body[:1].upper() + body[1:]


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in a visible "…" when anything was cut (at a
    word boundary when one is near)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = max(head.rfind(" "), head.rfind("\n"))
    if space >= limit * 0.8:
        head = head[:space]
    return head.rstrip(" ,;:\n") + "…"
