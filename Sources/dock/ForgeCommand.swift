import ArgumentParser
import Client
import Forge
import Foundation
import Suite
import Wave
import SuiteCore
import SuiteStorage

struct ForgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forge",
        abstract: "Licence keys: mint, activate, verify, revoke, renew, show, list, history, analytics; signed tokens for offline checks.",
        subcommands: [Mint.self, Activate.self, Verify.self, Revoke.self, Renew.self, Show.self, List.self, History.self,
                      Sweep.self, Analytics.self, Keygen.self, Sign.self, VerifyOffline.self])

    struct Mint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a pending licence and print its key (shown once: only a digest is stored).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Product code.") var product: String
        @Option(help: "Days of validity from activation (default: the product's; lifetime when it has none).") var days: Int?
        @Flag(help: "A licence that never expires.") var lifetime = false
        @Option(help: "Reserve the licence for this client (refid).") var client: Refid?
        @Option(help: "Metadata as key=value (repeatable).") var metadata: [String] = []

        func run() async throws {
            try await withSuite(database) { suite in
                var builder = try suite.licences.make().product(product).metadata(try parseMetadata(metadata)).client(client)
                if lifetime { builder = builder.lifetime() } else if let days { builder = builder.days(days) }
                let minted = try await builder.mint(actor: "cli")
                try output.show(minted) {
                    print("\(minted.licence.refid)  \(minted.key.rawValue)  (\(minted.licence.product), "
                          + (minted.licence.durationDays.map { "\($0) days" } ?? "lifetime") + ")")
                }
            }
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Activate licences (refids or keys) for a client; exits non-zero if any is refused.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "The client (refid).") var client: Refid
        @Option(help: "A file with one licence refid or key per line.") var file: String?
        @Argument(help: "Licence refids (LC-…) or keys.") var licences: [String] = []

        func validate() throws {
            if licences.isEmpty && file == nil { throw ValidationError("name a licence, or --file") }
        }

        func run() async throws {
            var items = licences
            if let file {
                let text: String
                do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                    throw ValidationError("cannot read --file \(file)")
                }
                items += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            try await withSuite(database) { suite in
                let store = try suite.licences
                var activated: [Licence] = [], refused: [String] = []
                let bar = items.count >= 100 ? ProgressBar(total: items.count, label: "activating") : nil
                for (index, item) in items.enumerated() {
                    do {
                        activated.append(item.hasPrefix("LC-")
                            ? try await store.activate(Refid(rawValue: item), for: client, actor: "cli")
                            : try await store.activate(key: item, for: client, actor: "cli"))
                    } catch let error as ForgeError {
                        refused.append("\(item.hasPrefix("LC-") ? item : "key #\(index + 1)"): \(error.message)")
                    }
                    bar?.update(index + 1)
                }
                bar?.finish()
                let report = ActivationReport(activated: activated.count, refused: refused.count, licences: activated,
                                              errors: Array(refused.prefix(20)))
                try output.show(report) {
                    for licence in activated {
                        print("\(licence.refid): active for \(client)" + (licence.expiresAt.map { " until \(isoString($0))" } ?? ", lifetime"))
                    }
                    if items.count > 1 { print("activated \(activated.count), refused \(refused.count)") }
                }
                if !refused.isEmpty {
                    // One line: the first refusal (and how many more).
                    let more = refused.count > 1 ? " (and \(refused.count - 1) more)" : ""
                    throw ForgeError(.statusConflict, message: refused[0] + more)
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a key: prints the code (valid, malformed, notFound, pending, expired, revoked, clientSuspended); exits 0 only when valid.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The licence key.") var key: String

        func run() async throws {
            var valid = false
            try await withSuite(database) { suite in
                let result = try await suite.licences.verify(key)
                valid = result.isValid
                try output.show(result) { print(result.code.rawValue + (result.licence.map { "  \($0.refid) \($0.product)" } ?? "")) }
            }
            if !valid { throw ExitCode.failure }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a licence for good (by refid or key).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The licence refid (LC-…) or its key.") var licence: String
        @Option(help: "Why, for the audit trail.") var reason: String?

        func run() async throws {
            try await withSuite(database) { suite in
                let licences = try suite.licences
                let found = try await licences.find(refidOrKey: licence)
                let licence = try await licences.revoke(found.refid, actor: "cli", reason: reason)
                try output.show(licence) { print("\(licence.refid): \(licence.status)") }
            }
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Extend an activated licence by N days (by refid or key).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The licence refid (LC-…) or its key.") var licence: String
        @Option(help: "Days to add.") var days: Int

        func run() async throws {
            try await withSuite(database) { suite in
                let licences = try suite.licences
                let found = try await licences.find(refidOrKey: licence)
                let licence = try await licences.renew(found.refid, days: days, actor: "cli")
                try output.show(licence) { print("\(licence.refid): \(licence.status) until \(licence.expiresAt.map(isoString) ?? "-")") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a licence (never its key).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The licence refid.") var refid: Refid

        func run() async throws {
            try await withSuite(database) { suite in
                let licence = try await suite.licences.find(refid)
                try output.show(licence.effective(at: Date())) { printLicences([licence]) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List licences, one page at a time.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "pending, active, expired or revoked.") var status: LicenceStatus?
        @Option(help: "Only active licences ending within N days.") var expiringIn: Int?
        @Option(help: "Only this client's licences (refid).") var client: Refid?
        @Option(help: "Only licences of this reseller's clients (refid).") var reseller: Refid?
        @Option(help: "Only this product.") var product: String?
        @OptionGroup var page: PageOptions

        func run() async throws {
            try await withSuite(database) { suite in
                var query = try suite.licences.query().limit(page.limit).after(page.after)
                switch status {
                case .active?: query = query.active()
                case .pending?: query = query.pending()
                case .expired?: query = query.expired()
                case .revoked?: query = query.revoked()
                case nil: break
                }
                if let expiringIn { query = query.expiringIn(days: expiringIn) }
                if let client { query = query.forClient(client) }
                if let reseller { query = query.forReseller(reseller) }
                if let product { query = query.product(product) }
                let fetched = try await query.fetch(), now = Date()
                // Statuses as they are now (the sweep may lag), as `show` prints them.
                let effective = Page(items: fetched.items.map { $0.effective(at: now) }, nextCursor: fetched.nextCursor)
                try output.showPage(effective, table: printLicences)
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A licence's audit trail.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The licence refid.") var refid: Refid

        func run() async throws {
            try await withSuite(database) { suite in
                try printAuditTrail(try await suite.licences.auditTrail(of: refid), json: output.json)
            }
        }
    }

    struct Sweep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record licences whose term has passed as expired (verification never waits for this).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await withSuite(database) { suite in
                let licences = try suite.licences
                var total = 0
                while true {
                    let marked = try await licences.markExpired(limit: 500)
                    total += marked
                    if marked < 500 { break }
                }
                try output.show(["marked_expired": total]) { print("\(total) licence\(total == 1 ? "" : "s") marked expired") }
            }
        }
    }
}

extension LicenceStatus: ExpressibleByArgument {}

/// What `dock forge activate --json` prints: how many were activated and refused, the licences, the first refusals.
struct ActivationReport: Encodable {
    var activated: Int
    var refused: Int
    var licences: [Licence]
    var errors: [String]
}

func printLicences(_ licences: [Licence]) {
    let now = Date()
    printTable(["REFID", "PRODUCT", "STATUS", "CLIENT", "KEY", "EXPIRES"], licences.map {
        [$0.refid.rawValue, $0.product, $0.effectiveStatus(at: now).rawValue, $0.client?.rawValue ?? "-", $0.keyHint,
         $0.expiresAt.map(isoString) ?? ($0.durationDays == nil ? "never" : "-")]
    })
}
