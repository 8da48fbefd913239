import Ally
import Foundation
import SuiteCore
import SuitePostgres
import SuiteStorage
import Wallet

/// `allies.provision(…)` through the public API on PostgreSQL: one reseller per task, every task
/// provisioning (cost 1, fresh idempotency key) as fast as it can for a fixed time.
struct PostgresProvisions {
    private let database: PostgresDatabase
    private let allies: Allies
    private let resellers: [Refid]
    private var runs = 0

    /// Installs Ally in the (fresh) database at `url` and registers `tasks` resellers with ample credits.
    init(url: String, tasks: Int) async throws {
        database = try PostgresDatabase(url: url)
        try await Allies.install(on: database)
        allies = Allies(database: database)
        var resellers: [Refid] = []
        for index in 0..<tasks {
            let reseller = try await allies.make().user("bench-pg-\(index)").company("Benchmark Reseller \(index)").create()
            try await allies.addCredits(reseller.refid, 1_000_000_000_000, actor: "benchmark")
            resellers.append(reseller.refid)
        }
        self.resellers = resellers
    }

    /// Provisions from every reseller at once for `seconds`; returns how many succeeded in how long.
    mutating func run(seconds: Double) async throws -> TaskRate {
        runs += 1
        let (allies, resellers, run) = (allies, resellers, runs)
        // Untimed: one provision per task first, so every pooled connection is open when the clock starts
        // (pgbench's figure likewise leaves out connecting).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (task, reseller) in resellers.enumerated() {
                group.addTask {
                    try await allies.provision(reseller, cost: 1, action: "Benchmark licence", idempotencyKey: "warm-\(run)-\(task)")
                }
            }
            try await group.waitForAll()
        }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int64(seconds * 1000))
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for (task, reseller) in resellers.enumerated() {
                group.addTask {
                    var done = 0
                    while clock.now < deadline {
                        try await allies.provision(reseller, cost: 1, action: "Benchmark licence",
                                                   idempotencyKey: "run-\(run)-\(task)-\(done)")
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        return TaskRate(transactions: total, seconds: (clock.now - start).seconds)
    }

    func close() async throws { try await database.close() }
}

/// Diagnostics, not targets: a provision's SQL (``ProvisionSQL``) from several concurrent clients,
/// without the Ally and Ledger Swift code — through pgbench (a C client, simple query protocol) or
/// through the suite's own driver — crediting either the one shared `system:revenue` row, as the
/// suite does today, or one revenue row per client. Splits a gap to TPC-B into round trips, the
/// hot row, the driver and the Swift layers.
struct ProvisionSQLRuns {
    enum Revenue: String, CaseIterable, Sendable {
        /// Every provision credits the one `system:revenue` row, as the suite does today.
        case shared
        /// Client *n* credits revenue row *n* (a striped revenue account).
        case striped
    }

    private let server: PostgresServer
    private let database: String
    private let directory: URL
    /// The suite's driver on the same database, with a pool of one connection per client.
    private let driver: PostgresDatabase
    /// The refid of the shared `system:revenue` account.
    private let sharedRevenue: String
    private var runs = 0

    /// Installs Ally in the (fresh) `database` and adds, with plain SQL, one reseller, wallet and
    /// revenue stripe per client under predictable refids (`RS-PGB-n`, `WA-PGB-n`, `WA-PGB-REV-n`),
    /// which pgbench scripts derive from its `client_id`.
    init(server: PostgresServer, database: String, url: String, clients: Int, directory: URL) async throws {
        self.server = server
        self.database = database
        self.directory = directory
        driver = try PostgresDatabase(url: url)
        try await Allies.install(on: driver)
        sharedRevenue = try await Ledger(database: driver).system(.revenue, unit: .credits).refid.rawValue
        try await driver.write { tx in
            for client in 0..<clients {
                try tx.execute("""
                    INSERT INTO wallet_accounts (refid, owner, unit, balance, is_system, created_at)
                    VALUES (\("WA-PGB-\(client)"), \("pgb-\(client)"), 'credits', 1000000000000, 0, 0),
                           (\("WA-PGB-REV-\(client)"), \("system:revenue:\(client)"), 'credits', 0, 1, 0)
                    """)
                try tx.execute("""
                    INSERT INTO ally_resellers (refid, user_id, company, tier, status, metadata, wallet_refid, version, created_at, updated_at)
                    VALUES (\("RS-PGB-\(client)"), \("pgb-\(client)"), 'Benchmark Reseller', 'standard', 'active', '{}',
                            \("WA-PGB-\(client)"), 1, 0, 0)
                    """)
            }
        }
    }

    /// pgbench with `-c clients -j threads` for `seconds` running `shape` as a custom script.
    func pgbench(_ shape: ProvisionSQL.Shape, _ revenue: Revenue, clients: Int, threads: Int, seconds: Int) async throws -> PgbenchResult {
        let literals = [
            "reseller": "'RS-PGB-:client_id'", "wallet": "'WA-PGB-:client_id'",
            "credit": revenue == .shared ? "'\(sharedRevenue)'" : "'WA-PGB-REV-:client_id'",
            "revenue_owner": "'system:revenue'", "unit": "'credits'", "amount": "1",
            "lowest": String(Int64.min + 1), "highest": String(Int64.max - 1), "fingerprint": "'\(ProvisionSQL.fingerprint)'",
            "description": "'Benchmark licence'", "metadata": "'{\"reseller\":\"RS-PGB-:client_id\"}'",
            "key": "'ally:provision:pgb-:client_id-:k'", "transfer_refid": "'TX-PGB-:client_id-:k'",
            "now": String(Timestamp(Date()).milliseconds),
        ]
        let script = directory.appendingPathComponent("provision-\(shape.rawValue)-\(revenue.rawValue).sql")
        try ProvisionSQL.pgbenchScript(shape, literals: literals).write(to: script, atomically: true, encoding: .utf8)
        let output = try await server.runPgbench(
            ["-n", "-M", "simple", "-c", String(clients), "-j", String(threads), "-T", String(seconds), "-f", script.path],
            database: database, label: "provision \(shape.rawValue) \(revenue.rawValue)", timeLimit: .seconds(seconds + 120))
        return try PgbenchResult(output: output)
    }

    /// `clients` tasks, each running `shape` in `database.write` through the suite's driver for
    /// `seconds`; returns how many succeeded in how long.
    mutating func driver(_ shape: ProvisionSQL.Shape, _ revenue: Revenue, clients: Int, seconds: Double) async throws -> TaskRate {
        runs += 1
        let (driver, sharedRevenue, run) = (driver, sharedRevenue, runs)
        // Untimed: one transaction per client first, so every pooled connection is open when the clock starts.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask { try await driver.write { tx in _ = try tx.query("SELECT 1") } }
            }
            try await group.waitForAll()
        }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int64(seconds * 1000))
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var values: [String: SQLValue] = [
                        "reseller": .text("RS-PGB-\(client)"), "wallet": .text("WA-PGB-\(client)"),
                        "credit": .text(revenue == .shared ? sharedRevenue : "WA-PGB-REV-\(client)"),
                        "revenue_owner": .text("system:revenue"), "unit": .text("credits"), "amount": .int(1),
                        "lowest": .int(Int64.min + 1), "highest": .int(Int64.max - 1),
                        "fingerprint": .text(ProvisionSQL.fingerprint), "description": .text("Benchmark licence"),
                        "metadata": .text("{\"reseller\":\"RS-PGB-\(client)\"}"),
                    ]
                    var done = 0
                    while clock.now < deadline {
                        values["key"] = .text("ally:provision:drv-\(run)-\(client)-\(done)")
                        values["transfer_refid"] = .text(Refid.generate(prefix: "TX-").rawValue)  // random, as the ledger's
                        values["now"] = .int(Timestamp(Date()).milliseconds)
                        let provision = values
                        try await driver.write { tx in try ProvisionSQL.run(shape, in: tx, values: provision) }
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        return TaskRate(transactions: total, seconds: (clock.now - start).seconds)
    }

    func close() async throws { try await driver.close() }
}

/// Transactions that concurrent tasks completed, and the wall time they took.
struct TaskRate {
    var transactions: Int
    var seconds: Double
    var tps: Double { Double(transactions) / seconds }
}
