"""The API router for runs: trigger, list, detail, trace, approve/reject."""

from fastapi import APIRouter

router = APIRouter()
