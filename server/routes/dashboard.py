"""The API router for the server-rendered HTMX dashboard."""

from fastapi import APIRouter

router = APIRouter()
