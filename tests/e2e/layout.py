"""Checks of a page's layout that several browser tests share."""


def page_and_window_widths(page) -> tuple[int, int]:
    return tuple(page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]"))


def assert_no_horizontal_overflow(page) -> None:
    scroll, inner = page_and_window_widths(page)
    assert scroll <= inner, f"page {scroll} px wide in a {inner} px window"
