"""Fixed reads: one hand-written SELECT joining several tables, its rows built into model
instances as the ORM builds them.

For the busiest requests only (the vote, the club page, the session page), where
building and compiling an ORM query costs more than the database takes to answer it.
`Join` names the models, the alias each has in the SQL and, where not all are needed, the
fields to read; its `columns()` go into the SELECT and `instances(row)` turn each row
back into models, with the same conversions from database values the ORM applies
(SQLite's dates arrive as text).
A model whose primary key is NULL in the row (a LEFT JOIN that found nothing) is None.
"""

import functools

from django.db import connection


class Join:
    def __init__(self, *parts):
        """parts: (model, alias) or (model, alias, field attnames), in SELECT order."""
        self.parts = [(part[0], part[1], part[2] if len(part) > 2 else None) for part in parts]

    def _fields(self, model, names) -> list:
        return [f for f in model._meta.concrete_fields if names is None or f.attname in names]

    def columns(self) -> str:
        return ", ".join(
            f'{alias}."{field.column}"'
            for model, alias, names in self.parts
            for field in self._fields(model, names)
        )

    @functools.cached_property
    def _readers(self) -> list[tuple]:
        readers = []
        for model, _, names in self.parts:
            fields = self._fields(model, names)
            converters = []
            for field in fields:
                column = field.get_col(model._meta.db_table)
                found = connection.ops.get_db_converters(column)
                converters.append((found + field.get_db_converters(connection), column))
            pk_index = next(i for i, f in enumerate(fields) if f.primary_key)
            readers.append((model, [f.attname for f in fields], converters, pk_index))
        return readers

    def instances(self, row) -> tuple:
        """The models of one row (its first columns, as `columns()` listed them), in order."""
        built, start = [], 0
        for model, names, converters, pk_index in self._readers:
            values = row[start : start + len(names)]
            start += len(names)
            if values[pk_index] is None:
                built.append(None)
                continue
            converted = []
            for value, (functions, column) in zip(values, converters, strict=True):
                for convert in functions:
                    value = convert(value, column, connection)
                converted.append(value)
            built.append(model.from_db(connection.alias, names, converted))
        return tuple(built)


def fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
