import Foundation
import SuiteSQLite
import SuiteStorage
import SuiteTestSupport
import Testing

/// Fragments that must never reach a user: Swift type names, SQL, engine codes.
private let leaks = ["Error(", "error(", "PSQL", "ConnectionPool", "StorageError", "DatabaseError", "Swift.", "Optional(",
                     "SELECT ", "INSERT ", "UPDATE ", "DELETE ", " FROM ", "SQLITE_", "NIO", "GRDB", "\\(", "0x"]

/// Runs `dock` with `arguments` and the database `location`, and checks that it failed the way a
/// user should see a failure: a non-zero exit, one line on stderr starting `error: `, nothing on
/// stdout, and none of `leaks` or `secrets` in the line. Returns the line.
@discardableResult
/// With `afterProgress`, progress lines (long work reports them on stderr) may come first.
private func expectOneCleanLine(_ arguments: [String], location: String?, secrets: [String] = [], afterProgress: Bool = false,
                                within seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CLIENT_") && $0.key != "DOCK_DATABASE_URL" }
    if let location { environment["DOCK_DATABASE_URL"] = location }
    let started = ContinuousClock.now
    let result = try runProduct("dock", arguments, environment: environment)
    let elapsed = ContinuousClock.now - started
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    let line = afterProgress && lines.count > 2 ? lines.suffix(2).joined(separator: "\n") : result.stderr
    let what = "\(arguments.joined(separator: " ")) → \(line)"
    #expect(result.status != 0, "\(what)", sourceLocation: sourceLocation)
    #expect(line.hasPrefix("error: ") && line.hasSuffix("\n"), "\(what)", sourceLocation: sourceLocation)
    #expect(line.split(separator: "\n").count == 1, "\(what)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "\(what): stdout \(result.stdout)", sourceLocation: sourceLocation)
    for fragment in leaks + secrets {
        #expect(!line.contains(fragment), "\(what) shows \(fragment)", sourceLocation: sourceLocation)
    }
    #expect(elapsed < .seconds(seconds), "\(what) took \(elapsed)", sourceLocation: sourceLocation)
    return line
}

/// Every failure `dock` can reach, by the line it prints: timed (PostgreSQL failures within 10 s)
/// and mounting filesystems, so it runs with the fault tests.
@Suite struct DockErrorLineFaultTests {
    @Test func everyDatabaseFailurePrintsOneCleanLineThatSaysWhy() async throws {
        let components = try #require(URLComponents(string: try Engine.postgresURL()))
        let host = components.host ?? "127.0.0.1", port = components.port ?? 5432
        let secret = "pa55-w0rd-never-shown"
        let cases: [(location: String, mentions: String)] = [
            (try Engine.postgresURL(port: 1), "nothing accepts connections at \(host):1 (connection refused)"),
            (try Engine.postgresURL(host: "no-such-host.invalid"), "cannot resolve the host \"no-such-host.invalid\""),
            (try Engine.postgresURL(user: "nobody_here", password: secret), "refused user \"nobody_here\""),
            (try Engine.postgresURL(user: "clientsuite_pw", password: secret), "refused the password for user \"clientsuite_pw\""),
            (try Engine.postgresURL(database: "no_such_db"), "database \"no_such_db\" does not exist on PostgreSQL at \(host):\(port)"),
            (try Engine.postgresURL(options: [("sslmode", "require")]), "does not accept TLS"),
            (try Engine.postgresURL(options: [("pool", "many")]), "pool must be between 1 and 256"),
            (try Engine.postgresURL(options: [("connect_timeout", "soon")]), "connect_timeout must be more than 0"),
            (try Engine.postgresURL(options: [("colour", "blue")]), "unknown PostgreSQL URL option \"colour\""),
            ("mysql://root@localhost/db", "unsupported database URL"),
            ("  ", "the database location is empty"),
        ]
        for (location, mentions) in cases {
            let line = try expectOneCleanLine(["client", "list"], location: location, secrets: [secret])
            #expect(line.contains(mentions), "\(location): \(line)")
        }
    }

    @Test func everySQLiteFailurePrintsOneCleanLineThatSaysWhy() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clientsuite-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/dock.sqlite"
        try Data("not a database at all\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/notes.txt"))
        let simple: [(arguments: [String], location: String, mentions: String)] = [
            (["client", "list"], "\(folder)/notes.txt", "\(folder)/notes.txt is not a SQLite database"),
            (["client", "list"], "\(folder)/missing/dir/dock.sqlite", "cannot open the SQLite database at \(folder)/missing/dir/dock.sqlite"),
            (["client", "list"], "\(path)?synchronous=off", "synchronous must be full or normal"),
            (["client", "list"], path, "the client module is not installed"),
        ]
        for (arguments, location, mentions) in simple {
            let line = try expectOneCleanLine(arguments, location: location)
            #expect(line.contains(mentions), "\(location): \(line)")
        }

        // Installed, then bad input of every kind: a typed error, one line, nothing written.
        let install = try runProduct("dock", ["install", "--database", path])
        #expect(install.status == 0 && install.stdout.contains("durability: synchronous=FULL"), "\(install.stdout)")
        let badInput: [(arguments: [String], mentions: String)] = [
            (["client", "create", "--name", "X", "--email", "not-an-email"], "Invalid email"),
            (["client", "activate", "CL-DOESNOTEXIST"], "Client Not Found"),
            (["client", "frobnicate"], "(see --help)"),
            (["client", "create", "--email", "x@y.example"], "Missing expected argument '--name"),
            (["ally", "provision", "RS-NOBODY", "10", "--action", "x", "--idempotency-key", "k"], "Reseller Not Found"),
            (["ally", "credit", "RS-NOBODY", "-5"], "Missing expected argument '<amount>'"),
            (["wave", "invoice", "show", "INV-2026-9999"], "Invoice Not Found"),
            (["forge", "revoke", "LC-NOPE"], "Licence Not Found"),
        ]
        for (arguments, mentions) in badInput {
            let line = try expectOneCleanLine(arguments + ["--database", path], location: nil)
            #expect(line.contains(mentions), "\(arguments): \(line)")
        }
        let created = try runProduct("dock", ["client", "create", "--name", "Acme", "--email", "a@acme.example", "--database", path])
        #expect(created.status == 0)

        // The write lock held by another connection past a short busy timeout.
        let holder = try SQLiteDatabase(path: path)
        let held = await HeldTransaction(on: holder, "UPDATE client_clients SET name = name")
        let busy = try expectOneCleanLine(["client", "create", "--name", "Busy", "--email", "b@acme.example"],
                                          location: "\(path)?busy_timeout=0.2")
        #expect(busy.hasPrefix("error: the database is busy"), "\(busy)")
        try await held.finish()
        try await holder.close()

        // A read-only filesystem, and a full one.
        let filesystem = try SmallFilesystem(kilobytes: 1_024)
        defer { filesystem.remove() }
        let small = "\(filesystem.path)/dock.sqlite"
        #expect(try runProduct("dock", ["install", "--database", small]).status == 0)
        try filesystem.remount(readOnly: true)
        let readOnly = try expectOneCleanLine(["client", "create", "--name", "R", "--email", "r@acme.example"], location: small)
        #expect(readOnly.contains(small) && (readOnly.contains("read-only") || readOnly.contains("cannot open")), "\(readOnly)")
        try filesystem.remount(readOnly: false)
        let full = try expectOneCleanLine(["client", "seed", "--count", "200000", "--batch", "2000"], location: small,
                                          afterProgress: true, within: 120)
        #expect(full.contains("the disk holding the SQLite database at \(small) is full"), "\(full)")
        // The file still opens and reads; the library test frees space and writes again.
        let list = try runProduct("dock", ["client", "list", "--limit", "1", "--database", small])
        #expect(list.status == 0, "\(list.stderr)")
    }
}
