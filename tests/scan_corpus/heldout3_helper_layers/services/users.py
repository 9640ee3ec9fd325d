"""A subclass and a module function two calls above the SDK."""
# expect: none

from .base import BaseRepo


class UserRepo(BaseRepo):
    table = "users"

    def rename(self, key: str, name: str) -> None:
        user = self.get(key)
        user["name"] = name
        self.put(user)


users = UserRepo()


def rename_user(key: str, name: str) -> None:
    users.rename(key, name)
