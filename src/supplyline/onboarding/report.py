"""What an import tells its user: how many records it created, or every row it refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from supplyline.kernel.errors import FieldError


@dataclass(frozen=True, order=True)
class RowError:
    """One refused value, named the way the file names it so the user can find and fix it.

    ``row`` is 1-based within the section for JSON and the line number for CSV; 0 means the
    problem is with the section or the file as a whole. ``field`` is the column or key the file
    uses (``site``, not ``site_id``), with a dotted path into nested objects.
    """

    section: str
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        parts = [p for p in (self.section, where, self.field) if p]
        return f"{', '.join(parts)}: {self.reason}"

    def as_field_error(self, *, zero_based: bool = False) -> FieldError:
        """The API's form: a path into the JSON body such as ``assets.17.site``."""
        index = self.row - 1 if zero_based and self.row else self.row
        path = [self.section, str(index) if self.row else "", self.field]
        return FieldError(".".join(p for p in path if p) or "body", self.reason)


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors
