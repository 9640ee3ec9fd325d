"""Settings object holding the client."""
# expect: none

from supabase import create_client


class _Settings:
    def __init__(self) -> None:
        self.supabase = create_client("http://localhost", "key")


settings = _Settings()
