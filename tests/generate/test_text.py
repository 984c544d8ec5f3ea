"""The prose helpers' shortcuts (no regular expression where it could change nothing) give
exactly what the regular expressions give."""

from __future__ import annotations

import re

import pytest

from appctl.generate import text

SAMPLES = [
    "",
    " ",
    "plain words",
    "  padded  ",
    "two  spaces",
    "tab\there",
    "line\nbreak",
    "para one.\n\npara two.",
    "\n\n# heading\n\nbody",
    "no-break\u00a0space",
    "em\u2003space",
    "file\x1cseparator",
    "For more information, see the docs. Lists pets.",
    "Lists pets. See also: owners.",
    "Lists pets. see ALSO owners",
    "Lists pets. ſee alſo owners",
    "Lists pets. To learn more, read on.",
    "Lists pets. LEARN MORE here",
    "Rows of table t, 50 at a time; returns rows, has_more and how to get the next page.",
    "Learn more",
    "a [link](http://x) and <b>bold</b>",
    "Ünïcode, with a Kelvin \u212a and more",
]


def _plain(value: str) -> str:
    if "](" in value or "][" in value:
        value = text._IMAGE.sub("", value)
        value = text._LINK.sub(text._first_group, value)
        value = text._REF_LINK.sub(text._first_group, value)
    if "<" in value:
        value = text._TAG.sub(" ", value)
    return text._SPACES.sub(" ", value).strip()


@pytest.mark.parametrize("sample", SAMPLES)
def test_shortcuts_change_nothing(sample: str) -> None:
    assert text.plain(sample) == _plain(sample)
    expected = text._BOILERPLATE.sub("", sample).strip() or sample
    assert text.drop_boilerplate(sample) == expected
    blocks = re.split(r"\n\s*\n", sample.strip())
    first = next(
        (
            b
            for b in blocks
            if b.strip() and not b.lstrip().startswith(("#", "|", "```", "> **Note", ">"))
        ),
        "",
    )
    assert text.first_paragraph(sample) == first
    sentences = tuple(
        m.group(0).strip() for m in text._SENTENCE.finditer(sample) if m.group(0).strip()
    )
    assert text.sentences(sample) == sentences


@pytest.mark.parametrize(
    "sample",
    ["list_pets", "listPets", "a__b", "_a", "a_", "x9_y", "ab-c", "ÄBC", "a_b_c_1", "get_ab_"],
)
def test_snake_case_shortcut_changes_nothing(sample: str) -> None:
    from appctl.contract import names

    value = names._CAMEL_1.sub(names._split_pair, sample)
    value = names._CAMEL_2.sub(names._split_pair, value)
    expected = names._NON_WORD.sub("_", value).strip("_").lower()
    assert names.snake_case(sample) == expected
