"""A tiny app on Supabase: ad images in Storage, ad titles in a table (see ../README.md)."""
