import Crypto
import Foundation
public import SuiteCore
public import SuiteStorage

/// A double-entry ledger shared by the modules that hold value: reseller credits (Ally) and
/// client funds (Wave).
///
/// Every movement is a ``Transfer`` that debits one account and credits another, written as two
/// immutable entries, so all accounts of a unit always sum to zero. The cached balance is updated
/// in the same transaction; a debit that would take a non-system account below zero is refused
/// *inside* the write — by a conditional `UPDATE`, never a read followed by a write — so
/// concurrent spenders cannot overdraw.
///
/// Funds can also be *held*: reserved now, then captured (moved) or voided (released) later, or
/// released by an expiry sweep — see ``reserve(_:from:description:metadata:expiresIn:actor:idempotencyKey:)``
/// and ``HoldExpirySweeper``. A debit never spends held funds.
///
/// ```swift
/// let ledger = Ledger(database: database)
/// let wallet = try await ledger.account(owner: "RS-…", unit: .credits)
/// try await ledger.issue(1_000, to: wallet.refid, description: "Top-up")
/// try await ledger.transfer(from: wallet.refid, to: ledger.system(.revenue, unit: .credits).refid,
///                           amount: 500, description: "Pro licence", idempotencyKey: "order-42")
/// ```
public struct Ledger: Sendable {
    /// Where the accounts and transfers are stored.
    public let database: any Database
    /// The source of every timestamp the ledger writes, and of the time holds expire against.
    public let clock: any WallClock
    /// How long holds last (see ``HoldPolicy``).
    public let holdPolicy: HoldPolicy
    /// Account ids, units and system refids this ledger has seen committed (see `leanTransfer`).
    let identities = AccountIdentities()

    /// A ledger over `database`, reading the time from `clock` (also used for hold expiry).
    ///
    /// ```swift
    /// let ledger = Ledger(database: database, holdPolicy: try HoldPolicy(defaultDuration: .seconds(600)))
    /// ```
    public init(database: any Database, clock: any WallClock = SystemWallClock(), holdPolicy: HoldPolicy = .defaults) {
        self.database = database
        self.clock = clock
        self.holdPolicy = holdPolicy
    }

    /// Installs (or upgrades) the ledger tables. Idempotent.
    @discardableResult
    public static func install(on database: any Database) async throws -> InstallReport {
        try await SchemaInstaller.install([schema], on: database)[0]
    }

    // MARK: Accounts

    /// The account of `owner` in `unit`, created with a zero balance if it does not exist.
    public func account(owner: String, unit: Unit) async throws -> Account {
        try await database.write { tx in try self.account(owner: owner, unit: unit, in: tx) }
    }

    /// The same inside an open transaction. Throws `.validation` unless `owner` is 1–128 characters,
    /// without control characters and not starting with `system:`.
    public func account(owner: String, unit: Unit, in tx: any Transaction) throws -> Account {
        let owner = owner.trimmingCharacters(in: .whitespaces)
        guard !owner.isEmpty, owner.count <= 128, !owner.hasPrefix("system:"),
              !owner.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw WalletError.invalid("owner", "1–128 characters, no control characters, not starting with system:") }
        return try ensureAccount(owner: owner, unit: unit, isSystem: false, in: tx)
    }

    /// A system account (issuance or revenue) of `unit`, created on first use.
    public func system(_ account: SystemAccount, unit: Unit) async throws -> Account {
        try await database.write { tx in try self.system(account, unit: unit, in: tx) }
    }

    /// The same inside an open transaction.
    public func system(_ account: SystemAccount, unit: Unit, in tx: any Transaction) throws -> Account {
        try ensureAccount(owner: account.owner, unit: unit, isSystem: true, in: tx)
    }

    /// How many stripes a system account may be split into (see ``system(_:unit:stripe:in:)``).
    public static let systemStripes = 16

    /// Stripe `stripe` (0 ..< ``systemStripes``) of a system account, created on first use.
    ///
    /// Every transfer into one system account updates its cached balance, so concurrent spenders
    /// would queue on that one row until each commit is flushed (measured on PostgreSQL: 74% of
    /// the time waiting on it at 8 tasks). Crediting one of several stripes — chosen from the
    /// spender, so one spender always uses the same stripe — removes the queue. Stripe 0 is the
    /// plain account; ``systemBalance(_:unit:)`` adds the stripes up.
    public func system(_ account: SystemAccount, unit: Unit, stripe: Int, in tx: any Transaction) throws -> Account {
        guard (0..<Self.systemStripes).contains(stripe) else {
            throw WalletError.invalid("stripe", "use 0…\(Self.systemStripes - 1)")
        }
        let owner = stripe == 0 ? account.owner : "\(account.owner)#\(stripe)"
        return try ensureAccount(owner: owner, unit: unit, isSystem: true, in: tx)
    }

    /// The refid of stripe `stripe` of a system account, created on first use. Unlike
    /// ``system(_:unit:stripe:in:)`` it reads nothing once the account is known to this ledger: a
    /// system account's refid never changes, so it is remembered after the first commit.
    public func systemAccountRefid(_ account: SystemAccount, unit: Unit, stripe: Int, in tx: any Transaction) throws -> Refid {
        let owner = stripe == 0 ? account.owner : "\(account.owner)#\(stripe)"
        if let known = rememberedSystemAccountRefid(account, unit: unit, stripe: stripe) { return known }
        let refid = try system(account, unit: unit, stripe: stripe, in: tx).refid
        let identities = identities
        tx.afterCommit { identities.rememberSystemAccount(refid, owner: owner, unit: unit) }
        return refid
    }

    /// The refid of stripe `stripe` of a system account if this ledger remembers it (from a commit
    /// that used it), else nil. Reads nothing, so a caller can prepare a transfer into it before
    /// its transaction (``prepareTransfer(from:to:amount:description:metadata:key:)``).
    public func rememberedSystemAccountRefid(_ account: SystemAccount, unit: Unit, stripe: Int) -> Refid? {
        identities.systemAccount(owner: stripe == 0 ? account.owner : "\(account.owner)#\(stripe)", unit: unit)
    }

    /// The balance of a system account over all its stripes.
    public func systemBalance(_ account: SystemAccount, unit: Unit) async throws -> Int64 {
        let plain = account.owner, striped = account.owner + "#%"
        return try await database.read { tx in
            try tx.queryInt64("""
                SELECT CAST(COALESCE(sum(balance), 0) AS BIGINT) FROM wallet_accounts
                WHERE unit = \(unit.code) AND (owner = \(plain) OR owner LIKE \(striped))
                """) ?? 0
        }
    }

    /// The stripe a spender credits on `dialect`. On PostgreSQL, ``stripe(for:)``: concurrent
    /// spenders never queue on one row. On SQLite, always 0: its writes run one at a time, so a
    /// stripe saves no wait there, and each stripe credited in a shared commit (group commit) is
    /// one more page of entries to write and flush.
    public static func stripe(for spender: String, on dialect: SQLDialect) -> Int {
        dialect == .sqlite ? 0 : stripe(for: spender)
    }

    /// A stable stripe for a spender (FNV-1a of its text, so every process picks the same one).
    public static func stripe(for spender: String) -> Int {
        Int(fnv1a64(spender) % UInt64(systemStripes))
    }

    /// The account with `refid`.
    public func account(_ refid: Refid) async throws -> Account {
        try await database.read { tx in try self.account(refid, in: tx) }
    }

    /// The same inside an open transaction; throws `.accountNotFound` when no account has `refid`.
    public func account(_ refid: Refid, in tx: any Transaction) throws -> Account {
        guard let row = try tx.queryFirst("SELECT \(raw: Self.accountColumns) FROM wallet_accounts WHERE refid = \(refid)") else {
            throw WalletError.accountNotFound(refid)
        }
        return try Self.decodeAccount(row)
    }

    // MARK: Transfers

    /// Moves `amount` (minor units, > 0) from one account to another, atomically.
    ///
    /// With an idempotency key, a retry with the same parameters returns the first transfer and
    /// writes nothing; the same key with different parameters throws `.idempotencyConflict`.
    @discardableResult
    public func transfer(from debit: Refid, to credit: Refid, amount: Int64, description: String,
                         metadata: Metadata = [:], idempotencyKey: String? = nil) async throws -> Transfer {
        let prepared = try prepareTransfer(from: debit, to: credit, amount: amount, description: description,
                                           metadata: metadata, key: try Self.key(idempotencyKey))
        // A concurrent call with the same key may commit first (a unique violation), or, on
        // PostgreSQL, spend the funds after this one looked for the key: the second run finds it.
        return try await database.writeResolvingRace(onUnique: "idempotency_key", alsoRetrying: { error in
            (error as? WalletError)?.code == .insufficientFunds && idempotencyKey != nil
        }) { tx in
            try self.transfer(prepared, in: tx)
        }
    }

    /// The same, inside an open transaction — so a workflow can make a debit part of a larger change.
    @discardableResult
    public func transfer(from debit: Refid, to credit: Refid, amount: Int64, description: String,
                         metadata: Metadata = [:], idempotencyKey: String? = nil, in tx: any Transaction) throws -> Transfer {
        try transfer(from: debit, to: credit, amount: amount, description: description, metadata: metadata,
                     key: try Self.key(idempotencyKey), in: tx)
    }

    /// The same, keyed by an ``IdempotencyKey`` that another module has checked and scoped
    /// (``IdempotencyKey/scoped(_:)``): Ally and Wave pass their callers' keys on this way, so a
    /// caller's 200-character key stays valid behind the module's namespace.
    @discardableResult
    public func transfer(from debit: Refid, to credit: Refid, amount: Int64, description: String,
                         metadata: Metadata = [:], key: IdempotencyKey?, in tx: any Transaction) throws -> Transfer {
        try transfer(try prepareTransfer(from: debit, to: credit, amount: amount, description: description,
                                         metadata: metadata, key: key), in: tx)
    }

    /// Checks a transfer and does the work that needs no database: the amount, description and
    /// metadata checks, the metadata's JSON and the fingerprint a retry is compared by. Done before
    /// the write transaction, that work runs beside other callers' instead of inside the one
    /// writer's turn (on SQLite, every caller's transaction runs one after another). Throws, and
    /// writes nothing, when the transfer can never go through.
    public func prepareTransfer(from debit: Refid, to credit: Refid, amount: Int64, description: String,
                                metadata: Metadata = [:], key: IdempotencyKey?) throws -> PreparedTransfer {
        guard amount > 0 else { throw WalletError(.invalidAmount, message: "Invalid amount: must be greater than zero") }
        let description = trimmingWhitespace(description, newlines: false)
        guard !description.isEmpty, hasAtMostCharacters(description, 500) else {
            throw WalletError.invalid("description", "1–500 characters")
        }
        guard debit != credit else { throw WalletError.invalid("accounts", "debit and credit accounts must differ") }
        let metadataText = metadata.jsonText()
        guard metadataText.utf8.count <= 16_384 else { throw WalletError.invalid("metadata", "at most 16384 bytes of JSON") }
        return PreparedTransfer(move: Move(
            debit: debit, credit: credit, amount: amount, description: description, metadata: metadata,
            metadataText: metadataText, idempotencyKey: key,
            fingerprint: Self.fingerprint(debit: debit, credit: credit, amount: amount, description: description,
                                          metadata: metadataText)))
    }

    /// Runs a transfer that ``prepareTransfer(from:to:amount:description:metadata:key:)`` checked,
    /// inside an open transaction: exactly what the other `transfer` calls do with the same arguments.
    @discardableResult
    public func transfer(_ prepared: PreparedTransfer, in tx: any Transaction) throws -> Transfer {
        if let transfer = try leanTransfer(prepared.move, in: tx) { return transfer }
        return try checkedTransfer(prepared.move, in: tx)
    }

    /// Issues `amount` into `account` from the issuance system account of its unit (a top-up).
    @discardableResult
    public func issue(_ amount: Int64, to account: Refid, description: String, idempotencyKey: String? = nil) async throws -> Transfer {
        let unit = try await self.account(account).unit
        let issuance = try await system(.issuance, unit: unit)
        return try await transfer(from: issuance.refid, to: account, amount: amount, description: description,
                                  idempotencyKey: idempotencyKey)
    }

    /// A caller's idempotency key, checked by the suite's one rule; nil stays nil.
    static func key(_ key: String?) throws -> IdempotencyKey? {
        guard let key else { return nil }
        guard let checked = IdempotencyKey(key) else { throw WalletError.invalid("idempotency key", IdempotencyKey.rule) }
        return checked
    }

    // MARK: Reading

    /// One page of an account's entries, newest first (at most 500 per page).
    public func history(of account: Refid, limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<LedgerEntry> {
        guard (1...500).contains(limit) else { throw WalletError.invalid("limit", "use 1…500") }
        return try await database.read { tx in
            let id = try tx.queryInt64("SELECT id FROM wallet_accounts WHERE refid = \(account)")
            guard let id else {
                throw WalletError.accountNotFound(account)
            }
            var condition = SQL(raw: "")
            if let cursor {
                guard let anchor = try tx.queryInt64("SELECT id FROM wallet_transfers WHERE refid = \(cursor.rawValue)") else {
                    throw WalletError.invalid("cursor", "it does not name a page of this history")
                }
                condition = " AND e.transfer_id < \(anchor)"
            }
            let rows = try tx.query("""
                SELECT t.refid, e.amount, e.balance_after, t.description, e.created_at
                FROM wallet_entries e JOIN wallet_transfers t ON t.id = e.transfer_id
                WHERE e.account_id = \(id)\(condition) ORDER BY e.transfer_id DESC LIMIT \(limit + 1)
                """)
            let entries = try rows.map { row in
                LedgerEntry(transfer: try row.refid("refid"), amount: try row.int64("amount"),
                            balanceAfter: try row.int64("balance_after"), description: try row.string("description"),
                            createdAt: try row.timestamp("created_at").date)
            }
            return Page(reading: entries, limit: limit, refid: \.transfer)
        }
    }

    /// Proves every cached balance equals the sum of its entries, every held amount equals the sum
    /// of the account's pending holds, and that each unit sums to zero.
    /// Walks accounts in batches, each in its own read, so it never loads the whole ledger.
    public func reconcile(batchSize: Int = 500) async throws -> ReconcileReport {
        guard (1...10_000).contains(batchSize) else { throw WalletError.invalid("batch size", "use 1…10000") }
        var report = ReconcileReport(accountsChecked: 0, mismatches: [], totalsByUnit: [:])
        var lastID: Int64 = 0
        while true {
            let rows = try await database.read { [lastID] tx in
                try tx.query("""
                    SELECT a.id, a.refid, a.unit, a.balance, a.held,
                           CAST(COALESCE((SELECT sum(e.amount) FROM wallet_entries e WHERE e.account_id = a.id), 0) AS BIGINT) AS entries,
                           CAST(COALESCE((SELECT sum(h.amount) FROM wallet_holds h
                                          WHERE h.account_id = a.id AND h.status = 'pending'), 0) AS BIGINT) AS pending
                    FROM wallet_accounts a WHERE a.id > \(lastID) ORDER BY a.id LIMIT \(batchSize)
                    """)
            }
            for row in rows {
                let balance = try row.int64("balance"), entries = try row.int64("entries"), unit = try row.string("unit")
                report.accountsChecked += 1
                let (total, overflow) = report.totalsByUnit[unit, default: 0].addingReportingOverflow(balance)
                report.totalsByUnit[unit] = overflow ? Int64.max : total
                if balance != entries {
                    report.mismatches.append(.init(account: try row.refid("refid"), cachedBalance: balance, sumOfEntries: entries))
                }
                let held = try row.int64("held"), pending = try row.int64("pending")
                if held != pending {
                    report.heldMismatches.append(.init(account: try row.refid("refid"), cachedHeld: held, sumOfPendingHolds: pending))
                }
            }
            guard rows.count == batchSize, let last = rows.last else { break }
            lastID = try last.int64("id")
        }
        return report
    }

    // MARK: Internals

    static let accountColumns = "id, refid, owner, unit, balance, held, is_system, frozen"

    static let transferColumns = """
        t.refid, d.refid AS debit_refid, c.refid AS credit_refid, t.amount, d.unit, t.description, t.metadata,
        t.idempotency_key, t.fingerprint, t.created_at,
        (SELECT e.balance_after FROM wallet_entries e WHERE e.transfer_id = t.id AND e.account_id = t.debit_account) AS debit_after,
        (SELECT e.balance_after FROM wallet_entries e WHERE e.transfer_id = t.id AND e.account_id = t.credit_account) AS credit_after
        """

    /// The second half of every transfer, after the debit's conditional UPDATE succeeded: credits
    /// `credit`, then writes the transfer and its two entries. Shared by ``transfer`` and hold capture
    /// so that both keep one statement text each.
    func creditAndRecord(_ credit: Refid, amount: Int64, from debit: Refid, debitAfter: Int64, unit: Unit,
                         description: String, metadata: Metadata, metadataText: String, idempotencyKey: String?,
                         fingerprint: String, in tx: any Transaction) throws -> (transfer: Transfer, id: Int64) {
        let highest = Int64.max - amount
        guard let creditAfter = try tx.queryInt64("""
            UPDATE wallet_accounts SET balance = balance + \(amount)
            WHERE id = (SELECT id FROM wallet_accounts WHERE refid = \(credit)) AND balance <= \(highest)
            RETURNING balance
            """)
        else { throw WalletError(.invalidAmount, message: "Invalid amount: the credited balance would overflow") }

        let refid = Refid.generate(prefix: "TX-")
        let now = Timestamp(clock.now())
        let transferID = try tx.insertReturningID("""
            INSERT INTO wallet_transfers (refid, idempotency_key, fingerprint, debit_account, credit_account, amount,
                                          description, metadata, created_at)
            VALUES (\(refid), \(idempotencyKey), \(fingerprint), (SELECT id FROM wallet_accounts WHERE refid = \(debit)),
                    (SELECT id FROM wallet_accounts WHERE refid = \(credit)), \(amount), \(description), \(metadataText), \(now))
            """)
        try tx.execute("""
            INSERT INTO wallet_entries (account_id, transfer_id, amount, balance_after, created_at)
            VALUES ((SELECT id FROM wallet_accounts WHERE refid = \(debit)), \(transferID), \(-amount), \(debitAfter), \(now)),
                   ((SELECT id FROM wallet_accounts WHERE refid = \(credit)), \(transferID), \(amount), \(creditAfter), \(now))
            """)
        let transfer = Transfer(refid: refid, debitAccount: debit, creditAccount: credit, amount: amount, unit: unit,
                                description: description, metadata: metadata, idempotencyKey: idempotencyKey,
                                debitBalanceAfter: debitAfter, creditBalanceAfter: creditAfter, createdAt: now.date, isNew: true)
        return (transfer, transferID)
    }

    private func ensureAccount(owner: String, unit: Unit, isSystem: Bool, in tx: any Transaction) throws -> Account {
        if let row = try tx.queryFirst("""
            SELECT \(raw: Self.accountColumns) FROM wallet_accounts WHERE owner = \(owner) AND unit = \(unit.code)
            """) {
            return try Self.decodeAccount(row)
        }
        try tx.execute("""
            INSERT INTO wallet_accounts (refid, owner, unit, balance, is_system, created_at)
            VALUES (\(Refid.generate(prefix: "WA-")), \(owner), \(unit.code), 0, \(isSystem), \(Timestamp(clock.now())))
            ON CONFLICT (owner, unit) DO NOTHING
            """)
        guard let row = try tx.queryFirst("""
            SELECT \(raw: Self.accountColumns) FROM wallet_accounts WHERE owner = \(owner) AND unit = \(unit.code)
            """)
        else { throw StorageError(code: .engine, message: "the account could not be created") }
        return try Self.decodeAccount(row)
    }

    static func decodeAccount(_ row: Row) throws -> Account {
        Account(refid: try row.refid("refid"), owner: try row.string("owner"), unit: Unit(unchecked: try row.string("unit")),
                balance: try row.int64("balance"), isSystem: try row.bool("is_system"), held: try row.int64("held"),
                standing: try row.bool("frozen") ? .frozen : .open)
    }

    static func decodeTransfer(_ row: Row, isNew: Bool) throws -> Transfer {
        Transfer(refid: try row.refid("refid"), debitAccount: try row.refid("debit_refid"), creditAccount: try row.refid("credit_refid"),
                 amount: try row.int64("amount"), unit: Unit(unchecked: try row.string("unit")),
                 description: try row.string("description"), metadata: Metadata(jsonText: try row.string("metadata")) ?? [:],
                 idempotencyKey: try row.optionalString("idempotency_key"), debitBalanceAfter: try row.int64("debit_after"),
                 creditBalanceAfter: try row.int64("credit_after"), createdAt: try row.timestamp("created_at").date, isNew: isNew)
    }

    /// A digest of a transfer's parameters, to tell a genuine retry from a reused key.
    static func fingerprint(debit: Refid, credit: Refid, amount: Int64, description: String, metadata: String) -> String {
        let text = [debit.rawValue, credit.rawValue, String(amount), description, metadata].joined(separator: "\u{1F}")
        return hexDigest(of: text)
    }
}

/// The SHA-256 digest of `text` as lower-case hex.
func hexDigest(of text: String) -> String {
    var text = text, hasher = SHA256()
    text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    return hasher.finalize().withUnsafeBytes { lowercaseHex($0) }
}
