import Ally
import ArgumentParser
import Client
import Foundation
import Logging
import Suite
import SuitePostgres
import SuiteSQLite
import SuiteCore
import SuiteStorage

/// Where the database is, and the Client configuration file.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite file path or postgres:// URL (default: $DOCK_DATABASE_URL or ./dock.sqlite).")
    var database: String?

    @Option(name: .long, help: "JSON configuration file, e.g. {\"client\": {\"default_status\": \"active\"}}. CLIENT_* environment variables win over it.")
    var config: String?

    var location: String {
        database ?? ProcessInfo.processInfo.environment["DOCK_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "./dock.sqlite"
    }

    /// Opens the database alone, for `dock install` and `dock status`. Driver logs stay quiet
    /// below errors, so stderr carries only our one-line error.
    func open() throws -> any SuiteStorage.Database {
        try SuiteDatabase.open(location, drivers: drivers, logger: quietLogger())
    }

    /// Opens the suite over the database, with every module installed there; a command asks it
    /// for the modules it needs (`try suite.clients`), and one not installed is a one-line error
    /// that names the `dock install` to run.
    func openSuite(clock: any WallClock = SystemWallClock()) async throws -> ClientSuite {
        let configuration = ClientSuite.Configuration(client: try await ClientConfiguration.load(file: config), clock: clock,
                                                      logger: quietLogger())
        return try await ClientSuite.open(location, drivers: drivers, install: false, configuration: configuration)
    }
}

/// The engines `dock` opens: SQLite files and PostgreSQL URLs.
let drivers: [any DatabaseDriver] = [.sqlite, .postgres]

struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (snake_case keys) instead of a table.")
    var json = false
}

/// Runs a command body: any failure becomes one clear line on stderr and a non-zero exit.
func runReporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        let text = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data("error: \(text)\n".utf8))
        throw ExitCode.failure
    }
}

/// Runs `body` with the suite over the database (see ``DatabaseOptions/openSuite(clock:)``), closing it afterwards.
func withSuite(_ options: DatabaseOptions, clock: any WallClock = SystemWallClock(),
               _ body: (ClientSuite) async throws -> Void) async throws {
    try await runReporting {
        let suite = try await options.openSuite(clock: clock)
        do {
            try await body(suite)
            try await suite.close()
        } catch {
            try? await suite.close()
            throw error
        }
    }
}

/// Prints `value` in the suite's one JSON configuration (snake_case keys, ISO 8601 UTC), indented.
func printJSON(_ value: some Encodable) throws {
    print(String(decoding: try SuiteJSON.encoder(pretty: true).encode(value), as: UTF8.self))
}

/// A model printed with fields of the command's beside its own (a reseller and its balance).
struct Merged<Base: Encodable, Extra: Encodable>: Encodable {
    var base: Base
    var extra: Extra

    init(_ base: Base, _ extra: Extra) {
        self.base = base
        self.extra = extra
    }

    func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        try extra.encode(to: encoder)
    }
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

/// A terminal bar of `value` out of `maximum`, at most `width` cells.
func bar(_ value: Int64, of maximum: Int64, width: Int = 40) -> String {
    guard maximum > 0, value > 0 else { return "" }
    let cells = max(1, Int((Double(value) / Double(maximum) * Double(width)).rounded()))
    return String(repeating: "█", count: cells)
}

func parseDate(_ text: String, _ name: String) throws -> CivilDate {
    guard let date = CivilDate(parsing: text) else {
        throw ValidationError("--\(name) must be a date like 2026-01-31")
    }
    return date
}

/// An instant as ISO 8601 in UTC, e.g. `2026-11-24T17:30:00Z`.
func isoString(_ date: Date) -> String { date.formatted(.iso8601) }

func printClients(_ clients: [Client]) {
    printTable(["REFID", "NAME", "EMAIL", "STATUS", "RESELLER", "CREATED"], clients.map {
        [$0.refid.rawValue, String($0.name.prefix(40)), $0.email, $0.status.rawValue, $0.reseller?.rawValue ?? "-",
         isoString($0.createdAt)]
    })
}

func printClient(_ client: Client) {
    let metadata = client.metadata.isEmpty ? "{}" : client.metadata.jsonText()
    printTable(["FIELD", "VALUE"], [
        ["refid", client.refid.rawValue], ["name", client.name], ["email", client.email],
        ["phone", client.phone ?? "-"], ["status", client.status.rawValue], ["reseller", client.reseller?.rawValue ?? "-"],
        ["user", client.userID ?? "-"], ["metadata", metadata],
        ["secret metadata", client.hasSecretMetadata ? "stored (encrypted)" : "-"],
        ["created", isoString(client.createdAt)], ["updated", isoString(client.updatedAt)],
    ])
}

/// Parses `key=value` metadata flags. Values that parse as JSON (numbers, true/false, null,
/// arrays, objects, quoted strings) keep their type; anything else is a string.
func parseMetadata(_ pairs: [String], option: String = "metadata") throws -> Metadata {
    var metadata: Metadata = [:]
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw ValidationError("--\(option) expects key=value, got \"\(pair.prefix(40))\"")
        }
        let key = String(pair[..<equals])
        let raw = String(pair[pair.index(after: equals)...])
        if let value = try? JSONDecoder().decode(JSONValue.self, from: Data(raw.utf8)) {
            metadata[key] = value
        } else {
            metadata[key] = .string(raw)
        }
    }
    return metadata
}

/// A logger for drivers that stays quiet below errors, so stderr carries only our one-line error.
func quietLogger() -> Logger {
    var logger = Logger(label: "dock")
    logger.logLevel = .error
    return logger
}

extension Cursor: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
