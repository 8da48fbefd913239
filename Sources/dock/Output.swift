import ArgumentParser
import Foundation
import SuiteCore
import SuiteStorage

/// `--json`: what every command that prints a result takes.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (snake_case keys) instead of a table.")
    var json = false

    /// Prints `value` as JSON with `--json`; otherwise `text` prints it for people (a line, a table).
    func show(_ value: some Encodable, text: () throws -> Void) throws {
        if json { try printJSON(value) } else { try text() }
    }

    /// Prints a page as JSON with `--json`; otherwise `table` prints its items, followed by the
    /// `--after` that reads the next page.
    func showPage<Item: Encodable>(_ page: Page<Item>, table: ([Item]) -> Void) throws {
        try show(page) {
            table(page.items)
            if let next = page.nextCursor { print("more: --after \(next)") }
        }
    }

    /// ``showPage(_:table:)`` for a plain table: `header`, then one `row` an item.
    func showPage<Item: Encodable>(_ page: Page<Item>, header: [String], row: (Item) -> [String]) throws {
        try showPage(page) { printTable(header, $0.map(row)) }
    }
}

/// Prints `value` in the suite's one JSON configuration (snake_case keys, ISO 8601 UTC), indented.
func printJSON(_ value: some Encodable) throws {
    print(String(decoding: try SuiteJSON.encoder(pretty: true).encode(value), as: UTF8.self))
}

/// A plain text table, columns padded to their widest cell.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in
        ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// A model as a FIELD/VALUE table: its JSON fields in key order, nested values as JSON text.
func printFields(_ value: some Encodable) throws {
    let object = try JSONDecoder().decode([String: JSONValue].self, from: SuiteJSON.encoder().encode(value))
    printTable(["FIELD", "VALUE"], object.keys.sorted().map { [$0.replacingOccurrences(of: "_", with: " "), object[$0]!.plainText] })
}

/// An audit trail as JSON, or as a table: when, event, from, to, who, and the detail or reason.
func printAuditTrail<Status>(_ trail: [AuditEntry<Status>], json: Bool) throws {
    if json { return try printJSON(trail) }
    printTable(["AT", "EVENT", "FROM", "TO", "ACTOR", "DETAIL"], trail.map {
        [isoString($0.at), $0.event, $0.fromStatus?.rawValue ?? "-", $0.toStatus?.rawValue ?? "-", $0.actor, $0.detail ?? $0.reason ?? ""]
    })
}

/// Trend points as JSON, or as a BUCKET/`header` table with bars.
func printTrend(_ points: [TrendPoint], header: String, json: Bool) throws {
    if json { return try printJSON(points) }
    printBars(points, header: ["BUCKET", header, ""])
}

/// Trend points as a table: the bucket, the count and a bar scaled to the largest count.
func printBars(_ points: [TrendPoint], header: [String]) {
    let maximum = points.map(\.count).max() ?? 0
    printTable(header, points.map { [$0.bucket, String($0.count), bar($0.count, of: maximum)] })
}

/// A terminal bar of `value` out of `maximum`, at most `width` cells.
func bar(_ value: Int64, of maximum: Int64, width: Int = 40) -> String {
    guard maximum > 0, value > 0 else { return "" }
    let cells = max(1, Int((Double(value) / Double(maximum) * Double(width)).rounded()))
    return String(repeating: "█", count: cells)
}

/// An instant as ISO 8601 in UTC, e.g. `2026-11-24T17:30:00Z`.
func isoString(_ date: Date) -> String { date.formatted(.iso8601) }

extension JSONValue {
    /// The value as a table cell: strings bare, null as "-".
    var plainText: String {
        switch self {
        case .string(let text): text
        case .null: "-"
        case .int(let n): String(n)
        default: (try? String(decoding: JSONEncoder().encode(self), as: UTF8.self)) ?? "-"
        }
    }
}
