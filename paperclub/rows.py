"""Fixed reads: one hand-written SELECT joining several tables, its rows built into model
instances as the ORM builds them.

For the busiest requests only (the vote, the club page, the session and poll pages), where
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
    """The rows of one of these fixed reads (`sql`, its %s placeholders bound to `params`).

    On PostgreSQL it runs as a prepared statement of the connection, planned once: Django's
    own cursors bind values into the SQL text, so the database plans each statement anew,
    and planning these joins takes longer than running them. The statement still goes
    through Django's cursor wrapper, so query logging, `execute_wrapper` and the tests'
    query counts see it as any other.
    """
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _cursor():
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = _prepared_cursor_class()(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


@functools.cache
def _prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """Values bound by the server, the statement prepared on its first run (psycopg
        keeps the connection's prepared statements, by SQL text and parameter types)."""

        def execute(self, query, params=None, **kwargs):
            return super().execute(query, params, prepare=True, **kwargs)

    return PreparedCursor
