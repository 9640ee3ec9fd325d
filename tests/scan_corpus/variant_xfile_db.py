# expect: none
"""A helper module: clients made here are used by variant_xfile_service.py."""

import os

from supabase import acreate_client, create_client


def get_db():
    return create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])


async def get_async_db():
    return await acreate_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])


shared = get_db()
