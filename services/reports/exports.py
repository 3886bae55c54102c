"""A report document as a PDF: the same facts as its JSON reply (`ReportPublic`), laid out by
`shared.pdf`. Nothing else is read, so the PDF can say no more than the JSON does: in
particular no date of the cycle's schedule (the unannounced assessment date lives in the
cycles service and never reaches this one); the only date printed is the release date."""

from __future__ import annotations

from services.reports.schemas import DocumentKind, FindingPublic, ReportPublic
from shared.pdf import Column, Section, Sheet, Table

__all__ = ["KIND_TITLES", "filename", "report_sheet"]

KIND_TITLES = {
    DocumentKind.ASSESSMENT: "Assessment report",
    DocumentKind.PROGRESS_REPORT_1: "Progress report 1",
    DocumentKind.PROGRESS_REPORT_2: "Progress report 2",
    DocumentKind.ADVISORY_LOG: "Advisory log entry",
}

FINDING_COLUMNS = (
    Column("Cluster", 3.0),
    Column("Question", 5.2),
    Column("Publicly reported", 1.6),
    Column("Compliant", 1.6),
    Column("Detail", 4.6),
)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _findings(findings: list[FindingPublic]) -> list[Section]:
    if not findings:
        return [Section("Findings", ("No findings were recorded.",))]
    failing = sum(not finding.compliant for finding in findings)
    summary = (
        f"{len(findings)} questions assessed, {failing} non-compliant "
        f"({sum(f.publicly_reported and not f.compliant for f in findings)} of them publicly "
        "reported)."
    )
    rows = [
        (
            finding.cluster,
            finding.question,
            _yes_no(finding.publicly_reported),
            _yes_no(finding.compliant),
            finding.detail or "",
        )
        for finding in findings
    ]
    return [Section("Findings", (summary,), Table(FINDING_COLUMNS, rows))]


def report_sheet(report: ReportPublic, *, factory_name: str, country: str) -> Sheet:
    kind = KIND_TITLES[report.kind]
    released = report.released_at
    fields = [
        ("Factory", factory_name),
        ("Factory id", report.factory_id),
        ("Country", country),
        ("Cycle", str(report.cycle)),
        ("Document", kind),
        ("Released", released.date().isoformat() if released else "not released (draft)"),
        ("Report id", report.id),
    ]
    sections: list[Section] = []
    if report.body:
        sections.append(Section("Report", (report.body,)))
    if report.findings is not None:
        sections.extend(_findings(report.findings))
    return Sheet(
        title=report.title,
        kind=f"Better Work · {kind}",
        fields=fields,
        sections=sections,
        footer=f"{factory_name} · cycle {report.cycle} · {kind.lower()} {report.id}",
        # The document's own last change: a released document never changes again.
        dated=released or report.updated_at,
    )


def filename(report: ReportPublic) -> str:
    return f"{report.factory_id}-cycle-{report.cycle}-{report.kind.value}-{report.id}.pdf"
