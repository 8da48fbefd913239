import Foundation
public import Logging
public import SuiteCore
public import SuiteStorage
public import Wallet

/// The Ally module: resellers with tiers and a prepaid credit wallet on the ``Ledger``.
///
/// ```swift
/// let allies = Allies(database: database)
/// let ally = try await allies.make().user("u-7").company("Northwind Partners").gold().create()
/// try await allies.addCredits(ally.refid, 10_000, actor: "admin")
/// let provision = try await allies.provision(ally.refid, cost: 500, action: "Pro licence", idempotencyKey: "order-42")
/// ```
public struct Allies: Sendable {
    /// Where resellers are stored.
    public let database: any Database
    /// Where reseller credit wallets live.
    public let ledger: Ledger
    /// The discount each tier gets on provisioning.
    public let discounts: TierDiscounts
    /// A debit that takes a balance from above this to at or below it publishes a ``LowCreditEvent``.
    public let lowCreditThreshold: Int64
    /// Where the module's domain events (``LowCreditEvent``, ``CreditsProvisioned``…) are published after commit.
    public let events: DomainEventBus
    /// Client counts per reseller for ``AllyAnalytics`` (the Client module implements it); nil
    /// reports zero clients acquired.
    public private(set) var acquisitions: (any ClientAcquisitions)?
    /// The source of every timestamp the module writes.
    public let clock: any WallClock
    /// Where the module logs.
    public let logger: Logger
    /// Reseller ids and wallets seen committed, so a provision need not read the reseller.
    let resellerIdentities = ResellerIdentities()

    /// The default ``lowCreditThreshold``.
    public static let defaultLowCreditThreshold: Int64 = 100

    /// Resellers over `database`, with credit wallets on `ledger`.
    /// - Parameters:
    ///   - discounts: tier discounts (``TierDiscounts/defaults`` when nil).
    ///   - lowCreditThreshold: the balance at or below which a ``LowCreditEvent`` fires (≥ 0).
    ///   - acquisitions: usually the app's `Clients`, so analytics can count clients per reseller.
    ///   - ledger: where credit wallets live; nil opens one on `database` (a suite passes its one ledger).
    public init(database: any Database, discounts: TierDiscounts? = nil,
                lowCreditThreshold: Int64 = Allies.defaultLowCreditThreshold, events: DomainEventBus = DomainEventBus(),
                acquisitions: (any ClientAcquisitions)? = nil, ledger: Ledger? = nil, clock: any WallClock = SystemWallClock(),
                logger: Logger = Logger(label: "clientsuite.ally")) {
        self.database = database
        self.ledger = ledger ?? Ledger(database: database, clock: clock)
        self.discounts = discounts ?? .defaults
        // A negative threshold could never be reached by a wallet that cannot go below zero.
        self.lowCreditThreshold = max(0, lowCreditThreshold)
        self.events = events
        self.acquisitions = acquisitions
        self.clock = clock
        self.logger = logger
    }

    /// Installs the Ally tables and the ledger they need. Idempotent.
    @discardableResult
    public static func install(on database: any Database) async throws -> [InstallReport] {
        try await SchemaInstaller.install([Ledger.schema, schema], on: database)
    }

    /// This service counting acquisitions through `acquisitions`: the same database, ledger, events
    /// and caches. A composition root uses it to close the Client ↔ Ally pair, where each side is
    /// the other's directory, without building either twice.
    public func counting(_ acquisitions: any ClientAcquisitions) -> Allies {
        var copy = self
        copy.acquisitions = acquisitions
        return copy
    }

    /// A fluent registration builder.
    public func make() -> ResellerBuilder { ResellerBuilder(allies: self) }

    // MARK: Registration and lookups

    func register(_ builder: ResellerBuilder, actor: String, in tx: any Transaction) throws -> Reseller {
        let user = try Self.text(builder.userID, field: "user", maximum: 255)
        let company = try Self.text(builder.company, field: "company", maximum: 255)
        let metadataText = builder.metadata.jsonText()
        guard metadataText.utf8.count <= 16_384, JSONValue.object(builder.metadata).depth <= 5 else {
            throw AllyError(.validation, message: "Invalid metadata: at most 16384 bytes and 5 levels")
        }
        let refid = Refid.generate(prefix: "RS-")
        let wallet = try ledger.account(owner: refid.rawValue, unit: .credits, in: tx)
        let now = Timestamp(clock.now())
        let id: Int64
        do {
            id = try tx.insertReturningID("""
                INSERT INTO ally_resellers (refid, user_id, company, tier, status, metadata, wallet_refid, version, created_at, updated_at)
                VALUES (\(refid), \(user), \(company), \(builder.tier.rawValue), 'active', \(metadataText), \(wallet.refid), 1, \(now), \(now))
                """)
        } catch let error as StorageError where error.isUniqueViolation(mentioning: "user_id") {
            throw AllyError(.duplicateUser, message: "Duplicate User: this user already has a reseller")
        }
        try audit(id: id, version: 1, event: "created", from: nil, to: .active, actor: actor, reason: nil, at: now, in: tx)
        let events = events, registered = ResellerRegistered(reseller: refid, tier: builder.tier)
        tx.afterCommit { events.publish(registered) }
        return Reseller(refid: refid, userID: user, company: company, tier: builder.tier, status: .active,
                        metadata: builder.metadata, wallet: wallet.refid, createdAt: now.date, updatedAt: now.date)
    }

    /// The reseller with `refid`, or nil.
    public func findByRefid(_ refid: Refid) async throws -> Reseller? {
        try await database.read { tx in try self.findByRefid(refid, in: tx) }
    }

    /// The reseller with `refid`, or nil, read inside an open transaction.
    public func findByRefid(_ refid: Refid, in tx: any Transaction) throws -> Reseller? {
        try tx.queryFirst("SELECT \(raw: Self.columns) FROM ally_resellers WHERE refid = \(refid)").map(Self.decode)
    }

    /// The reseller of user `userID`, or nil.
    public func findByUser(_ userID: String) async throws -> Reseller? {
        try await database.read { tx in
            try tx.queryFirst("SELECT \(raw: Self.columns) FROM ally_resellers WHERE user_id = \(userID)").map(Self.decode)
        }
    }

    /// One page of resellers, oldest first.
    public func list(limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<Reseller> {
        guard (1...500).contains(limit) else { throw AllyError(.validation, message: "Invalid limit: use 1…500") }
        return try await database.read { tx in
            try Keyset(table: "ally_resellers").page(
                select: Self.columns, after: cursor, limit: limit, in: tx,
                invalidCursor: AllyError(.validation, message: "Invalid cursor: it does not name a page"),
                fetch: { try tx.query($0).map(Self.decode) }, refid: \.refid)
        }
    }

    /// The reseller with `refid`; throws "Reseller Not Found" when there is none.
    public func find(_ refid: Refid) async throws -> Reseller {
        try await database.read { tx in try self.find(refid, in: tx) }
    }

    /// The reseller with `refid`, read inside `tx`; throws "Reseller Not Found" when there is none.
    public func find(_ refid: Refid, in tx: any Transaction) throws -> Reseller {
        guard let found = try findByRefid(refid, in: tx) else { throw Self.notFound(refid) }
        return found
    }

    /// The reseller's audit trail, oldest first: `created`, `suspend`, `reinstate`, with who,
    /// when and why.
    public func auditTrail(of refid: Refid, limit: Int = 100) async throws -> [ResellerAuditEntry] {
        guard (1...1000).contains(limit) else { throw AllyError(.validation, message: "Invalid limit: use 1…1000") }
        return try await database.read { tx in
            guard let id = try tx.queryInt64("SELECT id FROM ally_resellers WHERE refid = \(refid)") else {
                throw Self.notFound(refid)
            }
            return try Self.auditLog.trail(owner: id, limit: limit, in: tx)
        }
    }

    // MARK: Status

    /// Active → suspended: a suspended reseller cannot provision or take new clients.
    @discardableResult
    public func suspend(_ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Reseller {
        try await move(.suspend, refid, actor: actor, reason: reason)
    }

    /// Suspended → active.
    @discardableResult
    public func reinstate(_ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Reseller {
        try await move(.reinstate, refid, actor: actor, reason: reason)
    }

    private func move(_ transition: ResellerTransition, _ refid: Refid, actor: String, reason: String?) async throws -> Reseller {
        let actor = try Self.text(actor, field: "actor", maximum: 255)
        return try await database.write { tx in
            guard let row = try tx.queryFirst("""
                SELECT \(raw: Self.columns) FROM ally_resellers WHERE refid = \(refid)\(raw: tx.dialect.forUpdate)
                """)
            else { throw Self.notFound(refid) }
            var reseller = try Self.decode(row)
            let target = try transition.target(from: reseller.status) { move, _ in
                AllyError(.statusTransitionDenied, message: "Status Transition Denied: the reseller is already \(move.target)")
            }
            let id = try row.int64("id"), version = try row.int64("version")
            let now = Timestamp(self.clock.now())
            let next = try tx.advanceVersion(of: "ally_resellers", id: id, from: version,
                                             setting: "status = \(target.rawValue), ", updatedAt: now)
            try self.audit(id: id, version: next, event: transition.rawValue,
                           from: reseller.status, to: target, actor: actor, reason: reason, at: now, in: tx)
            // Ally guards its own row; the wallet is the ledger's, which stops (or resumes) spending
            // from it in this same transaction.
            try self.ledger.transition(transition == .suspend ? .freeze : .unfreeze, reseller.wallet, actor: actor,
                                       reason: reason, in: tx)
            let events = self.events
            let changed = ResellerStatusChanged(reseller: refid, from: reseller.status, to: target, actor: actor, reason: reason)
            tx.afterCommit { events.publish(changed) }
            reseller.status = target
            reseller.updatedAt = now.date
            return reseller
        }
    }

    // MARK: Credits

    /// Adds `amount` credits to the reseller's wallet (an administrative top-up, issued from the
    /// ledger's issuance account).
    @discardableResult
    public func addCredits(_ refid: Refid, _ amount: Int64, actor: String = "system", idempotencyKey: String? = nil) async throws -> Transfer {
        let actor = try Self.text(actor, field: "actor", maximum: 255)
        let key = try idempotencyKey.map(Self.key)
        do {
            return try await database.write { tx in
                guard let reseller = try self.findByRefid(refid, in: tx) else { throw Self.notFound(refid) }
                let issuance = try self.ledger.system(.issuance, unit: .credits, in: tx)
                let transfer = try self.ledger.transfer(from: issuance.refid, to: reseller.wallet, amount: amount,
                                                        description: "Credits added by \(actor)", metadata: ["actor": .string(actor)],
                                                        key: key?.scoped("ally:credit"), in: tx)
                if transfer.isNew {
                    let events = self.events
                    let added = CreditsAdded(reseller: refid, amount: amount, balanceAfter: transfer.creditBalanceAfter,
                                             transfer: transfer.refid)
                    tx.afterCommit { events.publish(added) }
                }
                return transfer
            }
        } catch let error as WalletError {
            throw Self.map(error)
        }
    }

    /// The reseller's credit balance.
    public func balance(_ refid: Refid) async throws -> Int64 {
        try await database.read { tx in
            guard let reseller = try self.findByRefid(refid, in: tx) else { throw Self.notFound(refid) }
            return try self.ledger.account(reseller.wallet, in: tx).balance
        }
    }

    /// Spends `cost` credits from the reseller's wallet for `action`, in its own transaction.
    /// Throws `.insufficientCredits` (with balance and cost) or `.suspended`, and then writes nothing.
    @discardableResult
    public func provision(_ refid: Refid, cost: Int64, action: String, idempotencyKey: String) async throws -> Provision {
        // Checked, and for a reseller seen before its transfer prepared, before the transaction:
        // that work then runs beside other callers' instead of in the one writer's turn on SQLite.
        let request = try provisionRequest(refid, cost: cost, action: action, key: try Self.key(idempotencyKey))
        // A concurrent retry with the same key may commit first (a unique violation), or, on
        // PostgreSQL, spend the credits after this one looked for the key: the second run returns
        // that provision if it exists.
        return try await database.writeResolvingRace(onUnique: "idempotency_key", alsoRetrying: { error in
            (error as? AllyError)?.code == .insufficientCredits
        }) { tx in
            try self.provision(request, in: tx)
        }
    }

    /// The same inside an open transaction, so a workflow can mint a licence in the same commit.
    @discardableResult
    public func provision(_ refid: Refid, cost: Int64, action: String, idempotencyKey: String,
                          in tx: any Transaction) throws -> Provision {
        try provision(refid, cost: cost, action: action, key: try Self.key(idempotencyKey), in: tx)
    }

    /// The same, keyed by an ``IdempotencyKey`` that the caller has checked and scoped (a workflow
    /// passes its caller's key as `workflow:<key>`).
    @discardableResult
    public func provision(_ refid: Refid, cost: Int64, action: String, key: IdempotencyKey,
                          in tx: any Transaction) throws -> Provision {
        try provision(try provisionRequest(refid, cost: cost, action: action, key: key), in: tx)
    }

    /// A provision whose arguments are checked. When the reseller's wallet and its revenue stripe
    /// are remembered, its transfer is prepared too (``Ledger/prepareTransfer(from:to:amount:description:metadata:key:)``).
    private struct ProvisionRequest: Sendable {
        let reseller: Refid
        let cost: Int64
        let action: String
        let key: IdempotencyKey
        let transfer: PreparedTransfer?
    }

    private func provisionRequest(_ refid: Refid, cost: Int64, action: String, key: IdempotencyKey) throws -> ProvisionRequest {
        guard cost > 0 else { throw AllyError(.invalidAmount, message: "Invalid amount: the cost must be greater than zero") }
        let action = try Self.text(action, field: "action", maximum: 500)
        var transfer: PreparedTransfer?
        if let reseller = resellerIdentities.identity(of: refid),
           let revenue = ledger.rememberedSystemAccountRefid(.revenue, unit: .credits,
                                                            stripe: Ledger.stripe(for: reseller.wallet.rawValue, on: database.dialect)) {
            transfer = try prepareTransfer(refid, from: reseller.wallet, to: revenue, cost: cost, action: action, key: key)
        }
        return ProvisionRequest(reseller: refid, cost: cost, action: action, key: key, transfer: transfer)
    }

    private func prepareTransfer(_ refid: Refid, from wallet: Refid, to revenue: Refid, cost: Int64, action: String,
                                 key: IdempotencyKey) throws -> PreparedTransfer {
        do {
            return try ledger.prepareTransfer(from: wallet, to: revenue, amount: cost, description: action,
                                              metadata: ["reseller": .string(refid.rawValue)], key: key.scoped("ally:provision"))
        } catch let error as WalletError {
            throw Self.map(error)
        }
    }

    private func provision(_ request: ProvisionRequest, in tx: any Transaction) throws -> Provision {
        let (refid, cost, action) = (request.reseller, request.cost, request.action)
        do {
            let prepared: PreparedTransfer
            if let known = request.transfer {
                prepared = known
            } else {
                let reseller = try provisioningIdentity(refid, in: tx)
                // A stripe of the revenue account per reseller on PostgreSQL: concurrent resellers never queue on one row.
                let revenue = try ledger.systemAccountRefid(.revenue, unit: .credits,
                                                            stripe: Ledger.stripe(for: reseller.wallet.rawValue, on: tx.dialect), in: tx)
                prepared = try prepareTransfer(refid, from: reseller.wallet, to: revenue, cost: cost, action: action, key: request.key)
            }
            // A suspended reseller's wallet is frozen in the suspension's own transaction, and the
            // ledger refuses a frozen account inside the debit itself: a suspension can never slip
            // in between a check and the spend.
            let transfer = try ledger.transfer(prepared, in: tx)
            if transfer.isNew {
                let after = transfer.debitBalanceAfter
                var published: [any DomainEvent] = [
                    CreditsProvisioned(reseller: refid, cost: cost, action: action, balanceAfter: after, transfer: transfer.refid),
                ]
                // Once per crossing: only the debit that moves the balance from above to at-or-below.
                if after <= lowCreditThreshold && after + cost > lowCreditThreshold {
                    published.append(LowCreditEvent(reseller: refid, balance: after, threshold: lowCreditThreshold,
                                                    at: transfer.createdAt))
                }
                let events = events, crossed = published
                tx.afterCommit { events.publish(crossed) }
            }
            return Provision(reseller: refid, cost: cost, action: action, transfer: transfer.refid,
                             balanceAfter: transfer.debitBalanceAfter, isNew: transfer.isNew)
        } catch let error as WalletError where error.code == .accountFrozen {
            throw Self.suspended()
        } catch let error as WalletError {
            throw Self.map(error)
        }
    }

    /// The reseller's row id and wallet, remembered after the first commit that read them. A
    /// reseller not yet remembered is read here, and refused here if it does not exist or is
    /// suspended; a remembered one is refused by the debit, since its wallet is frozen while it is
    /// suspended.
    private func provisioningIdentity(_ refid: Refid, in tx: any Transaction) throws -> ResellerIdentities.Identity {
        if let known = resellerIdentities.identity(of: refid) { return known }
        guard let row = try tx.queryFirst("SELECT id, status, wallet_refid FROM ally_resellers WHERE refid = \(refid)") else {
            throw Self.notFound(refid)
        }
        guard try row.string("status") == ResellerStatus.active.rawValue else { throw Self.suspended() }
        let identity = ResellerIdentities.Identity(id: try row.int64("id"), wallet: try row.refid("wallet_refid"))
        let cache = resellerIdentities
        tx.afterCommit { cache.remember(identity, for: refid) }
        return identity
    }

    /// The cost of `base` credits after `reseller`'s tier discount (see ``TierDiscounts/cost(of:for:)``).
    public func calculateTierCost(_ base: Int64, for reseller: Refid) async throws -> Int64 {
        guard let found = try await findByRefid(reseller) else { throw Self.notFound(reseller) }
        return try discounts.cost(of: base, for: found.tier)
    }

    // MARK: Internals

    static let columns = "id, refid, user_id, company, tier, status, metadata, wallet_refid, version, created_at, updated_at"

    static func decode(_ row: Row) throws -> Reseller {
        guard let tier = ResellerTier(rawValue: try row.string("tier")),
              let status = ResellerStatus(rawValue: try row.string("status"))
        else { throw StorageError(code: .decoding, message: "stored reseller data has an unexpected shape") }
        return Reseller(refid: try row.refid("refid"), userID: try row.string("user_id"), company: try row.string("company"),
                        tier: tier, status: status, metadata: Metadata(jsonText: try row.string("metadata")) ?? [:],
                        wallet: try row.refid("wallet_refid"), createdAt: try row.timestamp("created_at").date,
                        updatedAt: try row.timestamp("updated_at").date)
    }

    static let auditLog = AuditLog<ResellerStatus>(table: "ally_audit", owner: "reseller_id")

    func audit(id: Int64, version: Int64, event: String, from: ResellerStatus?, to: ResellerStatus?, actor: String,
               reason: String?, at: Timestamp, in tx: any Transaction) throws {
        try Self.auditLog.record(owner: id, version: version, event: event, from: from, to: to, actor: actor, reason: reason,
                                 at: at, in: tx)
    }

    static func text(_ raw: String?, field: String, maximum: Int) throws -> String {
        let text = trimmingWhitespace(raw ?? "")
        guard !text.isEmpty else { throw AllyError(.validation, message: "Invalid \(field): required") }
        guard hasAtMostCharacters(text, maximum), !containsControlCharacters(text) else {
            throw AllyError(.validation, message: "Invalid \(field): at most \(maximum) characters, no control characters")
        }
        return text
    }

    /// A caller's idempotency key, checked by the suite's one rule.
    static func key(_ key: String) throws -> IdempotencyKey {
        guard let checked = IdempotencyKey(key) else {
            throw AllyError(.validation, message: "Invalid idempotency key: \(IdempotencyKey.rule)")
        }
        return checked
    }

    static func suspended() -> AllyError {
        AllyError(.suspended, message: "Reseller Suspended: a suspended reseller cannot provision")
    }

    static func notFound(_ refid: Refid) -> AllyError {
        AllyError(.notFound, message: "Reseller Not Found: no reseller with refid \(refid.rawValue.prefix(64))")
    }

    static func map(_ error: WalletError) -> AllyError {
        switch error.code {
        case .insufficientFunds:
            AllyError(.insufficientCredits,
                      message: "Insufficient Credits: balance \(error.balance ?? 0), cost \(error.amount ?? 0)",
                      balance: error.balance, cost: error.amount)
        case .idempotencyConflict:
            AllyError(.idempotencyConflict, message: IdempotencyKey.conflictMessage)
        case .invalidAmount:
            AllyError(.invalidAmount, message: error.message)
        default:
            AllyError(.validation, message: error.message)
        }
    }
}

extension Allies: ResellerDirectory {
    /// Implements ``ResellerDirectory`` so that the Client module's "Invalid Reseller" check is real.
    public func reseller(_ refid: Refid, in tx: any Transaction) throws -> ResellerSummary? {
        return try findByRefid(refid, in: tx).map { ResellerSummary(refid: $0.refid, isActive: $0.status == .active) }
    }
}

/// A fluent, value-typed registration builder: `allies.make().user(id).company(name).gold().create()`.
public struct ResellerBuilder: Sendable {
    let allies: Allies
    var userID: String?
    var company: String?
    var tier: ResellerTier = .standard
    var metadata: Metadata = [:]

    /// The user account the reseller belongs to (required; at most 255 characters).
    public func user(_ id: String) -> ResellerBuilder { with { $0.userID = id } }
    /// The company name (required).
    public func company(_ name: String) -> ResellerBuilder { with { $0.company = name } }
    /// The reseller's tier (standard unless set).
    public func tier(_ tier: ResellerTier) -> ResellerBuilder { with { $0.tier = tier } }
    /// The standard tier.
    public func standard() -> ResellerBuilder { tier(.standard) }
    /// The gold tier.
    public func gold() -> ResellerBuilder { tier(.gold) }
    /// The platinum tier.
    public func platinum() -> ResellerBuilder { tier(.platinum) }
    /// Metadata merged into what was set before: keys in `data` replace earlier ones; a `null` value removes the key.
    public func metadata(_ data: Metadata) -> ResellerBuilder { with { $0.metadata = $0.metadata.merging(metadata: data) } }

    /// Registers the reseller and opens its credit wallet, in one transaction.
    public func create(actor: String = "system") async throws -> Reseller {
        let builder = self
        return try await allies.database.write { tx in try builder.allies.register(builder, actor: actor, in: tx) }
    }

    /// Registers the reseller and opens its credit wallet inside an open transaction.
    public func create(actor: String = "system", in tx: any Transaction) throws -> Reseller {
        try allies.register(self, actor: actor, in: tx)
    }

    private func with(_ change: (inout ResellerBuilder) -> Void) -> ResellerBuilder {
        var copy = self
        change(&copy)
        return copy
    }
}
