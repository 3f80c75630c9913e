"""What a browser without JavaScript would submit from a form on a rendered page.

A select with no option marked `selected` submits its first option; a test
that posts hand-written data never sees that, a test that posts this does.
"""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.values: dict[str, str] = {}
        self.selected: dict[str, list[str]] = {}
        self._select: tuple[str, list[str]] | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "input":
            self._input(attrs)
        elif tag == "select":
            self._select = (attrs["name"], [])
            self.selected[attrs["name"]] = []
        elif tag == "option" and self._select is not None:
            name, options = self._select
            options.append(attrs["value"])
            if "selected" in attrs:
                self.selected[name].append(attrs["value"])
        elif tag == "textarea":
            self._textarea = (attrs["name"], [])

    def _input(self, attrs: dict) -> None:
        kind = attrs.get("type", "text")
        if kind in ("submit", "button", "reset") or "name" not in attrs:
            return
        if kind in ("checkbox", "radio") and "checked" not in attrs:
            return
        self.values[attrs["name"]] = attrs.get("value") or ("on" if kind == "checkbox" else "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            name, options = self._select
            chosen = self.selected[name] or options[:1]
            self.values[name] = chosen[0] if chosen else ""
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            # Browsers drop the newline that follows <textarea>, as Django writes it.
            self.values[name] = "".join(parts).removeprefix("\r\n").removeprefix("\n")
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)


def read_form(html: str, form_id: str) -> _FormReader:
    reader = _FormReader(form_id)
    reader.feed(html)
    reader.close()
    return reader


def submitted(html: str, form_id: str) -> dict[str, str]:
    """The name → value pairs a browser would post from the form with that id."""
    return read_form(html, form_id).values


def selected_options(html: str, form_id: str, name: str) -> list[str]:
    """The options of a select that the page marks as selected."""
    return read_form(html, form_id).selected.get(name, [])
