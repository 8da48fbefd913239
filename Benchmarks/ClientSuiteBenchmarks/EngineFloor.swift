import Client
import Foundation
import GRDB
import SuiteCore
import SuiteSQLite

/// A diagnostic, not a target: the exact statements `create()` and `activate()` run (Sources/Client/Clients.swift),
/// sent straight to GRDB on the same schema, one transaction per operation. Comparing with it splits a
/// Client figure into what SQLite needs for this schema and what the Swift layers above it add.
struct EngineFloor {
    private let pool: DatabasePool
    private var createdCount = 0
    /// Created clients still pending, oldest first.
    private var pending: [(refid: String, day: String)] = []

    init(path: String, durability: SQLiteDatabase.Durability) async throws {
        let installer = try SQLiteDatabase(path: path, durability: durability)
        try await Clients.install(on: installer)
        try await installer.close()
        pool = try rawPool(path: path, durability: durability)
    }

    mutating func create(_ count: Int) async throws -> Double {
        let (pool, first) = (pool, createdCount)
        var created: [(refid: String, day: String)] = []
        created.reserveCapacity(count)
        let seconds = try await measure {
            for index in first..<(first + count) {
                created.append(try await pool.write { db in
                    let refid = Refid.generate(prefix: "CL-").rawValue
                    let now = Timestamp(Date())
                    let day = CivilDate(dayNumber: now.utcDay).description
                    let email = "client-\(index)@bench.example"
                    let id = try Int64.fetchOne(db.cachedStatement(sql: """
                        INSERT INTO client_clients
                            (refid, name, email, email_normalized, phone, status, owner_refid, user_id, metadata, secret_metadata,
                             version, created_at, updated_at)
                        VALUES (?, ?, ?, ?, NULL, 'pending', NULL, NULL, '{}', NULL, 1, ?, ?)
                        RETURNING id
                        """), arguments: [refid, "Benchmark Client \(index)", email, email, now.milliseconds, now.milliseconds]) ?? 0
                    try Self.audit(db, id, 1, "created", from: nil, to: "pending", at: now)
                    try Self.rollup(db, day, "pending", by: 1)
                    return (refid, day)
                })
            }
        }
        createdCount += count
        pending += created
        return Double(count) / seconds
    }

    mutating func activate(_ count: Int) async throws -> Double {
        let pool = pool
        let batch = pending.prefix(count)
        let seconds = try await measure {
            for (refid, day) in batch {
                try await pool.write { db in
                    let now = Timestamp(Date())
                    let row = try GRDB.Row.fetchOne(db.cachedStatement(sql: """
                        SELECT id, refid, name, email, phone, status, owner_refid, user_id, metadata,
                        CASE WHEN secret_metadata IS NULL THEN 0 ELSE 1 END AS has_secret, version, created_at, updated_at
                        FROM client_clients WHERE refid = ?
                        """), arguments: [refid])
                    let id: Int64 = row?["id"] ?? 0
                    let version: Int64 = row?["version"] ?? 0
                    try db.cachedStatement(sql: """
                        UPDATE client_clients SET status = 'active', version = ?, updated_at = ? WHERE id = ? AND version = ?
                        """).execute(arguments: [version + 1, now.milliseconds, id, version])
                    try Self.audit(db, id, version + 1, "activate", from: "pending", to: "active", at: now)
                    try Self.rollup(db, day, "pending", by: -1)
                    try Self.rollup(db, day, "active", by: 1)
                }
            }
        }
        pending.removeFirst(count)
        return Double(count) / seconds
    }

    private static func audit(_ db: GRDB.Database, _ id: Int64, _ version: Int64, _ event: String, from: String?, to: String,
                              at: Timestamp) throws {
        try db.cachedStatement(sql: """
            INSERT INTO client_audit (client_id, version, event, from_status, to_status, actor, reason, at)
            VALUES (?, ?, ?, ?, ?, 'system', NULL, ?)
            """).execute(arguments: [id, version, event, from, to, at.milliseconds])
    }

    private static func rollup(_ db: GRDB.Database, _ day: String, _ status: String, by delta: Int) throws {
        try db.cachedStatement(sql: """
            INSERT INTO client_daily_stats (day, scope, status, clients) VALUES (?, '*', ?, ?), (?, '', ?, ?)
            ON CONFLICT (scope, day, status) DO UPDATE SET clients = client_daily_stats.clients + excluded.clients
            """).execute(arguments: [day, status, delta, day, status, delta])
    }

    func close() throws { try pool.close() }
}
