"""Placeholder: replaced by the storage service."""
from starlette.applications import Starlette

def build_app(ctx):
    return Starlette()
