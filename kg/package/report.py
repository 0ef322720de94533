"""The validation report (样例数据审核报告): every problem with file, row, field, in Chinese and English."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Severity(str, Enum):
    VIOLATION = "violation"  # the package is refused
    WARNING = "warning"  # accepted, but a recommended field is missing or doubtful


@dataclass(frozen=True)
class Problem:
    severity: Severity
    code: str
    file: str
    message_zh: str
    message_en: str
    row: int | None = None  # 1-based line of the record in the file (the header is line 1)
    field: str | None = None
    value: str | None = None
    column: int | None = None  # character column, for decoding errors

    def to_json(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if v is not None}
        d["severity"] = self.severity.value
        return d

    def where(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts)


@dataclass
class Report:
    package: str
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not any(p.severity is Severity.VIOLATION for p in self.problems)

    @property
    def violations(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.VIOLATION]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def add(self, severity: Severity, code: str, file: str, zh: str, en: str, **where) -> None:
        self.problems.append(Problem(severity, code, file, zh, en, **where))

    def violation(self, code: str, file: str, zh: str, en: str, **where) -> None:
        self.add(Severity.VIOLATION, code, file, zh, en, **where)

    def warning(self, code: str, file: str, zh: str, en: str, **where) -> None:
        self.add(Severity.WARNING, code, file, zh, en, **where)

    def to_json(self) -> dict:
        return {
            "package": self.package,
            "valid": self.valid,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "counts": self.counts,
            "problems": [p.to_json() for p in self.problems],
        }

    def to_text(self) -> str:
        lines = []
        for p in self.problems:
            tag = "违规 VIOLATION" if p.severity is Severity.VIOLATION else "警告 WARNING"
            value = f" [{p.value}]" if p.value is not None else ""
            lines.append(f"{tag} {p.code} ({p.where()}){value}\n    {p.message_zh}\n    {p.message_en}")
        verdict = "通过 VALID" if self.valid else "不通过 INVALID"
        lines.append(f"{verdict}: {self.package}: {len(self.violations)} violation(s), {len(self.warnings)} warning(s); "
                     + ", ".join(f"{k} {v}" for k, v in self.counts.items()))
        return "\n".join(lines)
