import SuiteCore
import SuiteStorage

/// A transfer checked before its transaction (``Ledger/prepareTransfer(from:to:amount:description:metadata:key:)``),
/// to be run by ``Ledger/transfer(_:in:)``, once or again like the same arguments.
public struct PreparedTransfer: Sendable {
    let move: Ledger.Move
}

/// The two ways a transfer is written.
///
/// The *lean* path is the usual one: the two conditional balance `UPDATE`s, in account-id order,
/// the transfer `INSERT … ON CONFLICT DO NOTHING` and the two entries, with the accounts' ids,
/// units and kinds taken from ``AccountIdentities`` (read once, in one statement, the first time).
/// SQLite runs them as four statements and one read of both balances after (without `RETURNING`,
/// which there costs a temporary b-tree and a statement journal per statement). PostgreSQL runs
/// them as one: a statement whose `WITH` clauses chain them (the second update runs only if the
/// first did, the transfer only if both did, the entries only with the transfer), so a transfer
/// waits for the server once and the server parses and plans one statement. Every guard stays
/// inside a write: the overdraft check (`balance - held >= amount`) and the account's standing
/// (not frozen) in the debit's `UPDATE`, overflow bounds in both, a reused idempotency key in the
/// unique index.
///
/// When anything does not go through — a refused debit, an unknown account, a reused key — the
/// lean path undoes what it changed in this transaction and the *checked* path runs: the statements
/// the ledger always ran, in their order, which find the stored transfer or throw the precise error.
/// So every outcome other than a fresh transfer is decided exactly as before.
extension Ledger {
    struct Move: Sendable {
        let debit: Refid
        let credit: Refid
        let amount: Int64
        let description: String
        let metadata: Metadata
        let metadataText: String
        let idempotencyKey: IdempotencyKey?
        let fingerprint: String
    }

    /// A fresh transfer (one statement on PostgreSQL, five on SQLite), or nil with nothing changed.
    func leanTransfer(_ move: Move, in tx: any Transaction) throws -> Transfer? {
        guard let (from, to) = try identities(move.debit, move.credit, in: tx), from.unit == to.unit else { return nil }
        let amount = move.amount
        // The bounds are computed here, not in SQL: SQLite turns an overflowing integer into a float.
        let lowest = Int64.min + amount, highest = Int64.max - amount
        let debit: SQL = """
            UPDATE wallet_accounts SET balance = balance - \(amount)
            WHERE id = \(from.id) AND refid = \(move.debit) AND balance >= \(lowest)
              AND (is_system = 1 OR balance - held >= \(amount)) AND frozen = 0
            """
        let credit: SQL = """
            UPDATE wallet_accounts SET balance = balance + \(amount)
            WHERE id = \(to.id) AND refid = \(move.credit) AND balance <= \(highest)
            """
        let refid = Refid.generate(prefix: "TX-"), now = Timestamp(clock.now())
        // A key used before (or by a concurrent transaction that commits first) inserts nothing.
        let conflict: SQL = move.idempotencyKey == nil
            ? "" : " ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
        let columns: SQL = """
            wallet_transfers (refid, idempotency_key, fingerprint, debit_account, credit_account, amount, description, metadata, created_at)
            """
        let values: SQL = """
            \(refid), \(move.idempotencyKey?.rawValue), \(move.fingerprint), \(from.id), \(to.id), \(amount), \(move.description),
            \(move.metadataText), \(now)
            """
        // Both balance rows are locked in id order, so A→B and B→A transfers cannot deadlock.
        let debitFirst = from.id < to.id
        let (first, second) = debitFirst ? (debit, credit) : (credit, debit)
        let debitAfter: Int64, creditAfter: Int64, transferID: Int64
        if tx.dialect == .postgres {
            // One statement: the second update runs only if the first did, the transfer only if
            // both did, and the entries only with the transfer; the server parses and plans one
            // statement instead of four.
            let (debitCTE, creditCTE): (SQL, SQL) = debitFirst ? ("first_update", "second_update") : ("second_update", "first_update")
            let row = try tx.queryFirst("""
                WITH first_update AS (\(first) RETURNING balance),
                second_update AS (\(second) AND EXISTS (SELECT 1 FROM first_update) RETURNING balance),
                transfer AS (
                    INSERT INTO \(columns) SELECT \(values) FROM first_update, second_update\(conflict) RETURNING id
                ),
                entries AS (
                    INSERT INTO wallet_entries (account_id, transfer_id, amount, balance_after, created_at)
                    SELECT \(from.id), transfer.id, \(-amount), \(debitCTE).balance, \(now) FROM transfer, \(debitCTE)
                    UNION ALL
                    SELECT \(to.id), transfer.id, \(amount), \(creditCTE).balance, \(now) FROM transfer, \(creditCTE)
                )
                SELECT (SELECT balance FROM \(debitCTE)) AS debited, (SELECT balance FROM \(creditCTE)) AS credited,
                       (SELECT id FROM transfer) AS inserted
                """)
            let debited = try row?.optionalInt64("debited"), credited = try row?.optionalInt64("credited")
            guard let debited, let credited, let inserted = try row?.optionalInt64("inserted") else {
                // The statement is one: what did go through is undone, and the checked path decides.
                try undo(debit: debited != nil, credit: credited != nil, amount: amount, from: from.id, to: to.id, in: tx)
                return nil
            }
            (debitAfter, creditAfter, transferID) = (debited, credited, inserted)
        } else {
            // No RETURNING on SQLite: there a statement gathers the rows it returns in a temporary
            // b-tree, opened and closed each time, and keeps a statement journal. That was a
            // seventh of a provision's time on the writer. The counts of changed rows tell whether
            // each statement went through, and one read gives both balances after.
            let firstChanged = try tx.execute(first) == 1
            let secondChanged = try firstChanged && tx.execute(second) == 1
            let inserted = try secondChanged ? tx.insertReturningIDIfInserted("INSERT INTO \(columns) VALUES (\(values))\(conflict)") : nil
            guard let inserted else {
                // Refused, out of bounds, or a reused key: undo what did change, and let the checked path decide.
                try undo(debit: debitFirst ? firstChanged : secondChanged, credit: debitFirst ? secondChanged : firstChanged,
                         amount: amount, from: from.id, to: to.id, in: tx)
                return nil
            }
            guard let row = try tx.queryFirst("""
                SELECT (SELECT balance FROM wallet_accounts WHERE id = \(from.id)) AS debited,
                       (SELECT balance FROM wallet_accounts WHERE id = \(to.id)) AS credited
                """)
            else { throw StorageError(code: .engine, message: "the database returned no balances for a transfer") }
            (debitAfter, creditAfter, transferID) = (try row.int64("debited"), try row.int64("credited"), inserted)
            // Nothing reads its result, and nothing in it can fail that the statements above allowed.
            try tx.executeDeferred("""
                INSERT INTO wallet_entries (account_id, transfer_id, amount, balance_after, created_at)
                VALUES (\(from.id), \(transferID), \(-amount), \(debitAfter), \(now)),
                       (\(to.id), \(transferID), \(amount), \(creditAfter), \(now))
                """)
        }
        return Transfer(refid: refid, debitAccount: move.debit, creditAccount: move.credit, amount: amount, unit: from.unit,
                        description: move.description, metadata: move.metadata, idempotencyKey: move.idempotencyKey?.rawValue,
                        debitBalanceAfter: debitAfter, creditBalanceAfter: creditAfter, createdAt: now.date, isNew: true)
    }

    /// Takes back the balance updates of a lean transfer that did not go through.
    private func undo(debit: Bool, credit: Bool, amount: Int64, from: Int64, to: Int64, in tx: any Transaction) throws {
        if debit { try tx.execute("UPDATE wallet_accounts SET balance = balance + \(amount) WHERE id = \(from)") }
        if credit { try tx.execute("UPDATE wallet_accounts SET balance = balance - \(amount) WHERE id = \(to)") }
    }

    /// Every check in its own statement, in this order: the debit account and its standing, the
    /// idempotency key, the credit account, the units, then the conditional debit. Finds a stored
    /// transfer for a reused key, and tells apart every reason a transfer is refused. A frozen
    /// account refuses before its key is looked at, so a retry is refused too.
    func checkedTransfer(_ move: Move, in tx: any Transaction) throws -> Transfer {
        let (debit, credit, amount) = (move.debit, move.credit, move.amount)
        let from = try account(debit, in: tx)
        guard from.standing == .open else { throw WalletError.accountFrozen }
        if let key = move.idempotencyKey, let existing = try key.replay("""
            SELECT \(raw: Self.transferColumns) FROM wallet_transfers t
            JOIN wallet_accounts d ON d.id = t.debit_account JOIN wallet_accounts c ON c.id = t.credit_account
            WHERE t.idempotency_key = \(key.rawValue)
            """, fingerprint: move.fingerprint, in: tx, orThrow: { WalletError.idempotencyConflict }) {
            return try Self.decodeTransfer(existing, isNew: false)
        }

        let to = try account(credit, in: tx)
        guard from.unit == to.unit else {
            throw WalletError(.unitMismatch, message: "Unit Mismatch: cannot move \(from.unit) into a \(to.unit) account")
        }
        // Held funds are not spendable: a non-system account may spend only `balance - held`.
        let lowest = Int64.min + amount
        guard let debitAfter = try tx.queryInt64("""
            UPDATE wallet_accounts SET balance = balance - \(amount)
            WHERE id = (SELECT id FROM wallet_accounts WHERE refid = \(debit))
              AND balance >= \(lowest) AND (is_system = 1 OR balance - held >= \(amount)) AND frozen = 0
            RETURNING balance
            """)
        else {
            let debited = try account(debit, in: tx)
            guard debited.standing == .open else { throw WalletError.accountFrozen }
            if debited.available >= amount || from.isSystem {
                throw WalletError(.invalidAmount, message: "Invalid amount: the balance would overflow")
            }
            throw WalletError.insufficientFunds(available: debited.available, held: debited.held, amount: amount)
        }
        return try creditAndRecord(credit, amount: amount, from: debit, debitAfter: debitAfter, unit: from.unit,
                                   description: move.description, metadata: move.metadata, metadataText: move.metadataText,
                                   idempotencyKey: move.idempotencyKey?.rawValue, fingerprint: move.fingerprint, in: tx).transfer
    }

    /// Both accounts' identities: remembered ones, or one read of both rows (remembered after commit).
    private func identities(_ debit: Refid, _ credit: Refid,
                            in tx: any Transaction) throws -> (AccountIdentities.Identity, AccountIdentities.Identity)? {
        if let from = identities.identity(of: debit), let to = identities.identity(of: credit) { return (from, to) }
        var from: AccountIdentities.Identity?, to: AccountIdentities.Identity?
        for row in try tx.query("SELECT id, refid, unit, is_system FROM wallet_accounts WHERE refid IN (\(debit), \(credit))") {
            let identity = AccountIdentities.Identity(id: try row.int64("id"), unit: Unit(unchecked: try row.string("unit")),
                                                      isSystem: try row.bool("is_system"))
            if try row.refid("refid") == debit { from = identity } else { to = identity }
        }
        guard let from, let to else { return nil }
        let cache = identities
        tx.afterCommit {
            cache.remember(from, for: debit)
            cache.remember(to, for: credit)
        }
        return (from, to)
    }
}
