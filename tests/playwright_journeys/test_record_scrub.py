"""What the recorder does to a HAR before it is written: secrets out, multipart parts back in."""

from __future__ import annotations

from dvcwatch.core.credentials import Secret
from playwright_journeys.record import fill_multipart, scrub, split_assets

PASSWORD = "Tk@a1b2 c3&d"


def _entry(
    url: str, text: str, ctype: str = "application/x-www-form-urlencoded", method: str = "POST"
) -> dict:
    return {
        "startedDateTime": "2026-11-30T01:00:00.000Z",
        "request": {
            "method": method,
            "url": url,
            "headers": [{"name": "Content-Type", "value": ctype}],
            "postData": {"mimeType": ctype, "text": text} if text else None,
        },
        "response": {"status": 200, "headers": [], "content": {"mimeType": "text/html", "text": ""}},
    }


def test_the_password_in_every_spelling_and_the_otp_as_a_token_become_references():
    har = {
        "log": {
            "entries": [
                _entry("http://p/login", "user=0011&password=Tk%40a1b2+c3%26d"),
                _entry("http://p/api", '{"password": "Tk@a1b2 c3&d"}', "application/json"),
                _entry("http://p/otp", "otp=123456&cccd=001123456789"),
            ]
        }
    }
    out = scrub(har, Secret(PASSWORD), ["123456"])
    texts = [e["request"]["postData"]["text"] for e in out["log"]["entries"]]
    assert texts[0] == "user=0011&password=${secret.password}"
    assert texts[1] == '{"password": "${secret.password}"}'
    assert texts[2] == "otp=${otp}&cccd=001123456789", "a code inside a longer number stays"


def test_multipart_parts_come_back_as_har_params_without_the_file_bytes():
    boundary = "----WebKitFormBoundaryX"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="ma_nhap"\r\n\r\nDRAFT1\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="tep"; filename="t\xe1\xbb\x9d.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n%PDF-1.4 abc\r\n--{boundary}--\r\n"
    )
    entry = _entry("http://p/api/tai-lieu", "", f"multipart/form-data; boundary={boundary}")
    har = {"log": {"entries": [entry]}}
    fill_multipart(har, [("POST", "http://p/other", body), ("POST", "http://p/api/tai-lieu", body)])
    params = har["log"]["entries"][0]["request"]["postData"]["params"]
    assert params == [
        {"name": "ma_nhap", "value": "DRAFT1"},
        {"name": "tep", "fileName": "tờ.pdf", "contentType": "application/pdf", "_size": 12},
    ]


def test_assets_are_kept_apart():
    page = _entry("http://p/", "", method="GET")
    css = _entry("http://p/static/site.css", "", method="GET")
    css["response"]["content"]["mimeType"] = "text/css"
    pages, assets = split_assets({"log": {"entries": [page, css]}})
    assert [e["request"]["url"] for e in pages["log"]["entries"]] == ["http://p/"]
    assert [e["request"]["url"] for e in assets["log"]["entries"]] == ["http://p/static/site.css"]
