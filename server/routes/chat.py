"""The API router for the chat endpoint (SSE-streamed answers about incidents and runs)."""

from fastapi import APIRouter

router = APIRouter()
