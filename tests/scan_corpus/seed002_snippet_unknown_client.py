"""seeds/002's broken snippet exactly as printed: nothing in it says where self.supabase comes
from, so only the naming heuristic can flag it, at low confidence."""


class AdCreationService:
    async def download_image(self, storage_path: str) -> bytes:  # expect: none
        # Parse bucket and path
        parts = storage_path.split("/", 1)
        bucket = parts[0]
        path = parts[1] if len(parts) > 1 else storage_path

        # ❌ SYNC CALL IN ASYNC METHOD - RACE CONDITION!
        data = self.supabase.storage.from_(bucket).download(path)  # expect: KIT102:low
        return data
