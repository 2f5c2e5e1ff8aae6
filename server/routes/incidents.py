"""The API router for incidents: list and detail."""

from fastapi import APIRouter

router = APIRouter()
