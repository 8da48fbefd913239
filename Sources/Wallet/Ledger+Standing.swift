import SuiteCore
public import SuiteStorage

/// Whether an account may be spent from.
public enum AccountStanding: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Debits, reserves and credits all go through.
    case open
    /// Nothing is spent: a transfer from the account or a new hold on it throws `.accountFrozen`.
    /// Credits still arrive, and holds taken before the freeze can still be captured or voided.
    case frozen

    /// `open` or `frozen`.
    public var description: String { rawValue }
}

/// A move of an account's standing, whose rules are ``table``.
public enum AccountTransition: String, StateTransition {
    /// Stop spending from the account (Ally freezes a reseller's wallet when it suspends the reseller).
    case freeze
    /// Let the account be spent from again.
    case unfreeze

    /// The standings an account moves between.
    public typealias State = AccountStanding

    /// Freezing a frozen account, or unfreezing an open one, throws `.statusTransitionDenied`.
    public static let table = TransitionTable<AccountTransition>([
        .freeze: .init(from: [.open], to: .frozen),
        .unfreeze: .init(from: [.frozen], to: .open),
    ])

    /// The move's name, as the audit trail records it.
    public var description: String { rawValue }
}

/// One entry of an account's audit trail (``Ledger/auditTrail(ofAccount:limit:)``).
public typealias AccountAuditEntry = AuditEntry<AccountStanding>

extension Ledger {
    /// Freezes `account`: from then on nothing is spent from it (see ``AccountStanding/frozen``).
    /// Audited; throws `.statusTransitionDenied` if it is frozen already.
    @discardableResult
    public func freeze(_ account: Refid, actor: String = "system", reason: String? = nil) async throws -> Account {
        try await transition(.freeze, account, actor: actor, reason: reason)
    }

    /// Unfreezes `account`. Audited; throws `.statusTransitionDenied` if it is open.
    @discardableResult
    public func unfreeze(_ account: Refid, actor: String = "system", reason: String? = nil) async throws -> Account {
        try await transition(.unfreeze, account, actor: actor, reason: reason)
    }

    /// Moves `account`'s standing in its own transaction.
    @discardableResult
    public func transition(_ move: AccountTransition, _ account: Refid, actor: String = "system",
                           reason: String? = nil) async throws -> Account {
        try await database.write { tx in try self.transition(move, account, actor: actor, reason: reason, in: tx) }
    }

    /// The account's freezes and unfreezes, oldest first (at most `limit`, 1…1000).
    public func auditTrail(ofAccount account: Refid, limit: Int = 100) async throws -> [AccountAuditEntry] {
        guard (1...1_000).contains(limit) else { throw WalletError.invalid("limit", "use 1…1000") }
        return try await database.read { tx in
            guard let id = try tx.queryInt64("SELECT id FROM wallet_accounts WHERE refid = \(account)") else {
                throw WalletError.accountNotFound(account)
            }
            return try Self.accountAudit.trail(owner: id, limit: limit, in: tx)
        }
    }

    static let accountAudit = AuditLog<AccountStanding>(table: "wallet_account_audit", owner: "account_id")

    /// The same inside an open transaction: Ally freezes a reseller's wallet in the transaction
    /// that suspends the reseller, so a provision either commits before the suspension or is refused.
    @discardableResult
    public func transition(_ transition: AccountTransition, _ refid: Refid, actor: String = "system",
                           reason: String? = nil, in tx: any Transaction) throws -> Account {
        let actor = try Self.actor(actor)
        let reason = try Self.reason(reason)
        guard let row = try tx.queryFirst("""
            SELECT \(raw: Self.accountColumns) FROM wallet_accounts WHERE refid = \(refid)\(raw: tx.dialect.forUpdate)
            """)
        else { throw WalletError.accountNotFound(refid) }
        var account = try Self.decodeAccount(row)
        let target = try transition.target(from: account.standing) { _, standing in
            WalletError(.statusTransitionDenied, message: "Status Transition Denied: the account is \(standing) already")
        }
        let id = try row.int64("id")
        let now = Timestamp(clock.now())
        try tx.execute("UPDATE wallet_accounts SET frozen = \(target == .frozen) WHERE id = \(id)")
        let version = (try tx.queryInt64("SELECT max(version) FROM wallet_account_audit WHERE account_id = \(id)") ?? 0) + 1
        try Self.accountAudit.record(owner: id, version: version, event: transition.rawValue, from: account.standing, to: target,
                                     actor: actor, reason: reason, at: now, in: tx)
        account.standing = target
        return account
    }
}
