import Foundation
public import SuiteCore
import SuiteStorage

extension Licences {
    // MARK: Revocation and renewal

    /// Revokes a pending, active or expired licence for good.
    @discardableResult
    public func revoke(_ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Licence {
        let actor = try Self.text(actor, field: "actor", maximum: 255)
        let reason = try reason.map { try Self.text($0, field: "reason", maximum: 1_000) }
        return try await database.write { tx in
            let (row, current) = try self.locked(refid, in: tx)
            let move = LicenceTransition.revoke
            let target = try move.target(from: current.status, orThrow: ForgeError.transitionDenied)
            let now = Timestamp(self.clock.now())
            let version = try tx.advanceVersion(of: "forge_licences", id: row.id, from: row.version,
                                                setting: "status = \(target.rawValue), revoked_at = \(now), ", updatedAt: now)
            try self.audit(id: row.id, version: version, event: move.auditEvent, from: current.status, to: target,
                           actor: actor, reason: reason, detail: nil, at: now, in: tx)
            var licence = current
            licence.status = target
            licence.revokedAt = now.date
            let events = self.events, revoked = LicenceRevoked(licence: refid, reason: reason)
            tx.afterCommit { events.publish(revoked) }
            return licence
        }
    }

    /// Extends an activated licence by `days`: from its expiry, or from now if that has passed
    /// (an expired licence becomes active again). Lifetime, pending and revoked licences refuse.
    @discardableResult
    public func renew(_ refid: Refid, days: Int, actor: String = "system") async throws -> Licence {
        let actor = try Self.text(actor, field: "actor", maximum: 255)
        guard (1...Self.maximumDays).contains(days) else { throw ForgeError.invalid("days", "use 1…\(Self.maximumDays)") }
        return try await database.write { tx in
            let (row, current) = try self.locked(refid, in: tx)
            let move = LicenceTransition.renew
            let target = try move.target(from: current.status, orThrow: ForgeError.transitionDenied)
            guard let expiresAt = current.expiresAt else {
                throw ForgeError(.statusConflict, message: "Renewal Denied: a lifetime licence does not expire")
            }
            let now = Timestamp(self.clock.now())
            let from = max(Timestamp(expiresAt), now)
            let expires = try Self.adding(days: days, to: from)
            let version = try tx.advanceVersion(of: "forge_licences", id: row.id, from: row.version,
                                                setting: "status = \(target.rawValue), expires_at = \(expires), ", updatedAt: now)
            try self.audit(id: row.id, version: version, event: move.auditEvent, from: current.status, to: target,
                           actor: actor, reason: nil, detail: "+\(days) days", at: now, in: tx)
            var licence = current
            licence.status = target
            licence.expiresAt = expires.date
            return licence
        }
    }

    // MARK: Expiry sweep

    /// Records up to `limit` active licences whose term has passed as expired (audited, actor
    /// `expiry-sweep`) and returns how many. Verification never waits for this.
    public func markExpired(limit: Int = 500) async throws -> Int {
        guard (1...10_000).contains(limit) else { throw ForgeError.invalid("limit", "use 1…10000") }
        return try await database.write { tx in
            let now = Timestamp(self.clock.now())
            let rows = try tx.query("""
                SELECT id, version FROM forge_licences WHERE status = 'active' AND expires_at <= \(now)
                ORDER BY expires_at LIMIT \(limit)\(raw: tx.dialect.forUpdate)
                """)
            for row in rows {
                let id = try row.int64("id")
                let version = try tx.advanceVersion(of: "forge_licences", id: id, from: try row.int64("version"),
                                                    setting: "status = \(LicenceTransition.expire.target.rawValue), ", updatedAt: now)
                try self.audit(id: id, version: version, event: LicenceTransition.expire.auditEvent, from: .active,
                               to: LicenceTransition.expire.target, actor: "expiry-sweep",
                               reason: nil, detail: nil, at: now, in: tx)
            }
            return rows.count
        }
    }
}
