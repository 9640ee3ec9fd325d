"""Sync storage helpers of helper_bot.py; the client comes from a factory function."""
# expect: none

from supabase import create_client


def _client():
    return create_client("http://localhost", "key")


db = _client()


def _insert(table: str, row: dict) -> None:
    db.table(table).insert(row).execute()


def remember(chat_id: int, text: str) -> None:
    _insert("messages", {"chat_id": chat_id, "text": text})


def history(chat_id: int) -> list:
    return db.table("messages").select("text").eq("chat_id", chat_id).execute().data


def format_reply(rows: list) -> str:
    return "\n".join(r["text"] for r in rows)
