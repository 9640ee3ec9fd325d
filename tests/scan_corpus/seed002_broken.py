"""seeds/002: viraltracker/services/ad_creation_service.py, lines 150-236, as broken."""

import base64
import os

from supabase import create_client


class AdCreationService:
    def __init__(self):
        self.supabase = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])

    async def upload_reference_ad(self, ad_run_id: str, image_data: bytes, filename: str) -> str:  # expect: none
        storage_path = f"{ad_run_id}_{filename}"
        self.supabase.storage.from_("reference-ads").upload(storage_path, image_data)  # expect: KIT102
        return f"reference-ads/{storage_path}"

    async def upload_generated_ad(self, ad_run_id: str, prompt_index: int, image_data: bytes) -> str:  # expect: none
        storage_path = f"{ad_run_id}/{prompt_index}.png"
        self.supabase.storage.from_("generated-ads").upload(storage_path, image_data)  # expect: KIT102
        return f"generated-ads/{storage_path}"

    async def download_image(self, storage_path: str) -> bytes:  # expect: none
        """
        Download image from Supabase Storage.

        Args:
            storage_path: Full storage path (e.g., "products/{id}/main.png")

        Returns:
            Binary image data
        """
        # Parse bucket and path
        parts = storage_path.split("/", 1)
        bucket = parts[0]
        path = parts[1] if len(parts) > 1 else storage_path

        # ❌ SYNC CALL IN ASYNC METHOD - RACE CONDITION!
        data = self.supabase.storage.from_(bucket).download(path)  # expect: KIT102
        return data

    async def get_image_as_base64(self, storage_path: str) -> str:
        """
        Download image and convert to base64 string.
        """
        # ❌ Awaits broken async method
        image_data = await self.download_image(storage_path)  # expect: none
        return base64.b64encode(image_data).decode('utf-8')
