"""Quart app creating a client inside handlers and helpers."""

from quart import Quart, jsonify
from supabase import acreate_client

app = Quart(__name__)


async def db():
    return await acreate_client("http://localhost", "key")  # expect: KIT110


@app.route("/posts")
async def posts():
    client = await db()
    result = await client.table("posts").select("*").execute()
    return jsonify(result.data)


@app.route("/authors")
async def authors():
    client = await acreate_client("http://localhost", "key")  # expect: KIT110
    result = await client.table("authors").select("*").execute()
    return jsonify(result.data)


@app.before_serving
async def startup():
    app.supabase = await acreate_client("http://localhost", "key")  # expect: none
