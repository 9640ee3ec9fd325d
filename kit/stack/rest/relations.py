"""Resolve ``select=*,author:users(name)`` embeds to the foreign key that joins them (pure).

    resolve_embeds(schema, posts, (Embed("users", alias="author"),))
    → [ResolvedEmbed(embed, to_many=False, foreign_key=posts_author_id_fkey, target=users)]

Lookup order, as in PostgREST: a table related by a foreign key (in either direction),
then a foreign-key column or constraint name of the base table. ``!hint`` picks among several
foreign keys by constraint name or column. None → 400 PGRST200, several → 300 PGRST201.
"""

from __future__ import annotations

from kit.stack.rest.grammar import Embed
from kit.stack.rest.problems import RestProblem
from kit.stack.rest.schema_cache import ForeignKey, Schema, Table
from kit.stack.rest.sql_builder import ResolvedEmbed


def resolve_embeds(schema: Schema, base: Table, embeds: tuple[Embed, ...]) -> list[ResolvedEmbed]:
    return [resolve_embed(schema, base, embed) for embed in embeds]


def resolve_embed(schema: Schema, base: Table, embed: Embed) -> ResolvedEmbed:
    candidates: list[tuple[bool, ForeignKey, Table]] = []
    other = schema.table(base.schema, embed.name)
    if other is not None:
        for kind, fk in schema.relations_between(base, other):
            candidates.append((kind == "to_many", fk, other))
    else:
        for fk in schema.foreign_keys:
            target = schema.tables.get(fk.target)
            if fk.table == base.key and target and embed.name in (fk.name, *fk.columns[:1]):
                candidates.append((False, fk, target))
            child = schema.tables.get(fk.table)
            if fk.target == base.key and child and embed.name == fk.name:
                candidates.append((True, fk, child))
    if embed.hint:
        candidates = [c for c in candidates if embed.hint == c[1].name or (embed.hint,) == c[1].columns]
        if len(candidates) == 2 and candidates[0][1] == candidates[1][1]:  # self-reference: the parent
            candidates = [c for c in candidates if not c[0]]
    if not candidates:
        raise RestProblem(400, "PGRST200", f"Could not find a relationship between '{base.name}' and "
                          f"'{embed.name}' in the schema cache",
                          f"Searched for a foreign key relationship between '{base.name}' and "
                          f"'{embed.name}'" + (f" using the hint '{embed.hint}'" if embed.hint else "")
                          + f" in the schema '{base.schema}', but no matches were found.",
                          "the kit stack embeds one level through foreign keys (no many-to-many)")
    if len(candidates) > 1:
        options = ", ".join(f"'{embed.name}!{fk.name}'" for _, fk, _ in candidates)
        raise RestProblem(300, "PGRST201", f"Could not embed because more than one relationship was "
                          f"found for '{base.name}' and '{embed.name}'",
                          [{"relationship": f"{fk.name} using {'.'.join(fk.table)}"
                            f"({', '.join(fk.columns)})"} for _, fk, _ in candidates],
                          f"Try changing '{embed.name}' to one of the following: {options}. Find the "
                          "desired relationship in the 'details' key.")
    to_many, fk, target = candidates[0]
    return ResolvedEmbed(embed, to_many, fk, target)
