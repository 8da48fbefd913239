import Foundation
import SuiteCore
import SuiteStorage

/// What products and plans share: a table of things for sale, each with a refid, a unique slug,
/// an `active` flag and an audit table; created, looked up, listed and taken off sale alike.
struct CatalogTable<Item: Sendable>: Sendable {
    /// `wave_products`, `wave_plans`.
    let table: String
    /// The audit table and its owner column: `wave_product_audit`, `product_id`.
    let auditTable: String
    let auditOwner: String
    /// `product`, `plan`: how messages name an item.
    let noun: String
    let columns: String
    let decode: @Sendable (Row) throws -> Item
    let refid: @Sendable (Item) -> Refid

    func findByRefid(_ refid: Refid, in tx: any Transaction) throws -> Item? {
        try tx.queryFirst("SELECT \(raw: columns) FROM \(raw: table) WHERE refid = \(refid)").map(decode)
    }

    func findBySlug(_ slug: String, in tx: any Transaction) throws -> Item? {
        try tx.queryFirst("SELECT \(raw: columns) FROM \(raw: table) WHERE slug = \(slug)").map(decode)
    }

    /// One page, oldest first; the caller has checked `limit` (`WaveError.checkLimit`).
    func list(limit: Int, after cursor: Cursor?, in tx: any Transaction) throws -> Page<Item> {
        let decode = decode
        return try Keyset(table: table).page(
            select: columns, after: cursor, limit: limit, in: tx, invalidCursor: WaveError.invalidCursor,
            fetch: { try tx.query($0).map(decode) }, refid: refid)
    }

    /// Inserts an item (`names`/`values` are its own columns) and audits its creation; a slug in
    /// use throws `.duplicateSlug`. Returns the row id.
    func insert(slug: String, columns names: String, values: SQL, actor: String, at now: Timestamp,
                in tx: any Transaction) throws -> Int64 {
        let id: Int64
        do {
            id = try tx.insertReturningID("""
                INSERT INTO \(raw: table) (\(raw: names), active, version, created_at, updated_at)
                VALUES (\(values), 1, 1, \(now), \(now))
                """)
        } catch let error as StorageError where error.isUniqueViolation(mentioning: "slug") {
            throw WaveError(.duplicateSlug, message: "Duplicate Slug: another \(noun) already uses \(slug)")
        }
        try audit(id: id, version: 1, event: "created", actor: actor, at: now, in: tx)
        return id
    }

    /// Takes the item off sale for good (audited, event `deactivated`): the locked row's `active`
    /// goes to 0 by a version compare-and-set. Returns the item as read and the time of the change;
    /// throws `.notFound`, or `.statusTransitionDenied` if it is inactive already.
    func deactivate(_ refid: Refid, actor: String, isActive: (Item) -> Bool, at now: Timestamp,
                    in tx: any Transaction) throws -> Item {
        guard let row = try tx.queryFirst("""
            SELECT \(raw: columns) FROM \(raw: table) WHERE refid = \(refid)\(raw: tx.dialect.forUpdate)
            """)
        else { throw WaveError.notFound(noun, refid.rawValue) }
        let item = try decode(row)
        guard isActive(item) else {
            throw WaveError(.statusTransitionDenied, message: "Status Transition Denied: the \(noun) is already inactive")
        }
        let id = try row.int64("id")
        let version = try tx.advanceVersion(of: table, id: id, from: try row.int64("version"), setting: "active = 0, ", updatedAt: now)
        try audit(id: id, version: version, event: "deactivated", actor: actor, at: now, in: tx)
        return item
    }

    private func audit(id: Int64, version: Int64, event: String, actor: String, at: Timestamp, in tx: any Transaction) throws {
        try tx.execute("""
            INSERT INTO \(raw: auditTable) (\(raw: auditOwner), version, event, actor, at)
            VALUES (\(id), \(version), \(event), \(actor), \(at))
            """)
    }
}
