"""The JSON API, version 1."""

from fastapi import APIRouter

from api.v1 import campaigns, centres, evidence, exports, forms, grants, indicators, responses

router = APIRouter(prefix="/api/v1")
router.include_router(centres.router)
router.include_router(forms.router)
router.include_router(exports.router)
router.include_router(campaigns.router)
router.include_router(grants.router)
router.include_router(responses.router)
router.include_router(indicators.router)
router.include_router(evidence.router)
