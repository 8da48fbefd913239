import ArgumentParser
import Foundation
import Suite
import SuiteCore
import SuiteHTTP
import SuiteStorage

/// `dock apikey`: the keys `dock serve` accepts.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "Make, list and revoke the API keys dock serve accepts.",
        subcommands: [Create.self, List.self, Revoke.self])

    /// The suite's keys, with their table installed (idempotent).
    static func withKeys<T>(_ database: DatabaseOptions, _ body: (APIKeys) async throws -> T) async throws -> T {
        var result: T?
        try await withSuite(database) { suite in
            try await HTTPTables.install(on: suite.database)
            result = try await body(SuiteAPI(suite: suite).keys)
        }
        guard let result else { throw CancellationError() }  // withSuite returns only after body did
        return result
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key and print its secret, once: it is stored only as a digest.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Flag(help: "A key that reaches everything.") var admin = false
        @Option(help: "A key bound to one reseller's portfolio (RS-…).") var reseller: Refid?
        @Flag(help: "A key for licence verification and the public keys only (to ship in apps).") var verify = false
        @Option(help: "A label for people.") var name = ""

        func validate() throws {
            guard [admin, reseller != nil, verify].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --admin, --reseller RS-… or --verify")
            }
        }

        func run() async throws {
            let role: APIKeyRole = admin ? .admin : reseller.map { .reseller($0) } ?? .verify
            let made = try await APIKeyCommand.withKeys(database) { try await $0.create(role, name: name) }
            try output.show(made) {
                print("\(made.key.refid) (\(role.name)\(role.reseller.map { " for \($0)" } ?? "")): \(made.secret)")
                print("Keep the secret now: it is not stored and cannot be shown again.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys, oldest first (never their secrets).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var page: PageOptions

        func run() async throws {
            let keys = try await APIKeyCommand.withKeys(database) { try await $0.list(limit: page.limit, after: page.after) }
            try output.showPage(keys, header: ["KEY", "ROLE", "RESELLER", "NAME", "HINT", "CREATED", "REVOKED"]) { key in
                [key.refid.rawValue, key.role.name, key.role.reseller?.rawValue ?? "-", key.name.isEmpty ? "-" : key.name, key.hint + "…",
                 isoString(key.createdAt), key.revokedAt.map(isoString) ?? "-"]
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key for good: its next request gets 401.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The key's refid (AK-…).") var refid: Refid

        func run() async throws {
            let key = try await APIKeyCommand.withKeys(database) { try await $0.revoke(refid) }
            try output.show(key) { print("\(key.refid): revoked") }
        }
    }
}
