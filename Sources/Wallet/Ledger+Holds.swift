import Crypto
import Foundation
public import SuiteCore
public import SuiteStorage

// Holds: reserve, then capture or void, or expire. The guarantees and their reasons are in
// Documentation.docc/Holds.md; each guard is commented where it is enforced below.
extension Ledger {
    // MARK: Reserving

    /// Reserves `amount` (minor units, > 0) of `account`'s available funds until the hold is
    /// captured, voided or expires, in its own transaction.
    ///
    /// - Parameters:
    ///   - expiresIn: the hold's lifetime, at most ``HoldPolicy/maximumDuration``; nil uses
    ///     ``HoldPolicy/defaultDuration``. Measured on the ledger's ``Ledger/clock``.
    ///   - actor: who reserves, for the audit trail.
    ///   - idempotencyKey: a retry with the same key and parameters returns the first hold (in its
    ///     current status, `isNew == false`) and writes nothing; the same key with other parameters
    ///     throws `.idempotencyConflict`. Hold keys are separate from transfer keys.
    /// - Throws: `.insufficientFunds` (with the available amount), `.invalidAmount`, `.validation`,
    ///   `.accountNotFound`, `.idempotencyConflict`; then nothing is written.
    ///
    /// ```swift
    /// let hold = try await ledger.reserve(500, from: wallet.refid, description: "Seat booking", expiresIn: .seconds(600))
    /// ```
    @discardableResult
    public func reserve(_ amount: Int64, from account: Refid, description: String, metadata: Metadata = [:],
                        expiresIn: Duration? = nil, actor: String = "system", idempotencyKey: String? = nil) async throws -> Hold {
        // A concurrent call with the same key may commit first (a unique violation), or, on
        // PostgreSQL, commit between our key lookup and our reservation, taking the funds we were
        // about to hold: the second run finds its hold (or refuses again if the key is genuinely new).
        try await database.writeResolvingRace(onUnique: "idempotency_key", alsoRetrying: { error in
            (error as? WalletError)?.code == .insufficientFunds && idempotencyKey != nil
        }) { tx in
            try self.reserve(amount, from: account, description: description, metadata: metadata, expiresIn: expiresIn,
                             actor: actor, idempotencyKey: idempotencyKey, in: tx)
        }
    }

    /// The same, inside an open transaction — so a workflow can reserve as part of a larger change.
    /// A concurrent reservation with the same key may surface here as a `StorageError` unique
    /// violation (PostgreSQL); retrying the transaction then returns the first hold.
    ///
    /// ```swift
    /// try await database.write { tx in
    ///     let hold = try ledger.reserve(500, from: wallet, description: "Order 42", in: tx)
    ///     try orders.attach(hold.refid, to: order, in: tx)
    /// }
    /// ```
    @discardableResult
    public func reserve(_ amount: Int64, from account: Refid, description: String, metadata: Metadata = [:],
                        expiresIn: Duration? = nil, actor: String = "system", idempotencyKey: String? = nil,
                        in tx: any Transaction) throws -> Hold {
        guard amount > 0 else { throw WalletError(.invalidAmount, message: "Invalid amount: must be greater than zero") }
        let description = try Self.holdDescription(description)
        let actor = try Self.actor(actor)
        let key = try Self.key(idempotencyKey)
        let metadataText = metadata.jsonText()
        guard metadataText.utf8.count <= 16_384 else { throw WalletError.invalid("metadata", "at most 16384 bytes of JSON") }
        let lifetime = expiresIn ?? holdPolicy.defaultDuration
        guard lifetime >= .milliseconds(1), lifetime <= holdPolicy.maximumDuration else {
            throw WalletError.invalid("expiry", "between 1 millisecond and \(Self.milliseconds(holdPolicy.maximumDuration) / 1000) seconds")
        }
        let lifetimeMilliseconds = Self.milliseconds(lifetime)
        let fingerprint = Self.holdFingerprint(account: account, amount: amount, description: description,
                                               metadata: metadataText, lifetime: lifetimeMilliseconds)

        if let key, let existing = try key.replay("\(raw: Self.holdSelect) WHERE h.idempotency_key = \(key.rawValue)",
                                                  fingerprint: fingerprint, in: tx, orThrow: { WalletError.idempotencyConflict }) {
            return try Self.decodeHold(existing, isNew: false)
        }

        let holder = try self.account(account, in: tx)
        guard !holder.isSystem else { throw WalletError.invalid("account", "system accounts cannot hold funds") }
        let now = Timestamp(clock.now())
        let (expiry, overflow) = now.milliseconds.addingReportingOverflow(lifetimeMilliseconds)
        guard !overflow else { throw WalletError.invalid("expiry", "the expiry instant is out of range") }
        // held + amount ≤ balance follows from the condition, so the addition cannot overflow.
        guard try tx.queryInt64("""
            UPDATE wallet_accounts SET held = held + \(amount)
            WHERE refid = \(account) AND is_system = 0 AND balance - held >= \(amount) AND frozen = 0
            RETURNING held
            """) != nil
        else {
            let current = try self.account(account, in: tx)
            guard current.standing == .open else { throw WalletError.accountFrozen }
            throw WalletError.insufficientFunds(available: current.available, held: current.held, amount: amount)
        }

        let refid = Refid.generate(prefix: "HD-")
        let holdID = try tx.insertReturningID("""
            INSERT INTO wallet_holds (refid, account_id, amount, status, description, metadata, idempotency_key, fingerprint,
                                      expires_at, created_at, created_by)
            VALUES (\(refid), (SELECT id FROM wallet_accounts WHERE refid = \(account)), \(amount), 'pending', \(description),
                    \(metadataText), \(idempotencyKey), \(fingerprint), \(expiry), \(now), \(actor))
            """)
        try audit(holdID: holdID, version: 1, event: "reserve", from: nil, to: .pending, actor: actor, reason: nil, at: now, in: tx)
        return Hold(refid: refid, account: account, unit: holder.unit, amount: amount, status: .pending,
                    description: description, metadata: metadata, idempotencyKey: idempotencyKey,
                    expiresAt: Timestamp(milliseconds: expiry).date, createdAt: now.date, createdBy: actor, isNew: true)
    }

    // MARK: Capturing

    /// Captures a pending hold, in its own transaction: moves `amount` (nil: the whole hold) from the
    /// held account to `destination` as one ``Transfer``, and releases the rest of the hold.
    ///
    /// The result carries the captured ``Hold`` and the transfer; ``Hold/captureTransfer`` keeps the
    /// transfer's refid, so a caller that lost the reply can read it back with ``hold(_:)``.
    ///
    /// - Parameters:
    ///   - description: the transfer's description; nil uses the hold's.
    /// - Throws: `.holdNotFound`; `.holdNotPending` (naming the status) if it was already captured,
    ///   voided or expired; `.holdExpired` if it is past its expiry — the hold is then marked
    ///   `expired` and its funds released (that part is committed); `.invalidAmount` for an amount
    ///   that is not positive, exceeds the hold, or would overflow the destination; `.unitMismatch`,
    ///   `.accountNotFound`, `.validation`. Apart from the expiry, a refused capture writes nothing.
    ///
    /// ```swift
    /// let capture = try await ledger.capture(hold.refid, to: revenue.refid, actor: "checkout")
    /// print(capture.transfer.refid, capture.hold.status)   // TX-…, captured
    /// ```
    @discardableResult
    public func capture(_ hold: Refid, amount: Int64? = nil, to destination: Refid, description: String? = nil,
                        actor: String = "system") async throws -> HoldCapture {
        let outcome = try await database.write { tx in
            try self.captureOrExpire(hold, amount: amount, to: destination, description: description, actor: actor, in: tx)
        }
        switch outcome {
        case .captured(let capture): return capture
        // Thrown only now, after the commit, so that the expiry is kept.
        case .expired: throw WalletError.holdExpired()
        }
    }

    /// The same, inside an open transaction.
    ///
    /// A hold found past its expiry is marked `expired` in `tx` before `.holdExpired` is thrown; if the
    /// caller lets the error roll `tx` back, the hold stays pending until the next sweep expires it.
    ///
    /// ```swift
    /// try await database.write { tx in
    ///     let capture = try ledger.capture(hold, to: revenue, actor: "checkout", in: tx)
    ///     try licences.mint(for: order, paidBy: capture.transfer.refid, in: tx)
    /// }
    /// ```
    @discardableResult
    public func capture(_ hold: Refid, amount: Int64? = nil, to destination: Refid, description: String? = nil,
                        actor: String = "system", in tx: any Transaction) throws -> HoldCapture {
        switch try captureOrExpire(hold, amount: amount, to: destination, description: description, actor: actor, in: tx) {
        case .captured(let capture): return capture
        case .expired: throw WalletError.holdExpired()
        }
    }

    // MARK: Voiding

    /// Voids a pending hold, in its own transaction: releases its whole amount back to the
    /// account's available funds. A hold past its expiry but not yet swept can still be voided.
    ///
    /// - Throws: `.holdNotFound`; `.holdNotPending` (naming the status) if it was already captured,
    ///   voided or expired; `.validation` for a bad actor or reason. Then nothing is written.
    ///
    /// ```swift
    /// let released = try await ledger.void(hold.refid, actor: "support", reason: "order cancelled")
    /// print(released.status)   // voided
    /// ```
    @discardableResult
    public func void(_ hold: Refid, actor: String = "system", reason: String? = nil) async throws -> Hold {
        try await database.write { tx in try self.void(hold, actor: actor, reason: reason, in: tx) }
    }

    /// The same, inside an open transaction.
    ///
    /// ```swift
    /// try await database.write { tx in try ledger.void(hold, actor: "support", reason: "duplicate", in: tx) }
    /// ```
    @discardableResult
    public func void(_ hold: Refid, actor: String = "system", reason: String? = nil, in tx: any Transaction) throws -> Hold {
        let actor = try Self.actor(actor)
        let reason = try Self.reason(reason)
        let (row, current) = try pendingHold(hold, for: .void, in: tx)
        let now = Timestamp(clock.now())
        try resolve(row, as: .void, actor: actor, reason: reason, at: now, in: tx)
        try release(current.amount, ofAccount: try row.int64("account_id"), in: tx)
        var voided = current
        voided.status = .voided
        voided.resolvedAt = now.date
        voided.resolvedBy = actor
        voided.resolutionReason = reason
        return voided
    }

    // MARK: Expiry

    /// Expires one batch of pending holds whose expiry has passed on the ledger's clock, oldest
    /// first, in one transaction: each becomes `expired` (resolved by ``Hold/expiryActor``) and its
    /// funds are released. Returns how many it expired; call again until it returns less than
    /// `limit`, or let ``HoldExpirySweeper`` do it.
    ///
    /// Concurrent sweeps, captures and voids resolve each hold once: the batch is locked in one
    /// order (on PostgreSQL) and every status change is conditional on `pending`.
    ///
    /// ```swift
    /// while try await ledger.voidExpiredHolds(limit: 500) == 500 {}
    /// ```
    @discardableResult
    public func voidExpiredHolds(limit: Int = 500) async throws -> Int {
        guard (1...10_000).contains(limit) else { throw WalletError.invalid("limit", "use 1…10000") }
        return try await database.write { tx in try self.voidExpiredHolds(limit: limit, in: tx) }
    }

    /// The same, inside an open transaction.
    ///
    /// ```swift
    /// let expired = try await database.write { tx in try ledger.voidExpiredHolds(limit: 100, in: tx) }
    /// ```
    @discardableResult
    public func voidExpiredHolds(limit: Int = 500, in tx: any Transaction) throws -> Int {
        guard (1...10_000).contains(limit) else { throw WalletError.invalid("limit", "use 1…10000") }
        let now = Timestamp(clock.now())
        // `status = 'pending'` is spelled out, not bound, so that SQLite uses the partial index.
        let candidates = try tx.query("""
            SELECT h.id FROM wallet_holds h WHERE h.status = 'pending' AND h.expires_at <= \(now)
            ORDER BY h.expires_at, h.id LIMIT \(limit)\(raw: tx.dialect.forUpdate)
            """)
        guard !candidates.isEmpty else { return 0 }
        let ids = SQL.joined(try candidates.map { row -> SQL in "\(try row.int64("id"))" }, separator: ", ")
        let expired = try tx.query("""
            UPDATE wallet_holds SET status = 'expired', resolved_at = \(now), resolved_by = \(Hold.expiryActor),
                                    resolution_reason = 'expired'
            WHERE status = 'pending' AND id IN (\(ids))
            RETURNING id, account_id, amount
            """)
        guard !expired.isEmpty else { return 0 }
        var releases: [Int64: Int64] = [:]
        for row in expired {
            let (sum, overflow) = releases[try row.int64("account_id"), default: 0].addingReportingOverflow(try row.int64("amount"))
            guard !overflow else { throw Self.inconsistentHeld() }
            releases[try row.int64("account_id")] = sum
        }
        // Accounts in id order, so that two sweeps never wait on each other in a cycle.
        for (account, amount) in releases.sorted(by: { $0.key < $1.key }) {
            try release(amount, ofAccount: account, in: tx)
        }
        try Self.auditLog.record(try expired.map {
            .init(owner: try $0.int64("id"), version: 2, event: "expire", from: .pending, to: .expired, actor: Hold.expiryActor,
                  reason: "expired", at: now)
        }, in: tx)
        return expired.count
    }

    // MARK: Reading

    /// The hold with `refid`. Its status is as stored: a pending hold past its ``Hold/expiresAt``
    /// is expired in effect (see ``Hold/isPastExpiry(at:)``) until a sweep or a capture marks it.
    ///
    /// ```swift
    /// let hold = try await ledger.hold(refid)
    /// if hold.status == .captured { print(hold.captureTransfer!) }
    /// ```
    public func hold(_ refid: Refid) async throws -> Hold {
        try await database.read { tx in try self.hold(refid, in: tx) }
    }

    /// The same, inside an open transaction.
    ///
    /// ```swift
    /// let hold = try await database.read { tx in try ledger.hold(refid, in: tx) }
    /// ```
    public func hold(_ refid: Refid, in tx: any Transaction) throws -> Hold {
        guard let row = try tx.queryFirst("\(raw: Self.holdSelect) WHERE h.refid = \(refid)") else {
            throw WalletError.holdNotFound(refid)
        }
        return try Self.decodeHold(row, isNew: false)
    }

    /// The hold's audit trail, oldest first: its reservation and, once resolved, its capture, void or expiry.
    ///
    /// ```swift
    /// for entry in try await ledger.auditTrail(ofHold: hold.refid) { print(entry.event, entry.actor, entry.at) }
    /// ```
    public func auditTrail(ofHold refid: Refid) async throws -> [HoldAuditEntry] {
        try await database.read { tx in
            guard let id = try tx.queryInt64("SELECT id FROM wallet_holds WHERE refid = \(refid)") else {
                throw WalletError.holdNotFound(refid)
            }
            // A hold has at most two entries (reserve, then one resolution): the LIMIT never cuts.
            return try Self.auditLog.trail(owner: id, limit: 10, in: tx)
        }
    }

    // MARK: Internals

    enum CaptureOutcome: Sendable {
        case captured(HoldCapture)
        /// The hold was past its expiry: it is now `expired` in the transaction.
        case expired
    }

    func captureOrExpire(_ refid: Refid, amount: Int64?, to destination: Refid, description: String?, actor: String,
                         in tx: any Transaction) throws -> CaptureOutcome {
        let actor = try Self.actor(actor)
        if let amount, amount <= 0 { throw WalletError(.invalidAmount, message: "Invalid amount: must be greater than zero") }
        let transferDescription = try description.map(Self.holdDescription)
        let (row, hold) = try pendingHold(refid, for: .capture, in: tx)
        let captured = amount ?? hold.amount
        guard captured <= hold.amount else {
            throw WalletError(.invalidAmount, message: "Invalid amount: more than the \(hold.amount) held")
        }
        guard destination != hold.account else { throw WalletError.invalid("accounts", "capture into another account") }
        let target = try account(destination, in: tx)
        guard target.unit == hold.unit else {
            throw WalletError(.unitMismatch, message: "Unit Mismatch: cannot move \(hold.unit) into a \(target.unit) account")
        }
        let now = Timestamp(clock.now())
        let accountID = try row.int64("account_id")

        guard now.date < hold.expiresAt else {
            try resolve(row, as: .expire, actor: Hold.expiryActor, reason: "expired before capture", at: now, in: tx)
            try release(hold.amount, ofAccount: accountID, in: tx)
            return .expired
        }

        // The hold first: of a capture, a void and a sweep racing on it, exactly one gets past here,
        // and the others have written nothing.
        let releasedPart = hold.amount - captured
        try resolve(row, as: .capture, actor: actor,
                    reason: releasedPart > 0 ? "captured \(captured) of \(hold.amount)" : nil, at: now, in: tx,
                    setting: "captured_amount = \(captured), ")
        // Releases the whole hold and debits the captured part in one step; balance ≥ held keeps both ≥ 0.
        guard let debitAfter = try tx.queryInt64("""
            UPDATE wallet_accounts SET held = held - \(hold.amount), balance = balance - \(captured)
            WHERE id = \(accountID) AND held >= \(hold.amount) AND balance >= \(captured)
            RETURNING balance
            """)
        else { throw Self.inconsistentHeld() }
        let description = transferDescription ?? hold.description
        let metadata = hold.metadata.merging(metadata: ["hold": .string(hold.refid.rawValue)])
        let metadataText = metadata.jsonText()
        let (transfer, transferID) = try creditAndRecord(
            destination, amount: captured, from: hold.account, debitAfter: debitAfter, unit: hold.unit, description: description,
            metadata: metadata, metadataText: metadataText, idempotencyKey: nil,
            fingerprint: Self.fingerprint(debit: hold.account, credit: destination, amount: captured, description: description,
                                          metadata: metadataText),
            in: tx)
        try tx.execute("UPDATE wallet_holds SET capture_transfer_id = \(transferID) WHERE id = \(try row.int64("id"))")

        var result = hold
        result.status = .captured
        result.resolvedAt = now.date
        result.resolvedBy = actor
        result.resolutionReason = releasedPart > 0 ? "captured \(captured) of \(hold.amount)" : nil
        result.capturedAmount = captured
        result.captureTransfer = transfer.refid
        return .captured(HoldCapture(hold: result, transfer: transfer, released: releasedPart))
    }

    /// The hold's row and value; throws unless it exists and `move` is allowed from its status.
    private func pendingHold(_ refid: Refid, for move: HoldTransition, in tx: any Transaction) throws -> (Row, Hold) {
        guard let row = try tx.queryFirst("\(raw: Self.holdSelect) WHERE h.refid = \(refid)") else {
            throw WalletError.holdNotFound(refid)
        }
        let hold = try Self.decodeHold(row, isNew: false)
        try move.target(from: hold.status) { _, status in WalletError.holdNotPending(status) }
        return (row, hold)
    }

    /// Moves the hold out of `pending` with a compare-and-set on its status, and audits the move.
    /// Throws `.holdNotPending` if a concurrent transaction resolved it first.
    private func resolve(_ row: Row, as move: HoldTransition, actor: String, reason: String?, at now: Timestamp,
                         in tx: any Transaction, setting assignments: SQL = "") throws {
        let id = try row.int64("id")
        let changed = try tx.execute("""
            UPDATE wallet_holds SET \(assignments)status = \(move.target.rawValue), resolved_at = \(now), resolved_by = \(actor),
                                    resolution_reason = \(reason)
            WHERE id = \(id) AND status = 'pending'
            """)
        guard changed == 1 else {
            let status = try tx.queryFirst("SELECT status FROM wallet_holds WHERE id = \(id)")
                .map { try Self.holdStatus(try $0.string("status")) }
            throw WalletError.holdNotPending(status ?? move.target)
        }
        try audit(holdID: id, version: 2, event: move.rawValue, from: .pending, to: move.target, actor: actor, reason: reason,
                  at: now, in: tx)
    }

    /// Returns `amount` of held funds to the account's available balance.
    private func release(_ amount: Int64, ofAccount id: Int64, in tx: any Transaction) throws {
        let changed = try tx.execute("UPDATE wallet_accounts SET held = held - \(amount) WHERE id = \(id) AND held >= \(amount)")
        guard changed == 1 else { throw Self.inconsistentHeld() }
    }

    static let auditLog = AuditLog<HoldStatus>(table: "wallet_hold_audit", owner: "hold_id")

    private func audit(holdID: Int64, version: Int64, event: String, from: HoldStatus?, to: HoldStatus, actor: String,
                       reason: String?, at: Timestamp, in tx: any Transaction) throws {
        try Self.auditLog.record(owner: holdID, version: version, event: event, from: from, to: to, actor: actor, reason: reason,
                                 at: at, in: tx)
    }

    static let holdSelect = """
        SELECT h.id, h.account_id, h.refid, a.refid AS account_refid, a.unit, h.amount, h.status, h.description, h.metadata,
               h.idempotency_key, h.fingerprint, h.expires_at, h.created_at, h.created_by, h.resolved_at, h.resolved_by,
               h.resolution_reason, h.captured_amount, t.refid AS transfer_refid
        FROM wallet_holds h JOIN wallet_accounts a ON a.id = h.account_id
        LEFT JOIN wallet_transfers t ON t.id = h.capture_transfer_id
        """

    static func decodeHold(_ row: Row, isNew: Bool) throws -> Hold {
        Hold(refid: try row.refid("refid"), account: try row.refid("account_refid"), unit: Unit(unchecked: try row.string("unit")),
             amount: try row.int64("amount"), status: try holdStatus(try row.string("status")),
             description: try row.string("description"), metadata: Metadata(jsonText: try row.string("metadata")) ?? [:],
             idempotencyKey: try row.optionalString("idempotency_key"), expiresAt: try row.timestamp("expires_at").date,
             createdAt: try row.timestamp("created_at").date, createdBy: try row.string("created_by"),
             resolvedAt: try row.optionalTimestamp("resolved_at")?.date, resolvedBy: try row.optionalString("resolved_by"),
             resolutionReason: try row.optionalString("resolution_reason"), capturedAmount: try row.optionalInt64("captured_amount"),
             captureTransfer: try row.optionalRefid("transfer_refid"), isNew: isNew)
    }

    static func holdStatus(_ text: String) throws -> HoldStatus {
        guard let status = HoldStatus(rawValue: text) else {
            throw StorageError(code: .decoding, message: "stored hold data has an unexpected shape")
        }
        return status
    }

    static func holdDescription(_ text: String) throws -> String {
        let description = text.trimmingCharacters(in: .whitespaces)
        guard !description.isEmpty, description.count <= 500 else { throw WalletError.invalid("description", "1–500 characters") }
        return description
    }

    static func actor(_ text: String) throws -> String {
        let actor = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !actor.isEmpty, actor.count <= 255, !actor.unicodeScalars.contains(where: Self.isControl) else {
            throw WalletError.invalid("actor", "1–255 characters, no control characters")
        }
        return actor
    }

    static func reason(_ text: String?) throws -> String? {
        guard let reason = text?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else { return nil }
        guard reason.count <= 500, !reason.unicodeScalars.contains(where: Self.isControl) else {
            throw WalletError.invalid("reason", "at most 500 characters, no control characters")
        }
        return reason
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) }

    /// Whole milliseconds of a duration the policy has already bounded (≤ 366 days), so no overflow.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// A digest of a reservation's parameters, to tell a genuine retry from a reused key.
    static func holdFingerprint(account: Refid, amount: Int64, description: String, metadata: String, lifetime: Int64) -> String {
        let text = ["hold", account.rawValue, String(amount), description, metadata, String(lifetime)].joined(separator: "\u{1F}")
        return hexDigest(of: text)
    }

    static func inconsistentHeld() -> StorageError {
        StorageError(code: .engine, message: "an account's held funds disagree with its holds; run reconcile")
    }
}
