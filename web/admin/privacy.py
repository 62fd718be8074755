"""The privacy page (GDPR): the identifier catalogue, erasure of a contact, access requests."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import PrivacyOfficer
from api.deps import DbSession
from surveys import privacy
from surveys.errors import DomainError
from web.forms import FormErrors, FormText, clean_text, render, request_id

router = APIRouter(prefix="/admin", include_in_schema=False)


def _privacy_page(
    request: Request,
    *,
    errors: FormErrors | None = None,
    form: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/privacy.html",
        {
            "catalogue": privacy.identifier_catalogue(),
            "errors": errors or {},
            "form": form or {"contact_id": "", "email": ""},
            "message": message,
        },
        status=status,
    )


@router.get("/privacy", response_class=HTMLResponse)
def privacy_page(request: Request, actor: PrivacyOfficer) -> HTMLResponse:
    """The identifier catalogue, erasure of a contact and the access-request export."""
    return _privacy_page(request)


@router.post("/privacy/erase", response_class=HTMLResponse)
def erase_contact(
    request: Request, session: DbSession, actor: PrivacyOfficer, contact_id: FormText = ""
) -> HTMLResponse:
    """Erase a contact's personal fields; the audit event names the fields, never the values."""
    text = clean_text(contact_id, 12).strip()
    form = {"contact_id": text, "email": ""}
    if not text.isdigit() or not 0 < int(text) < 2**31:
        errors = {"contact_id": ["Enter the contact's number, e.g. 42."]}
        return _privacy_page(request, errors=errors, form=form, status=422)
    try:
        contact, _ = privacy.erase_contact(
            session, actor, int(text), request_id=request_id(request)
        )
    except DomainError as exc:
        errors = {"contact_id": [exc.detail]}
        return _privacy_page(request, errors=errors, form=form, status=422)
    return _privacy_page(request, message=f"Contact {contact.id} was erased.")


@router.post("/privacy/access", response_class=HTMLResponse)
def access_request(
    request: Request, session: DbSession, actor: PrivacyOfficer, email: FormText = ""
) -> Response:
    """Download everything held about one e-mail address, as JSON (GDPR Art. 15)."""
    address = clean_text(email, 254).strip().lower()
    if "@" not in address or len(address) < 3:
        errors = {"email": ["Enter the e-mail address the request is about."]}
        form = {"contact_id": "", "email": address}
        return _privacy_page(request, errors=errors, form=form, status=422)
    document = privacy.answer_access_request(
        session, actor, address, request_id=request_id(request)
    )
    body = json.dumps(document, ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="access-request.json"',
            "Cache-Control": "no-store",
        },
    )
