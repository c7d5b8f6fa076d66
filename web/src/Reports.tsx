// Reports: closed conversations by closing source, category, assignee,
// channel or day over a date range, with first-response and resolution
// times, as a chart and a table (GET /reports/conversations), and the same
// rows as CSV. Every number is the server's; this screen only lays it out.

import { useEffect, useState } from "react";
import { ok, type Api } from "./api";
import type { components } from "./api/schema";
import { saveFile } from "./download";

type Report = components["schemas"]["ConversationReport"];
type Row = components["schemas"]["ReportRow"];
type GroupBy = "closing_source" | "category" | "assignee" | "channel" | "day";

const GROUPINGS: { value: GroupBy; label: string; none: string }[] = [
  { value: "closing_source", label: "Closing source", none: "" },
  { value: "category", label: "Category", none: "No category" },
  { value: "assignee", label: "Assignee", none: "Unassigned" },
  { value: "channel", label: "Channel", none: "No channel" },
  { value: "day", label: "Day", none: "" },
];

const SOURCES: Record<string, string> = { manual: "Manual", auto_close: "Auto-close" };

/** `YYYY-MM-DD` of a UTC day. */
function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A duration as people read it; an em dash when there is none. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

export function ReportsScreen({ api, names }: { api: Api; names: Record<string, string> }) {
  const [from, setFrom] = useState(() => utcDay(Date.now() - 29 * 86_400_000));
  const [to, setTo] = useState(() => utcDay(Date.now()));
  const [groupBy, setGroupBy] = useState<GroupBy>("closing_source");
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const grouping = GROUPINGS.find((g) => g.value === groupBy) ?? GROUPINGS[0];

  useEffect(() => {
    let gone = false;
    api
      .GET("/reports/conversations", { params: { query: { from, to, group_by: groupBy } } })
      .then((r) => {
        if (gone) return;
        setReport(ok(r));
        setError(null);
      })
      .catch((e: unknown) => {
        if (gone) return;
        setReport(null);
        setError(e instanceof Error ? e.message : String(e));
      });
    return () => {
      gone = true;
    };
  }, [api, from, to, groupBy]);

  const label = (key: string): string => {
    if (groupBy === "closing_source") return SOURCES[key] ?? key;
    if (key === "none" && grouping.none) return grouping.none;
    if (groupBy === "assignee" || groupBy === "channel") return names[key] ?? key;
    return key;
  };

  const downloadCsv = async () => {
    try {
      const r = await api.GET("/reports/conversations.csv", {
        params: { query: { from, to, group_by: groupBy } },
        parseAs: "blob",
      });
      saveFile(ok(r) as Blob, `conversations-by-${groupBy}-${from}-${to}.csv`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const rows: Row[] = report?.items ?? [];
  const most = Math.max(1, ...rows.map((r) => r.closed));
  return (
    <div className="reports">
      <h1>Reports</h1>
      <form className="report-range" onSubmit={(e) => e.preventDefault()} aria-label="Report range">
        <label>
          From
          <input type="date" value={from} max={to} onChange={(e) => e.target.value && setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} min={from} onChange={(e) => e.target.value && setTo(e.target.value)} />
        </label>
        <label>
          Group by
          <select value={groupBy} onChange={(e) => setGroupBy(e.target.value as GroupBy)}>
            {GROUPINGS.map((g) => (
              <option key={g.value} value={g.value}>
                {g.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void downloadCsv()}>
          Download CSV
        </button>
      </form>
      {error && <p role="alert">{error}</p>}
      {report && (
        <>
          <p className="muted">
            {report.totals.closed} closed conversations, each counted once by its last close in the range (days in UTC).
          </p>
          <figure className="report-chart">
            <figcaption>Closed conversations by {grouping.label.toLowerCase()}</figcaption>
            <ul aria-label={`Closed conversations by ${grouping.label.toLowerCase()}`}>
              {rows.map((r) => (
                <li key={r.key}>
                  <span className="bar-label">{label(r.key)}</span>
                  <span className="bar" style={{ width: `${(100 * r.closed) / most}%` }} aria-hidden="true" />
                  <span className="bar-value">{r.closed}</span>
                </li>
              ))}
            </ul>
          </figure>
          <div className="table-scroll">
            <table>
              <caption>Conversations closed from {from} to {to}</caption>
              <thead>
                <tr>
                  <th scope="col">{grouping.label}</th>
                  <th scope="col">Closed</th>
                  <th scope="col">First response p50</th>
                  <th scope="col">First response p90</th>
                  <th scope="col">Resolution p50</th>
                  <th scope="col">Resolution p90</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <ReportLine key={r.key} name={label(r.key)} row={r} />
                ))}
              </tbody>
              <tfoot>
                <ReportLine name="Total" row={report.totals} />
              </tfoot>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

function ReportLine({ name, row }: { name: string; row: Row }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td>{row.closed}</td>
      <td>{duration(row.first_response_seconds.p50)}</td>
      <td>{duration(row.first_response_seconds.p90)}</td>
      <td>{duration(row.resolution_seconds.p50)}</td>
      <td>{duration(row.resolution_seconds.p90)}</td>
    </tr>
  );
}
