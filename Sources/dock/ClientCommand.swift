import Suite
import ArgumentParser
import Client
import Foundation
import SuiteCore
import SuiteStorage

struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Manage clients: create, show, list, lifecycle, user binding, analytics.",
        subcommands: [
            Create.self, Show.self, List.self, Update.self, Transition.Activate.self, Transition.Suspend.self,
            Transition.Deactivate.self, Transition.Reinstate.self, Bind.self, Unbind.self, History.self,
            Analytics.self, Seed.self,
        ])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a new client.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Corporate or individual name (required).") var name: String
        @Option(help: "Primary billing/contact email (required, unique).") var email: String
        @Option(help: "Phone number.") var phone: String?
        @Option(help: "Managing reseller's refid (RS-…).") var reseller: Refid?
        @Option(help: "User account id to bind (1:1).") var user: String?
        @Option(help: "Metadata as key=value (repeatable; JSON values keep their type).") var metadata: [String] = []
        @Option(help: "Who is acting, for the audit trail.") var actor = "cli"

        func run() async throws {
            try await withSuite(database) { suite in
                let client = try await suite.clients.make()
                    .name(name).email(email).phone(phone).reseller(reseller).user(user)
                    .metadata(try parseMetadata(metadata))
                    .create(actor: actor)
                try output.show(client) { printClient(client) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one client by refid or email.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The client's refid (CL-…) or email.") var client: String

        func run() async throws {
            try await withSuite(database) { suite in
                let client = try await suite.clients.find(refidOrEmail: client)
                try output.show(client) { printClient(client) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List clients, one page at a time, oldest first.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this status: pending, active, suspended, inactive.") var status: String?
        @Flag(help: "Only clients without a reseller.") var standalone = false
        @Flag(help: "Only clients managed by a reseller.") var reselled = false
        @Option(help: "Only clients of this reseller (refid).") var reseller: Refid?
        @OptionGroup var page: PageOptions
        @Flag(help: "Newest first.") var newestFirst = false

        func validate() throws {
            if let status, ClientStatus(rawValue: status.lowercased()) == nil {
                throw ValidationError("--status must be one of pending, active, suspended, inactive")
            }
            if standalone && (reselled || reseller != nil) {
                throw ValidationError("--standalone cannot be combined with --reselled or --reseller")
            }
        }

        func run() async throws {
            try await withSuite(database) { suite in
                var query = try suite.clients.query().limit(page.limit).after(page.after).newestFirst(newestFirst)
                if let status { query = query.status(ClientStatus(rawValue: status.lowercased())!) }
                if standalone { query = query.standalone() }
                if reselled { query = query.reselled() }
                if let reseller { query = query.forReseller(reseller) }
                try output.showPage(try await query.fetch(), table: printClients)
            }
        }
    }

    enum Transition {
        struct Options: ParsableArguments {
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The client's refid (CL-…).") var refid: Refid
            @Option(help: "Who is acting, for the audit trail.") var actor = "cli"
            @Option(help: "Why, for the audit trail.") var reason: String?

            func apply(_ action: ClientTransition) async throws {
                try await withSuite(database) { suite in
                    let client = try await suite.clients.transition(action, refid, actor: actor, reason: reason)
                    try output.show(client) { print("\(client.refid): \(client.status)") }
                }
            }
        }

        struct Activate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "pending → active.")
            @OptionGroup var options: Options
            func run() async throws { try await options.apply(.activate) }
        }

        struct Suspend: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "active → suspended.")
            @OptionGroup var options: Options
            func run() async throws { try await options.apply(.suspend) }
        }

        struct Deactivate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "pending, active or suspended → inactive.")
            @OptionGroup var options: Options
            func run() async throws { try await options.apply(.deactivate) }
        }

        struct Reinstate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "suspended or inactive → active.")
            @OptionGroup var options: Options
            func run() async throws { try await options.apply(.reinstate) }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge metadata into a client: k=v sets a key, k=null removes it.",
            discussion: "--secret keys go to the encrypted field (CLIENT_ENCRYPTION_KEY must be set); they are never printed.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The client's refid.") var refid: Refid
        @Option(help: "Metadata as key=value (repeatable; JSON values keep their type; key=null removes).") var metadata: [String] = []
        @Option(help: "Secret metadata as key=value (repeatable; key=null removes).") var secret: [String] = []
        @Option(help: "Who is acting, for the audit trail.") var actor = "cli"

        func validate() throws {
            if metadata.isEmpty && secret.isEmpty { throw ValidationError("give at least one --metadata or --secret key=value") }
            _ = try parseMetadata(metadata, option: "metadata")
            _ = try parseMetadata(secret, option: "secret")
        }

        func run() async throws {
            try await withSuite(database) { suite in
                let client = try await suite.clients.updateMetadata(
                    refid, merging: try parseMetadata(metadata, option: "metadata"),
                    secrets: try parseMetadata(secret, option: "secret"), actor: actor)
                try output.show(client) { printClient(client) }
            }
        }
    }

    struct Bind: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bind a user account to a client (1:1).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The client's refid.") var refid: Refid
        @Option(help: "The user account id.") var user: String
        @Option(help: "Who is acting, for the audit trail.") var actor = "cli"

        func run() async throws {
            try await withSuite(database) { suite in
                let client = try await suite.clients.bindUser(user, to: refid, actor: actor)
                try output.show(client) { print("\(client.refid): bound to user \(user)") }
            }
        }
    }

    struct Unbind: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a client's user binding.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The client's refid.") var refid: Refid
        @Option(help: "Who is acting, for the audit trail.") var actor = "cli"

        func run() async throws {
            try await withSuite(database) { suite in
                let client = try await suite.clients.unbindUser(from: refid, actor: actor)
                try output.show(client) { print("\(client.refid): no user bound") }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A client's audit trail.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The client's refid.") var refid: Refid

        func run() async throws {
            try await withSuite(database) { suite in
                try printAuditTrail(try await suite.clients.auditTrail(of: refid, limit: 1000), json: output.json)
            }
        }
    }
}
