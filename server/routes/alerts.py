"""The API router for the Alertmanager webhook intake."""

from fastapi import APIRouter

router = APIRouter()
