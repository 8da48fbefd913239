import Ally
import Foundation
import GRDB
import SuiteCore
import SuiteSQLite
import SuiteStorage
import Wallet

/// The provision figures' baseline on SQLite: bare GRDB on a WAL `DatabasePool` (GRDB's defaults,
/// synchronous=NORMAL), one write transaction per debit — a conditional `UPDATE` of one wallet row
/// plus one ledger `INSERT` — on the smallest schema that can hold a balance and its entries.
struct BaselineDebits {
    private let pool: DatabasePool

    init(path: String) throws {
        pool = try rawPool(path: path, durability: .normal)
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE wallet (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
                CREATE TABLE ledger (id INTEGER PRIMARY KEY, wallet_id INTEGER NOT NULL, amount INTEGER NOT NULL,
                                     created_at INTEGER NOT NULL);
                INSERT INTO wallet (id, balance) VALUES (1, 1000000000000);
                """)
        }
    }

    /// `PRAGMA journal_mode` and `PRAGMA synchronous` on the write connection.
    func settings() async throws -> (journalMode: String, synchronous: Int) {
        try await pool.write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }

    /// Runs `count` sequential debit transactions of 1 and returns their rate in operations per second.
    func run(_ count: Int) async throws -> Double {
        let pool = pool
        let seconds = try await measure {
            for _ in 0..<count {
                try await pool.write { db in
                    try db.execute(sql: "UPDATE wallet SET balance = balance - ? WHERE id = ? AND balance >= ?",
                                   arguments: [1, 1, 1])
                    guard db.changesCount == 1 else { throw BenchmarkError(message: "the baseline wallet ran dry") }
                    try db.execute(sql: "INSERT INTO ledger (wallet_id, amount, created_at) VALUES (?, ?, ?)",
                                   arguments: [1, -1, Timestamp(Date()).milliseconds])
                }
            }
        }
        return Double(count) / seconds
    }

    func close() throws { try pool.close() }
}

/// `allies.provision(…)` through the public API on a SuiteSQLite file (WAL, synchronous=NORMAL):
/// one reseller with ample credits, cost 1, a fresh idempotency key per call, sequential awaits.
struct SQLiteProvisions {
    private let database: SQLiteDatabase
    private let allies: Allies
    let reseller: Refid
    private var provisioned = 0

    init(path: String) async throws {
        database = try SQLiteDatabase(path: path, durability: .normal)
        try await Allies.install(on: database)
        allies = Allies(database: database)
        reseller = try await allies.make().user("bench-sqlite").company("Benchmark Reseller").create().refid
        try await allies.addCredits(reseller, 1_000_000_000_000, actor: "benchmark")
    }

    /// `PRAGMA journal_mode` and `PRAGMA synchronous` on the write connection.
    func settings() async throws -> (journalMode: String, synchronous: Int) {
        try await database.write { tx in
            (try tx.queryFirst("PRAGMA journal_mode")?.string("journal_mode") ?? "?",
             Int(try tx.queryInt64("PRAGMA synchronous") ?? -1))
        }
    }

    mutating func run(_ count: Int) async throws -> Double {
        let (allies, reseller, first) = (allies, reseller, provisioned)
        let seconds = try await measure {
            for index in first..<(first + count) {
                try await allies.provision(reseller, cost: 1, action: "Benchmark licence", idempotencyKey: "bench-\(index)")
            }
        }
        provisioned += count
        return Double(count) / seconds
    }

    func close() async throws { try await database.close() }
}

/// Diagnostics, not targets: a provision's SQL (``ProvisionSQL``) sent straight to GRDB as cached
/// statements on the real schema, one transaction per provision. `exact` splits the provision
/// figure into what SQLite needs for today's statements and what the Swift layers add; `lean`
/// shows what a rewrite with fewer statements would leave to gain.
struct SQLiteProvisionSQL {
    private let pool: DatabasePool
    private let values: [String: DatabaseValue]
    private var provisioned = 0

    init(path: String) async throws {
        let installer = try SQLiteDatabase(path: path, durability: .normal)
        try await Allies.install(on: installer)
        let allies = Allies(database: installer)
        let reseller = try await allies.make().user("bench-floor").company("Benchmark Reseller").create()
        try await allies.addCredits(reseller.refid, 1_000_000_000_000, actor: "benchmark")
        let revenue = try await allies.ledger.system(.revenue, unit: .credits).refid.rawValue
        try await installer.close()
        values = [
            "reseller": reseller.refid.rawValue.databaseValue, "wallet": reseller.wallet.rawValue.databaseValue,
            "credit": revenue.databaseValue, "revenue_owner": "system:revenue".databaseValue, "unit": "credits".databaseValue,
            "amount": 1.databaseValue, "lowest": (Int64.min + 1).databaseValue, "highest": (Int64.max - 1).databaseValue,
            "fingerprint": ProvisionSQL.fingerprint.databaseValue, "description": "Benchmark licence".databaseValue,
            "metadata": "{\"reseller\":\"\(reseller.refid.rawValue)\"}".databaseValue,
        ]
        pool = try rawPool(path: path, durability: .normal)
    }

    mutating func run(_ shape: ProvisionSQL.Shape, _ count: Int) async throws -> Double {
        let (pool, values, first) = (pool, values, provisioned)
        let seconds = try await measure {
            for index in first..<(first + count) {
                try await pool.write { db in
                    var values = values
                    values["key"] = "ally:provision:sql-\(index)".databaseValue
                    // Random like the ledger's: a random key lands on a random page of the refid index.
                    values["transfer_refid"] = Refid.generate(prefix: "TX-").rawValue.databaseValue
                    values["now"] = Timestamp(Date()).milliseconds.databaseValue
                    try ProvisionSQL.run(shape, on: db, values: values)
                }
            }
        }
        provisioned += count
        return Double(count) / seconds
    }

    func close() throws { try pool.close() }
}
