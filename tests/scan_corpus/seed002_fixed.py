# expect: none
"""seeds/002 "THE FIX": asyncio.to_thread around the sync storage calls."""

import base64
import os

from supabase import Client, create_client


class AdCreationService:
    def __init__(self) -> None:
        self.supabase: Client = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])

    async def download_image(self, storage_path: str) -> bytes:
        """
        Download image from Supabase Storage.
        """
        import asyncio

        # Parse bucket and path
        parts = storage_path.split("/", 1)
        bucket = parts[0]
        path = parts[1] if len(parts) > 1 else storage_path

        # ✅ Run sync Supabase call in thread pool to avoid blocking event loop
        data = await asyncio.to_thread(
            lambda: self.supabase.storage.from_(bucket).download(path)
        )
        return data

    async def upload_reference_ad(self, storage_path: str, image_data: bytes) -> str:
        import asyncio

        await asyncio.to_thread(self.supabase.storage.from_("reference-ads").upload, storage_path, image_data)
        return f"reference-ads/{storage_path}"

    async def get_image_as_base64(self, storage_path: str) -> str:
        image_data = await self.download_image(storage_path)
        return base64.b64encode(image_data).decode('utf-8')
