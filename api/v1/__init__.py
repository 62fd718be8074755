"""The JSON API, version 1."""

from fastapi import APIRouter

from api.v1 import centres, forms

router = APIRouter(prefix="/api/v1")
router.include_router(centres.router)
router.include_router(forms.router)
