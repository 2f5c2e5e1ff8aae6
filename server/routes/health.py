"""The API router for liveness, readiness and Prometheus metrics."""

from fastapi import APIRouter

router = APIRouter()
