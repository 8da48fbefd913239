import Foundation
import PropertyBased
import SuiteTestSupport
import Testing

/// Runs the built `dock` executable, as a user would.
struct Dock: Sendable {
    let location: String

    typealias Result = ProductRun

    @discardableResult
    func run(_ arguments: String..., environment: [String: String] = [:]) throws -> Result {
        try run(arguments, environment: environment)
    }

    /// Runs `dock` with `arguments`, plus `--database` unless the command needs no database.
    func run(_ arguments: [String], environment: [String: String] = [:], database: Bool = true) throws -> Result {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CLIENT_") && $0.key != "DOCK_DATABASE_URL" }
        env.merge(environment) { $1 }
        return try runProduct("dock", arguments + (database ? ["--database", location] : []), environment: env)
    }

    func json(_ arguments: String...) throws -> Any { try json(arguments) }

    func json(_ arguments: [String], database: Bool = true) throws -> Any {
        let result = try run(arguments + ["--json"], database: database)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    func clientCount() throws -> Int {
        let page = try json("client", "list", "--limit", "500") as? [String: Any]
        return (page?["items"] as? [Any])?.count ?? -1
    }
}

func withDock<T>(_ engine: Engine, _ body: (Dock) async throws -> T) async throws -> T {
    let (location, cleanUp) = try await engine.freshLocation()
    defer { Task { await cleanUp() } }
    let dock = Dock(location: location)
    let install = try dock.run("install")
    #expect(install.status == 0, "\(install.stderr)")
    return try await body(dock)
}

@Suite struct DockCLITests {
    @Test(arguments: Engine.allCases)
    func aClientGoesThroughItsLifecycleFromTheCommandLine(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let again = try dock.run("install", "client")
            #expect(again.stdout.contains("already up to date"))

            let created = try dock.json("client", "create", "--name", "Acme Corporation", "--email", "billing@acme.com",
                                        "--phone", "+1 555 0100", "--metadata", "segment=Enterprise", "--metadata", "seats=40")
                as? [String: Any]
            let refid = try #require(created?["refid"] as? String)
            #expect(refid.hasPrefix("CL-"))
            #expect(created?["status"] as? String == "pending")
            #expect((created?["metadata"] as? [String: Any])?["seats"] as? Int == 40)
            let keys = Set(created.map { Array($0.keys) } ?? [])
            #expect(keys.isSuperset(of: ["refid", "name", "email", "status", "reseller", "metadata", "created_at"]))
            #expect(created?["id"] == nil)

            #expect(try dock.run("client", "activate", refid, "--reason", "paid").stdout.contains("active"))
            let denied = try dock.run("client", "activate", refid)
            #expect(denied.status != 0)
            #expect(denied.stderr.hasPrefix("error: Status Transition Denied"))
            #expect(denied.stderr.split(separator: "\n").count == 1)
            #expect(try dock.run("client", "suspend", refid).status == 0)
            #expect(try dock.run("client", "reinstate", refid).status == 0)
            #expect(try dock.run("client", "bind", refid, "--user", "user-42").status == 0)

            let shown = try dock.json("client", "show", refid) as? [String: Any]
            #expect(shown?["status"] as? String == "active")
            #expect(shown?["user_id"] as? String == "user-42")
            // By email too, trimmed and in any case; an unknown email is not repeated back.
            let byEmail = try dock.json("client", "show", " Billing@ACME.com ") as? [String: Any]
            #expect(byEmail?["refid"] as? String == refid)
            let nobody = try dock.run("client", "show", "nobody@acme.com")
            #expect(nobody.status != 0 && nobody.stderr == "error: Client Not Found: no client with this email\n")

            let history = try dock.run("client", "history", refid)
            #expect(history.stdout.contains("suspend") && history.stdout.contains("paid"))

            let active = try dock.json("client", "list", "--status", "active") as? [String: Any]
            #expect((active?["items"] as? [[String: Any]])?.map { $0["refid"] as? String } == [refid])
            let standalone = try dock.json("client", "list", "--standalone") as? [String: Any]
            #expect((standalone?["items"] as? [Any])?.count == 1)

            let today = String(Date().formatted(.iso8601).prefix(10))
            let signups = try dock.json("client", "analytics", "signups", "--daily", "--from", today, "--to", today) as? [[String: Any]]
            #expect(signups?.first?["count"] as? Int == 1)
            let status = (try dock.json("client", "analytics", "status") as? [String: Any])?["counts"] as? [String: Int]
            #expect(status?["active"] == 1)
            let table = try dock.run("client", "analytics", "signups", "--monthly", "--from", today, "--to", today)
            #expect(table.stdout.contains("█"))
        }
    }

    @Test(arguments: Engine.allCases)
    func badInputIsOneLineOnStderrANonZeroExitAndWritesNothing(engine: Engine) async throws {
        try await withDock(engine) { dock in
            _ = try dock.json("client", "create", "--name", "Acme", "--email", "a@acme.example")
            let attempts: [[String]] = [
                ["client", "create", "--email", "x@y.example"],
                ["client", "frobnicate"],
                ["client", "create", "--name", "", "--email", "x@y.example"],
                ["client", "create", "--name", "X", "--email", "not-an-email"],
                ["client", "create", "--name", "X", "--email", "A@ACME.example"],
                ["client", "create", "--name", "X", "--email", "x@y.example", "--reseller", "RS-NOBODY"],
                ["client", "create", "--name", "X", "--email", "x@y.example", "--metadata", "password=hunter2"],
                ["client", "create", "--name", "X", "--email", "x@y.example", "--metadata", "novalue"],
                ["client", "activate", "CL-DOESNOTEXIST"],
                ["client", "list", "--status", "sideways"],
                ["client", "analytics", "signups", "--daily", "--from", "2026-02-30", "--to", "2026-03-01"],
            ]
            for arguments in attempts {
                let result = try dock.run(arguments)
                #expect(result.status != 0, "\(arguments)")
                #expect(result.stderr.hasPrefix("error: "), "\(arguments): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
                #expect(result.stdout.isEmpty, "\(arguments)")
            }
            let duplicate = try dock.run(["client", "create", "--name", "X", "--email", "A@ACME.example"])
            #expect(duplicate.stderr == "error: Duplicate Email: a client with this email already exists\n")
            let reseller = try dock.run(["client", "create", "--name", "X", "--email", "x@y.example", "--reseller", "RS-NOBODY"])
            #expect(reseller.stderr.hasPrefix("error: Invalid Reseller"))
            #expect(try dock.clientCount() == 1)
        }
    }

    @Test func aDatabaseWithoutTheModuleIsRefusedWithInstructions() async throws {
        let (location, cleanUp) = try await Engine.sqlite.freshLocation()
        defer { Task { await cleanUp() } }
        let result = try Dock(location: location).run("client", "list")
        #expect(result.status != 0)
        #expect(result.stderr.contains("dock install client"))
    }

    @Test func theDemoRunsAndRunsAgain() async throws {
        let (location, cleanUp) = try await Engine.sqlite.freshLocation()
        defer { Task { await cleanUp() } }
        let dock = Dock(location: location)
        let first = try dock.run("demo")
        #expect(first.status == 0, "\(first.stderr)")
        // Both workflows, readably: the refusal, the replay, the webhook, verification and the charts.
        for text in ["Workflow 1: a reseller provisions", "nothing spent, same licences", "Insufficient Credits: balance 7505, cost 16915",
                     "paid, client activated, licence issued; delivered again: duplicate, nothing changed",
                     "verify → revoked", "Signups per day", "Revenue per day", "INV-", "paid    checkout"] {
            #expect(first.stdout.contains(text), "missing: \(text)")
        }
        #expect(first.stdout.components(separatedBy: "  valid").count - 1 == 6)
        let second = try dock.run("demo")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.components(separatedBy: "  valid").count - 1 == 6)
        #expect(try dock.clientCount() == 14)
        let status = (try dock.json("client", "analytics", "status") as? [String: Any])?["counts"] as? [String: Int]
        #expect(status?["active"] == 12 && status?["pending"] == 2)
    }

    @Test func seedingShowsProgressAndCreatesEveryClient() async throws {
        try await withDock(.sqlite) { dock in
            let result = try dock.run("client", "seed", "--count", "2500", "--days", "30", "--batch", "1000")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("100% 2500/2500"))
            let status = (try dock.json("client", "analytics", "status") as? [String: Any])?["counts"] as? [String: Int]
            #expect(status?["pending"] == 2500)
        }
    }

    @Test func configurationComesFromTheEnvironment() async throws {
        try await withDock(.sqlite) { dock in
            let result = try dock.run(["client", "create", "--name", "A", "--email", "a@b.example", "--json"],
                                      environment: ["CLIENT_DEFAULT_STATUS": "active", "CLIENT_REFID_PREFIX": "ZZ-"])
            let client = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(client?["status"] as? String == "active")
            #expect((client?["refid"] as? String)?.hasPrefix("ZZ-") == true)
        }
    }
}

/// Random hostile arguments through the real executable: never a crash (exit code from a signal),
/// always one line of error or a created client, and the row count matches the successes.
@Suite(.shrinking(false)) struct DockPropertyTests {
    static let anyScalar = Gen.oneOf(
        Gen.unicodeScalar(in: "\u{1}"..."\u{D7FF}"),   // NUL cannot be passed in an argv string
        Gen.unicodeScalar(in: "\u{E000}"..."\u{10FFFF}"))
    static let text = anyScalar.map(Character.init).string(of: 0...40)

    @Test func randomArgumentsNeverCrashTheCLIOrWritePartially() async throws {
        try await withDock(.sqlite) { dock in
            var successes = 0
            var index = 0
            // Spawning a process per case is slow; 40 cases keep the test to a few seconds.
            await propertyCheck(count: 40, input: Self.text, Self.text, Self.text) { name, email, value in
                index += 1
                let mail = index % 2 == 0 ? email : "u\(index)@x.example"
                guard let result = try? dock.run(["client", "create", "--name", name, "--email", mail, "--metadata", "note=\(value)"]) else {
                    Issue.record("could not run dock")
                    return
                }
                #expect(result.status == 0 || result.status == 1 || result.status == 64, "crash? status \(result.status)")
                if result.status == 0 {
                    successes += 1
                } else {
                    #expect(result.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count >= 1)
                    #expect(result.stdout.isEmpty)
                }
            }
            let stored = try dock.clientCount()
            #expect(stored == successes)
        }
    }
}
