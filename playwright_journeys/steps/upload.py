"""Attach the scanned documents the service asks for (small valid PDF/JPG/PNG files).

On the sandbox the files go with an "upload" button. Many real portals upload each file by script
the moment it is chosen and show it in a list under the field (`upload_done`, with `{filename}`):
the step then waits for that entry, and an error entry (`upload_error`) fails the step at once.

Documents only this portal asks for (`forms.<service>.extra_documents`) are attached after the
catalog's, generated the same way: by their name in `selectors.upload`, or by their own selector.

Production sends no file unless the profile says so (`journey.production_uploads: true`): on a portal
that uploads on choose, choosing a file is already sending it to someone else's servers. By default
the step checks the documents page is there, chooses nothing, and the journey stops (`checked_to:
upload`, verdict `not_filed`), saying why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dvcwatch.core.catalog.models import Service
from dvcwatch.core.formdata import sample_file
from dvcwatch.core.profile import Profile, Sel, describe_selector
from playwright_journeys.journey import Journey
from playwright_journeys.outcome import LookOnlyStop, StepFailure
from playwright_journeys.steps.kind import JourneyStep, have

if TYPE_CHECKING:
    from playwright.async_api import Locator


@dataclass(frozen=True)
class Slot:
    """One document to attach: a catalog document under the portal's name, or a portal-only one."""

    id: str
    shown_as: str
    required: bool
    types: list[str]
    size_kb: int | None = None
    selector: Sel = None  # a portal-only document's own selector, instead of selectors.upload

    @property
    def where(self) -> dict[str, str]:
        return {"document": self.id, "document_name": self.shown_as}


def slots(profile: Profile, service: Service) -> list[Slot]:
    """The catalog's documents the portal asks for (by its names), then its portal-only ones."""
    out = []
    for doc in service.documents:
        shown_as = profile.document_name(service.id, doc)
        if shown_as is not None:  # None: the profile says this portal does not ask for it
            out.append(Slot(doc.id, shown_as, doc.required, list(doc.types)))
    for slug, x in profile.form_for(service.id).extra_documents.items():
        shown_as = x.name or describe_selector(x.selector)
        out.append(Slot(slug, shown_as, x.required, [x.file_type], x.size_kb, x.selector))
    return out


def _box(j: Journey, slot: Slot) -> Locator:
    return j.locate(slot.selector).first if slot.selector is not None else j.loc("upload", **slot.where)


def _described(j: Journey, slot: Slot) -> str:
    if slot.selector is not None:
        return f"forms.{j.service.id}.extra_documents.{slot.id}: {describe_selector(slot.selector)}"
    return j.describe("upload", **slot.where)


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
    wanted = slots(j.profile, j.service)
    for slot in wanted:
        if not await _box(j, slot).count():
            if slot.required:
                raise StepFailure(
                    f"no place to attach {slot.shown_as} ({_described(j, slot)})",
                    seen=await j.seen_text(),
                    selector=_described(j, slot),
                )
            continue
        name, ctype, data = sample_file(slot.id, slot.types, size_kb=slot.size_kb)
        chosen_at = time.monotonic()
        await _box(j, slot).set_input_files(
            files=[{"name": name, "mimeType": ctype, "buffer": data}], timeout=j.remaining_ms()
        )
        attached += 1
        j.handed_over = True  # the portal may judge each file as it arrives
        if attached == 1:
            j.resolved.append((j.step_name, _described(j, slot)))
        if on_choose and j.has("upload_done"):
            await _shown_in_the_list(j, slot, name, chosen_at)
    if not on_choose:
        await j.click_and_wait("upload_submit")
        if await j.present("upload_submit"):  # the documents page came back: what did it refuse?
            await j.check_refusal()
        for slot in wanted:
            if await j.present("upload_error", **slot.where):
                raise StepFailure(
                    f"the portal refused {slot.shown_as}",
                    seen=await j.seen_text("upload_error", **slot.where),
                )
    await j.expect_any(["submit_button", "pay_button", "payment_offline"], "the review page")
    j.detail = f"{attached} document(s) attached"


async def _shown_in_the_list(j: Journey, slot: Slot, name: str, chosen_at: float) -> None:
    """A portal that uploads on choose lists the file once its server took it; an upload that never
    comes back is the portal not answering, whatever the list's selectors say."""
    where = {**slot.where, "filename": name}
    try:
        shown = await j.expect_any_of(
            [("upload_done", where), ("upload_error", where)], f"{name} in the list of uploaded files"
        )
    except StepFailure:
        if j.unanswered_since(chosen_at):
            await j.stop_loading()
            raise j.no_answer() from None
        raise
    if shown == "upload_error":
        raise StepFailure(
            f"the portal refused {slot.shown_as}", seen=await j.seen_text("upload_error", **where)
        )


async def _documents_page_is_there(j: Journey) -> None:
    """Production without uploads: the first document the portal asks for has its place (the page is
    the documents page, and its selector is proved), and nothing is chosen."""
    for slot in slots(j.profile, j.service):
        if slot.selector is None:
            await j.expect("upload", f"the place to attach {slot.shown_as}", **slot.where)
            return


def needs(profile: Profile, service: Service) -> list[tuple[str, ...]]:
    documents = any(s.selector is None for s in slots(profile, service))
    done = "upload_submit" if profile.selectors.has("upload_submit") else "upload_done"
    return (have(profile, "upload") if documents else []) + have(profile, done)


STEP = JourneyStep("upload", upload, needs=needs)
