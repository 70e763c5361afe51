"""Attach the scanned documents the service asks for (small valid PDF/JPG/PNG files).

On the sandbox the files go with an "upload" button. Many real portals upload each file by script
the moment it is chosen and show it in a list under the field (`upload_done`, with `{filename}`):
the step then waits for that entry, and an error entry (`upload_error`) fails the step at once.

Production sends no file unless the profile says so (`journey.production_uploads: true`): on a portal
that uploads on choose, choosing a file is already sending it to someone else's servers. By default
the step checks the documents page is there, chooses nothing, and the journey stops (`checked_to:
upload`, verdict `not_filed`), saying why.
"""

from __future__ import annotations

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.formdata import sample_file
from dvcwatch.core.profile import Profile
from playwright_journeys.journey import Journey
from playwright_journeys.outcome import LookOnlyStop, StepFailure
from playwright_journeys.steps.kind import JourneyStep, have


async def upload(j: Journey) -> None:
    on_choose = not j.has("upload_submit")
    if not on_choose:
        await j.expect("upload_submit", "the documents page")
    if j.look_only and not j.profile.journey.production_uploads:
        await _documents_page_is_there(j)
        raise LookOnlyStop(
            "the documents page is there; no file chosen or sent (production: "
            "journey.production_uploads is false)"
        )
    attached = 0
    for doc in j.service.documents:
        shown_as = j.profile.document_name(j.service.id, doc)
        if shown_as is None:  # the profile says this portal does not ask for it
            continue
        where = {"document": doc.id, "document_name": shown_as}
        if not await j.present("upload", **where):
            if doc.required:
                raise StepFailure(
                    f"no place to attach {shown_as} ({j.describe('upload', **where)})",
                    seen=await j.seen_text(),
                    selector=j.describe("upload", **where),
                )
            continue
        name, ctype, data = sample_file(doc.id, list(doc.types))
        await j.loc("upload", **where).set_input_files(
            files=[{"name": name, "mimeType": ctype, "buffer": data}], timeout=j.remaining_ms()
        )
        attached += 1
        if attached == 1:
            j.resolved.append((j.step_name, j.describe("upload", **where)))
        if on_choose and j.has("upload_done"):
            shown = await j.expect_any_of(
                [("upload_done", {**where, "filename": name}), ("upload_error", {**where, "filename": name})],
                f"{name} in the list of uploaded files",
            )
            if shown == "upload_error":
                raise StepFailure(
                    f"the portal refused {shown_as}",
                    seen=await j.seen_text("upload_error", **where, filename=name),
                )
    if not on_choose:
        await j.click_and_wait("upload_submit")
        for doc in j.service.documents:
            shown_as = j.profile.document_name(j.service.id, doc) or doc.name_vi
            if await j.present("upload_error", document=doc.id, document_name=shown_as):
                raise StepFailure(
                    f"the portal refused {shown_as}",
                    seen=await j.seen_text("upload_error", document=doc.id, document_name=shown_as),
                )
    await j.expect_any(["submit_button", "pay_button", "payment_offline"], "the review page")
    j.detail = f"{attached} document(s) attached"


async def _documents_page_is_there(j: Journey) -> None:
    """Production without uploads: the first document the portal asks for has its place (the page is
    the documents page, and its selector is proved), and nothing is chosen."""
    for doc in j.service.documents:
        shown_as = j.profile.document_name(j.service.id, doc)
        if shown_as is None:
            continue
        where = {"document": doc.id, "document_name": shown_as}
        await j.expect("upload", f"the place to attach {shown_as}", **where)
        return


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    documents = any(profile.document_name(service.id, d) is not None for d in service.documents)
    done = "upload_submit" if profile.selectors.has("upload_submit") else "upload_done"
    return (have(profile, "upload") if documents else []) + have(profile, done)


STEP = JourneyStep("upload", upload, needs=needs)
