"""Templates: `${name}` filled, `$${` literal, URL values quoted only where they are data."""

from __future__ import annotations

from dvcwatch.core.flows.model import Extract
from dvcwatch.core.flows.pages import AnswerView
from dvcwatch.core.flows.templates import escape_literal, render, url_encode

VALUES = {"base": "http://h:1", "citizen.full_name": "Nguyễn Văn A", "code": "HS/1?x=2", "t": "abc"}


def test_names_are_filled_and_escaped_dollars_stay():
    text = escape_literal("price ${x} ") + "${t}-${t}"
    assert render(text, VALUES.__getitem__) == "price ${x} abc-abc"
    assert render("no names", VALUES.__getitem__) == "no names"


def test_urls_quote_identity_values_but_not_extracted_url_text():
    url = render("${base}/tim?q=${citizen.full_name}&c=${code}", VALUES.__getitem__, encode=url_encode)
    assert url == "http://h:1/tim?q=Nguy%E1%BB%85n%20V%C4%83n%20A&c=HS/1?x=2"


def test_a_relative_location_is_read_as_the_whole_url_it_leads_to():
    rule = Extract(name="next", source="header", expr="Location")
    for loc, whole in [
        ("/b?c=1", "http://h:1/b?c=1"),
        ("d", "http://h:1/a/d"),
        ("https://idp/x", "https://idp/x"),
        ("//cdn/y", "http://cdn/y"),
    ]:
        assert AnswerView(302, {"Location": loc}, b"", "http://h:1/a/b").extract(rule) == whole
