import Foundation
import GRDB
import SuiteSQLite

/// The raw engine: GRDB on a WAL `DatabasePool` at the durability of what it is compared with,
/// one single-row INSERT per write transaction. Every write figure is a ratio to this.
struct BaselineInserts {
    private let pool: DatabasePool
    /// Rows inserted so far, so every run writes fresh values.
    private var inserted = 0

    init(path: String, durability: SQLiteDatabase.Durability) throws {
        pool = try rawPool(path: path, durability: durability)
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE bench (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b TEXT NOT NULL, c REAL NOT NULL)")
        }
    }

    /// `PRAGMA journal_mode` and `PRAGMA synchronous` on the write connection (readers keep SQLite's FULL default).
    func settings() async throws -> (journalMode: String, synchronous: Int) {
        try await pool.write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
        }
    }

    /// Runs `count` sequential insert transactions and returns their rate in operations per second.
    mutating func run(_ count: Int) async throws -> Double {
        let first = inserted
        inserted += count
        let pool = pool
        let seconds = try await measure {
            for index in first..<(first + count) {
                try await pool.write { db in
                    try db.execute(sql: "INSERT INTO bench(a, b, c) VALUES (?, ?, ?)",
                                   arguments: [index, "row \(index)", Double(index) * 0.5])
                }
            }
        }
        return Double(count) / seconds
    }

    func close() throws { try pool.close() }
}
