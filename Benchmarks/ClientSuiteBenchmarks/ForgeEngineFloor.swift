import Client
import Forge
import Foundation
import GRDB
import SuiteCore
import SuiteSQLite

/// Diagnostic 10f, not a target: the statements `mintActivated(for:)` runs (Sources/Forge/Licences.swift,
/// `mint(_:activatingFor:…)`: the client lookup, the licence `INSERT` and the two audit rows), sent
/// straight to GRDB (cached statements) on the real Client and Forge schema, one transaction per
/// licence, with no Swift layer above GRDB. The key digest and refid are random values of the same
/// shape as the real ones, made outside the timed transaction. Comparing with it splits figure 10
/// into what SQLite needs for this schema and what the Forge code adds.
struct ForgeEngineFloor {
    private let pool: DatabasePool
    private let client: String

    init(path: String) async throws {
        let installer = try SQLiteDatabase(path: path, durability: .normal)
        try await Clients.install(on: installer)
        try await Licences.install(on: installer)
        let clients = Clients(database: installer, configuration: try ClientConfiguration(defaultStatus: .active))
        client = try await clients.make().name("Floor Client").email("floor@bench.example").create().refid.rawValue
        try await installer.close()
        pool = try rawPool(path: path, durability: .normal)
    }

    /// `count` licences minted active, each in its own write transaction. Returns operations per second.
    func mintActivated(_ count: Int) async throws -> Double {
        let (pool, client) = (pool, client)
        var generator = SystemRandomNumberGenerator()
        let seconds = try await measure {
            for _ in 0..<count {
                let refid = Refid.generate(prefix: "LC-").rawValue
                let words: [UInt64] = [generator.next(), generator.next(), generator.next(), generator.next()]
                let digest = words.withUnsafeBytes { lowercaseHex($0) }  // 64 hex digits, like a SHA-256
                let hint = String(digest.suffix(5)).uppercased()
                let now = Timestamp(Date()).milliseconds
                try await pool.write { db in
                    guard let status = try String.fetchOne(
                        db.cachedStatement(sql: "SELECT name, email, owner_refid, status FROM client_clients WHERE refid = ?"),
                        arguments: [client], adapter: SuffixRowAdapter(fromIndex: 3)),
                        status == "active"
                    else { throw BenchmarkError(message: "the floor's client is missing or not active") }
                    try db.cachedStatement(sql: """
                        INSERT INTO forge_licences (refid, key_digest, key_hint, product, client_refid, reseller_refid, status,
                                                    duration_days, metadata, version, created_at, activated_at, expires_at, updated_at)
                        VALUES (?, ?, ?, 'PRO', ?, NULL, 'active', 365, '{}', 2, ?, ?, ?, ?)
                        """).execute(arguments: [refid, digest, hint, client, now, now, now + 365 * 86_400_000, now])
                    let id = db.lastInsertedRowID
                    try db.cachedStatement(sql: """
                        INSERT INTO forge_audit (licence_id, version, event, from_status, to_status, actor, reason, detail, at)
                        VALUES (?, 1, 'minted', NULL, 'pending', 'system', NULL, '365 days', ?),
                               (?, 2, 'activated', 'pending', 'active', 'system', NULL, ?, ?)
                        """).execute(arguments: [id, now, id, client, now])
                }
            }
        }
        return Double(count) / seconds
    }

    func close() throws { try pool.close() }
}
