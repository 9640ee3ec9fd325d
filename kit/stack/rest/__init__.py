"""Placeholder: replaced by the rest service."""
from starlette.applications import Starlette

def build_app(ctx):
    return Starlette()
