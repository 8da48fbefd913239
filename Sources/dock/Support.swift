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
    /// `install: true` installs (or upgrades) every module first, as `dock demo` does.
    /// Checkout URLs point to `<public URL>/checkout/`: `publicURL`, else `$DOCK_PUBLIC_URL` (where
    /// `dock serve` is reached), else the local gateway's placeholder `http://localhost/checkout/`.
    func openSuite(clock: any WallClock = SystemWallClock(), install: Bool = false, publicURL: URL? = nil) async throws -> ClientSuite {
        var configuration = ClientSuite.Configuration(client: try await ClientConfiguration.load(file: config), clock: clock,
                                                      logger: quietLogger())
        if let base = publicURL ?? ProcessInfo.processInfo.environment["DOCK_PUBLIC_URL"].flatMap({ $0.isEmpty ? nil : URL(string: $0) }) {
            configuration.checkoutBaseURL = base.appending(path: "checkout/")
        }
        return try await ClientSuite.open(location, drivers: drivers, install: install, configuration: configuration)
    }
}

/// The engines `dock` opens: SQLite files and PostgreSQL URLs.
let drivers: [any DatabaseDriver] = [.sqlite, .postgres]

/// `--limit` and `--after`: which page of a list to print.
struct PageOptions: ParsableArguments {
    @Option(help: "Page size, 1…500.") var limit = 50
    @Option(help: "Cursor printed by the previous page.") var after: Cursor?
}

/// `--from` and `--to`, both required: the days a trend or a comparison covers.
struct DayRange: ParsableArguments {
    @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String
    @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String

    /// The two days; the error names the option that is not a date.
    func days() throws -> (start: CivilDate, end: CivilDate) {
        (try parseDate(from, "from"), try parseDate(to, "to"))
    }
}

/// `--from` and `--to`, each optional: the days a report is limited to (all time without them).
struct OptionalDayRange: ParsableArguments {
    @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String?
    @Option(help: "Last day, YYYY-MM-DD (UTC), inclusive.") var to: String?

    /// The days given; the error names the option that is not a date.
    func days() throws -> (start: CivilDate?, end: CivilDate?) {
        (try from.map { try parseDate($0, "from") }, try to.map { try parseDate($0, "to") })
    }
}

/// `--daily`, `--monthly` (the default) or `--yearly`: a trend's bucket size.
extension Interval: EnumerableFlag {}

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

/// Runs `body` with the suite over the database (see ``DatabaseOptions/openSuite(clock:install:)``), closing it afterwards.
func withSuite(_ options: DatabaseOptions, clock: any WallClock = SystemWallClock(), install: Bool = false,
               _ body: (ClientSuite) async throws -> Void) async throws {
    try await runReporting {
        let suite = try await options.openSuite(clock: clock, install: install)
        do {
            try await body(suite)
            try await suite.close()
        } catch {
            try? await suite.close()
            throw error
        }
    }
}

func parseDate(_ text: String, _ name: String) throws -> CivilDate {
    guard let date = CivilDate(parsing: text) else {
        throw ValidationError("--\(name) must be a date like 2026-01-31")
    }
    return date
}

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

/// Refid arguments and options arrive typed; what the refid names is checked where it is used.
extension Refid: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
}
