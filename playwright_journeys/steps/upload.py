"""Attach the scanned documents the service asks for (small valid PDF/JPG/PNG files)."""

from __future__ import annotations

from dvcwatch.formdata import sample_file
from playwright_journeys.outcome import StepFailure
from playwright_journeys.session import Journey
from playwright_journeys.steps import step


@step("upload")
async def upload(j: Journey) -> None:
    await j.expect("upload_submit", "the documents page")
    attached = 0
    for doc in j.service.documents:
        if not await j.present("upload", document=doc.id):
            if doc.required:
                raise StepFailure(f"no place to attach {doc.name_vi}", seen=await j.seen_text())
            continue
        name, ctype, data = sample_file(doc.id, list(doc.types))
        await j.loc("upload", document=doc.id).set_input_files(
            files=[{"name": name, "mimeType": ctype, "buffer": data}], timeout=j.remaining_ms()
        )
        attached += 1
    await j.click_and_wait("upload_submit")
    for doc in j.service.documents:
        if await j.present("upload_error", document=doc.id):
            raise StepFailure(
                f"the portal refused {doc.name_vi}", seen=await j.seen_text("upload_error", document=doc.id)
            )
    await j.expect_any(["submit_button", "pay_button", "payment_offline"], "the review page")
    j.detail = f"{attached} document(s) attached"
