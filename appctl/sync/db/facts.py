"""What reflection learns about a table, as plain slotted records.

The same fields, under the same names, as the contract's ``Table``, ``Column`` and
``Relation`` models (``models.py``), without validation: a database of thousands of tables
is reflected and compiled without building a model per column. ``model()`` gives the
contract's model of a table; ``digest()`` and ``document()`` are its ``model_dump`` (field
names, for the source digest) and its form in schema.json (aliases).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from appctl.contract.models import ColumnKind, Table


@dataclass(slots=True)
class ColumnFacts:
    name: str
    type: str
    kind: ColumnKind
    item_kind: ColumnKind | None
    nullable: bool
    default: str | None
    generated: bool
    computed: bool
    comment: str
    schema_: dict[str, Any]  # shared between columns of one type: never changed in place

    def digest(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "kind": self.kind,
            "item_kind": self.item_kind,
            "nullable": self.nullable,
            "default": self.default,
            "generated": self.generated,
            "computed": self.computed,
            "comment": self.comment,
            "schema_": self.schema_,
        }

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "kind": self.kind}
        if self.item_kind is not None:
            out["item_kind"] = self.item_kind
        out["nullable"] = self.nullable
        if self.default is not None:
            out["default"] = self.default
        out["generated"] = self.generated
        out["computed"] = self.computed
        out["comment"] = self.comment
        out["schema"] = self.schema_
        return out


@dataclass(slots=True)
class RelationFacts:
    columns: list[str]
    target: str
    target_schema: str | None
    target_table: str
    target_columns: list[str]

    def digest(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "target": self.target,
            "target_schema": self.target_schema,
            "target_table": self.target_table,
            "target_columns": self.target_columns,
        }

    def document(self, target: str) -> dict[str, Any]:
        out: dict[str, Any] = {"columns": self.columns, "target": target}
        if self.target_schema is not None:
            out["target_schema"] = self.target_schema
        out["target_table"] = self.target_table
        out["target_columns"] = self.target_columns
        return out


@dataclass(slots=True)
class TableFacts:
    schema_name: str | None
    name: str
    kind: Literal["table", "view"]
    comment: str
    columns: list[ColumnFacts]
    primary_key: list[str]
    unique: list[list[str]]
    relations: list[RelationFacts]

    @classmethod
    def of(
        cls,
        schema: str | None,
        name: str,
        kind: str,
        comment: str,
        columns: list[ColumnFacts],
        primary_key: list[str],
        unique: Sequence[Sequence[str]],
        foreign: Sequence[dict[str, Any]],
    ) -> TableFacts:
        """From what the inspector says of a table: its unique constraints' column lists
        (sorted), and its foreign keys (``referred_schema`` kept only when it is not the
        table's own schema)."""
        return cls(
            schema_name=schema,
            name=name,
            kind="view" if kind == "view" else "table",
            comment=comment,
            columns=columns,
            primary_key=primary_key,
            unique=sorted([list(u) for u in unique if u]),
            relations=[
                RelationFacts(
                    columns=list(fk["constrained_columns"]),
                    target=fk["referred_table"],
                    target_schema=fk.get("referred_schema")
                    if fk.get("referred_schema") != schema
                    else None,
                    target_table=fk["referred_table"],
                    target_columns=list(fk["referred_columns"]),
                )
                for fk in foreign
                if fk.get("referred_table")
            ],
        )

    @property
    def qualified(self) -> str:
        return f"{self.schema_name}.{self.name}" if self.schema_name else self.name

    def column(self, name: str) -> ColumnFacts | None:
        return next((c for c in self.columns if c.name == name), None)

    def digest(self, *, columns: bool = True) -> dict[str, Any]:
        """``Table.model_dump(mode="json")`` of this table (without its columns if told)."""
        out: dict[str, Any] = {
            "schema_name": self.schema_name,
            "name": self.name,
            "kind": self.kind,
            "comment": self.comment,
        }
        if columns:
            out["columns"] = [c.digest() for c in self.columns]
        out["primary_key"] = self.primary_key
        out["unique"] = self.unique
        out["relations"] = [r.digest() for r in self.relations]
        return out

    def document(
        self,
        targets: Sequence[str],
        column_document: Callable[[ColumnFacts], dict[str, Any]] = ColumnFacts.document,
    ) -> dict[str, Any]:
        """The table as schema.json holds it, its relations pointing at ``targets``
        (``column_document``: a column's, e.g. one shared by the columns of a shape)."""
        out: dict[str, Any] = {}
        if self.schema_name is not None:
            out["schema"] = self.schema_name
        out["name"] = self.name
        out["kind"] = self.kind
        out["comment"] = self.comment
        out["columns"] = [column_document(c) for c in self.columns]
        out["primary_key"] = self.primary_key
        out["unique"] = self.unique
        out["relations"] = [r.document(t) for r, t in zip(self.relations, targets, strict=True)]
        return out

    def model(self) -> Table:
        """The contract's model of this table."""
        from appctl.contract.models import Table

        return Table.model_validate(self.digest())
