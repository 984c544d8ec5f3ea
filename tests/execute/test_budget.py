from appctl.execute.budget import fit, size


def test_small_values_are_untouched() -> None:
    assert fit({"a": 1}, 100) == ({"a": 1}, None)
    assert fit(list(range(1000)), 0)[1] is None  # 0: no budget


def test_the_longest_list_loses_its_tail_with_a_paging_note() -> None:
    rows = [{"id": i, "name": f"row {i}"} for i in range(200)]
    data, note = fit({"has_more": False, "data": rows}, 1000, page_params=["page", "per_page"])
    assert size(data) <= 1000 and data["has_more"] is False
    kept = len(data["data"])
    assert 0 < kept < 200 and data["data"] == rows[:kept]
    assert note == (
        f"showing {kept} of 200 items of 'data' ({200 - kept} left out to fit "
        "1,000 characters); ask for fewer items or the next page (page, per_page)"
    )


def test_a_top_level_list_and_a_long_text() -> None:
    data, note = fit(list(range(10_000)), 500)
    assert size(data) <= 500 and note is not None and "of 10000 items" in note
    text, note = fit("x" * 5000, 100)
    assert text == "x" * 100 and note is not None and "cut to 100 of 5,000 characters" in note
