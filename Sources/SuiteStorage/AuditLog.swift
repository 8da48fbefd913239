public import Foundation
public import SuiteCore

/// One entry of an audit trail: who moved what, when, from which status to which, and why.
/// Every module's trail (clients, resellers, licences, invoices, subscriptions, holds) is a list
/// of these, oldest first.
///
/// ```swift
/// for entry in try await clients.auditTrail(of: acme.refid) {
///     print(entry.at, entry.event, entry.fromStatus ?? "-", "→", entry.toStatus ?? "-", entry.actor)
/// }
/// ```
public struct AuditEntry<Status: RawRepresentable & Hashable & Sendable & Codable>: Hashable, Sendable, Codable
where Status.RawValue == String {
    /// What happened: `created`, a transition's name (`activate`, `capture`…), or another event.
    public var event: String
    /// The status before; nil for a creation or an event that is not a transition.
    @ExplicitNull public var fromStatus: Status?
    /// The status after; nil for an event that is not a transition.
    @ExplicitNull public var toStatus: Status?
    /// Who acted (a user, `system`, `cli`, an expiry sweep…).
    public var actor: String
    /// Why, as the actor gave it.
    @ExplicitNull public var reason: String?
    /// What else the module recorded (a licence's term, a payment's reference…).
    @ExplicitNull public var detail: String?
    /// When it happened.
    public var at: Date

    /// An entry as a module reads it back from its audit table.
    public init(event: String, fromStatus: Status?, toStatus: Status?, actor: String, reason: String? = nil,
                detail: String? = nil, at: Date) {
        self.event = event
        self.fromStatus = fromStatus
        self.toStatus = toStatus
        self.actor = actor
        self.reason = reason
        self.detail = detail
        self.at = at
    }
}

/// A module's audit table, written in the same transaction as the change it records:
/// `(<owner>_id, version, event, from_status, to_status, actor, reason[, detail], at)`, keyed by
/// the owner row and its version, so a change and its entry commit or roll back together.
///
/// ```swift
/// static let log = AuditLog<ClientStatus>(table: "client_audit", owner: "client_id")
/// try Self.log.record(owner: row.id, version: version, event: "activate", from: .pending, to: .active,
///                     actor: actor, reason: reason, at: now, in: tx)
/// ```
public struct AuditLog<Status: RawRepresentable & Hashable & Sendable & Codable>: Sendable where Status.RawValue == String {
    /// The table (a trusted identifier).
    public let table: String
    /// The column that holds the audited row's id.
    public let owner: String
    /// Whether the table has a `detail` column.
    public let hasDetail: Bool

    /// The log in `table`, whose `owner` column holds the audited row's id.
    public init(table: String, owner: String, hasDetail: Bool = false) {
        self.table = table
        self.owner = owner
        self.hasDetail = hasDetail
    }

    /// One entry to write: version `version` of the owner row `owner`.
    public struct Record: Sendable {
        /// The audited row's numeric id.
        public var owner: Int64
        /// The row's version after the change.
        public var version: Int64
        /// What happened: `created`, a transition's name, or another event.
        public var event: String
        /// The status before; nil for a creation or an event that is not a transition.
        public var from: Status?
        /// The status after; nil for an event that is not a transition.
        public var to: Status?
        /// Who acted.
        public var actor: String
        /// Why, as the actor gave it.
        public var reason: String?
        /// What else to record; written only when the table has a `detail` column.
        public var detail: String?
        /// When it happened.
        public var at: Timestamp

        /// An entry for version `version` of row `owner`.
        public init(owner: Int64, version: Int64, event: String, from: Status?, to: Status?, actor: String,
                    reason: String? = nil, detail: String? = nil, at: Timestamp) {
            self.owner = owner
            self.version = version
            self.event = event
            self.from = from
            self.to = to
            self.actor = actor
            self.reason = reason
            self.detail = detail
            self.at = at
        }
    }

    /// Writes one entry for version `version` of the owner row: one statement, built without
    /// intermediate fragments (it is on every audited change's hot path).
    public func record(owner id: Int64, version: Int64, event: String, from: Status?, to: Status?, actor: String,
                       reason: String? = nil, detail: String? = nil, at: Timestamp, in tx: any Transaction) throws {
        if hasDetail {
            try tx.execute("""
                INSERT INTO \(raw: table) (\(raw: owner), version, event, from_status, to_status, actor, reason, detail, at)
                VALUES (\(id), \(version), \(event), \(from?.rawValue), \(to?.rawValue), \(actor), \(reason), \(detail), \(at))
                """)
        } else {
            try tx.execute("""
                INSERT INTO \(raw: table) (\(raw: owner), version, event, from_status, to_status, actor, reason, at)
                VALUES (\(id), \(version), \(event), \(from?.rawValue), \(to?.rawValue), \(actor), \(reason), \(at))
                """)
        }
    }

    /// Writes several entries in one statement. `deferred` sends it with the transaction's next
    /// round trip where the engine allows it (a licence minted and activated at once records both).
    public func record(_ records: [Record], deferred: Bool = false, in tx: any Transaction) throws {
        guard !records.isEmpty else { return }
        let rows = records.map { entry -> SQL in
            let detail: SQL = hasDetail ? ", \(entry.detail)" : ""
            return "(\(entry.owner), \(entry.version), \(entry.event), \(entry.from?.rawValue), \(entry.to?.rawValue), "
                + "\(entry.actor), \(entry.reason)\(detail), \(entry.at))"
        }
        let statement: SQL = """
            INSERT INTO \(raw: table) (\(raw: owner), version, event, from_status, to_status, actor, reason\(raw: hasDetail ? ", detail" : ""), at)
            VALUES \(SQL.joined(rows, separator: ", "))
            """
        if deferred { try tx.executeDeferred(statement) } else { try tx.execute(statement) }
    }

    /// The trail of one owner row, oldest first.
    public func trail(owner id: Int64, limit: Int, in tx: any Transaction) throws -> [AuditEntry<Status>] {
        try tx.query("""
            SELECT event, from_status, to_status, actor, reason, \(raw: hasDetail ? "detail" : "NULL AS detail"), at
            FROM \(raw: table) WHERE \(raw: owner) = \(id) ORDER BY version LIMIT \(limit)
            """).map { row in
            AuditEntry(event: try row.string("event"),
                       fromStatus: try row.optionalString("from_status").flatMap(Status.init(rawValue:)),
                       toStatus: try row.optionalString("to_status").flatMap(Status.init(rawValue:)),
                       actor: try row.string("actor"), reason: try row.optionalString("reason"),
                       detail: try row.optionalString("detail"), at: try row.timestamp("at").date)
        }
    }
}
