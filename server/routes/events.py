"""The API router for SSE streams of a run's trace and of all runs."""

from fastapi import APIRouter

router = APIRouter()
