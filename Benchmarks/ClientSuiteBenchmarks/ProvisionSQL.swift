import Foundation
import GRDB
import SuiteStorage

/// The statements of one provision, written once with `:name` placeholders and rendered for raw
/// GRDB (`?`), for the suite's PostgreSQL driver (bound ``SQL``) and for pgbench (literals and
/// pgbench variables) — so every diagnostic runs the same SQL.
///
/// Two shapes: `exact` is statement for statement what `Allies.provision` → `Ledger.transfer` ran
/// before the lean transfer path (it is still the ledger's checked path, taken for retries and
/// refusals); `lean` is the shape `Ledger.leanTransfer` now runs, without its per-reseller rollup
/// upsert and with the status check as a subquery of the debit (see docs/benchmarks-history.md).
enum ProvisionSQL {
    enum Shape: String, CaseIterable, Sendable {
        /// 5 SELECTs (reseller, revenue account, idempotency key, both accounts), 2 conditional
        /// UPDATEs, the transfer INSERT and the 2-row entries INSERT: 9 statements (provision before
        /// the lean path).
        case exact
        /// The debit UPDATE with the reseller's status check folded in, the credit UPDATE (the revenue
        /// account's id known), the transfer INSERT (a reused idempotency key surfaces as its unique
        /// violation) and the entries INSERT: 4 statements.
        case lean
        /// The lean statements as one PostgreSQL data-modifying CTE (debit, then credit, transfer
        /// and entries, each depending on the one before): 1 statement. PostgreSQL only — SQLite
        /// has no `UPDATE`/`INSERT` inside `WITH`. Not what the ledger runs: it measures the lever
        /// docs/benchmarks-history.md names.
        case single
    }

    struct Statement: Sendable {
        /// The text around the `:name` placeholders: `fragments.count == names.count + 1`.
        let fragments: [String]
        let names: [String]
        /// An INSERT whose new `id` the next statements need as `:transfer_id` (SQLite reads the
        /// connection's last rowid, PostgreSQL appends `RETURNING id`: what `insertReturningID` does).
        let returnsID: Bool
        /// Whether it returns named columns (`RETURNING x AS name`) that later statements use.
        let returnsValues: Bool
        /// The text with `?` placeholders, for GRDB.
        let questionMarked: String

        /// `text` has `:name` placeholders (no literal in it contains a colon). Split once, here, so
        /// the runs below add no parsing to the SQL they measure.
        init(text: String, returnsID: Bool = false, returnsValues: Bool = false) {
            (fragments, names) = ProvisionSQL.split(text)
            self.returnsID = returnsID
            self.returnsValues = returnsValues
            questionMarked = fragments.joined(separator: "?")
        }
    }

    static func statements(_ shape: Shape) -> [Statement] {
        switch shape {
        case .exact: exact
        case .lean: lean
        case .single: single
        }
    }

    /// A statement's text split around its `:name` placeholders.
    static func split(_ text: String) -> (fragments: [String], names: [String]) {
        var fragments: [String] = [], names: [String] = []
        var current = "", index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == ":", next < text.endIndex, text[next].isLetter {
                let end = text[next...].firstIndex { !($0.isLetter || $0.isNumber || $0 == "_") } ?? text.endIndex
                fragments.append(current)
                names.append(String(text[next..<end]))
                current = ""
                index = end
            } else {
                current.append(character)
                index = next
            }
        }
        fragments.append(current)
        return (fragments, names)
    }

    /// One provision of cost 1 on raw GRDB; `values` holds every placeholder the statements read
    /// except those the statements themselves return.
    static func run(_ shape: Shape, on db: GRDB.Database, values: [String: DatabaseValue]) throws {
        var values = values
        for statement in statements(shape) {
            let prepared = try db.cachedStatement(sql: statement.questionMarked)
            let arguments = StatementArguments(try statement.names.map { name -> DatabaseValue in
                guard let value = values[name] else { throw BenchmarkError(message: "no value for :\(name)") }
                return value
            })
            if statement.returnsValues {
                guard let row = try GRDB.Row.fetchOne(prepared, arguments: arguments) else {
                    throw BenchmarkError(message: "a provision statement changed no row")
                }
                for column in row.columnNames { values[column] = row[column] }
            } else {
                _ = try GRDB.Row.fetchAll(prepared, arguments: arguments)
                if statement.returnsID { values["transfer_id"] = db.lastInsertedRowID.databaseValue }
            }
        }
    }

    /// One provision of cost 1 inside a suite transaction (the PostgreSQL driver, bound parameters).
    static func run(_ shape: Shape, in tx: any Transaction, values: [String: SQLValue]) throws {
        var values = values
        for statement in statements(shape) {
            var sql = SQL(raw: statement.fragments[0])
            for (name, fragment) in zip(statement.names, statement.fragments.dropFirst()) {
                guard let value = values[name] else { throw BenchmarkError(message: "no value for :\(name)") }
                sql = sql + "\(value)" + SQL(raw: fragment)
            }
            if statement.returnsID {
                values["transfer_id"] = .int(try tx.insertReturningID(sql))
            } else if statement.returnsValues {
                guard let row = try tx.queryFirst(sql) else { throw BenchmarkError(message: "a provision statement changed no row") }
                for (column, value) in zip(row.columns, row.values) { values[column] = value }
            } else {
                _ = try tx.query(sql)
            }
        }
    }

    /// A pgbench script (simple protocol) of one provision in BEGIN … COMMIT. `literals` maps each
    /// placeholder to its text in the script: a quoted literal, which may contain pgbench variables
    /// (`'RS-PGB-:client_id'`; simple protocol substitutes inside literals), or a number. Returned
    /// values become pgbench variables through `\gset`.
    static func pgbenchScript(_ shape: Shape, literals: [String: String]) throws -> String {
        var lines = ["\\set k random(1, 9000000000000000000)", "BEGIN;"]
        for statement in statements(shape) {
            var text = statement.fragments[0]
            for (name, fragment) in zip(statement.names, statement.fragments.dropFirst()) {
                if let literal = literals[name] {
                    text += literal
                } else if ["transfer_id", "debit_id", "debit_after", "credit_id", "credit_after"].contains(name) {
                    text += ":" + name  // set by an earlier \gset
                } else {
                    throw BenchmarkError(message: "no pgbench text for :\(name)")
                }
                text += fragment
            }
            text = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            if statement.returnsID {
                lines.append(text + " RETURNING id AS transfer_id \\gset")
            } else {
                lines.append(text + (statement.returnsValues ? " \\gset" : ";"))
            }
        }
        return (lines + ["COMMIT;", ""]).joined(separator: "\n")
    }

    // MARK: The statements

    private static let accountColumns = "id, refid, owner, unit, balance, is_system"

    private static let exact: [Statement] = [
        Statement(text: """
            SELECT id, refid, user_id, company, tier, status, metadata, wallet_refid, version, created_at, updated_at
            FROM ally_resellers WHERE refid = :reseller
            """),
        Statement(text: "SELECT \(accountColumns) FROM wallet_accounts WHERE owner = :revenue_owner AND unit = :unit"),
        Statement(text: """
            SELECT t.refid, d.refid AS debit_refid, c.refid AS credit_refid, t.amount, d.unit, t.description, t.metadata,
            t.idempotency_key, t.fingerprint, t.created_at,
            (SELECT e.balance_after FROM wallet_entries e WHERE e.transfer_id = t.id AND e.account_id = t.debit_account) AS debit_after,
            (SELECT e.balance_after FROM wallet_entries e WHERE e.transfer_id = t.id AND e.account_id = t.credit_account) AS credit_after
            FROM wallet_transfers t
            JOIN wallet_accounts d ON d.id = t.debit_account JOIN wallet_accounts c ON c.id = t.credit_account
            WHERE t.idempotency_key = :key
            """),
        Statement(text: "SELECT \(accountColumns) FROM wallet_accounts WHERE refid = :wallet"),
        Statement(text: "SELECT \(accountColumns) FROM wallet_accounts WHERE refid = :credit"),
        Statement(text: """
            UPDATE wallet_accounts SET balance = balance - :amount
            WHERE id = (SELECT id FROM wallet_accounts WHERE refid = :wallet)
              AND balance >= :lowest AND (is_system = 1 OR balance >= :amount)
            RETURNING balance AS debit_after
            """, returnsValues: true),
        Statement(text: """
            UPDATE wallet_accounts SET balance = balance + :amount
            WHERE id = (SELECT id FROM wallet_accounts WHERE refid = :credit) AND balance <= :highest
            RETURNING balance AS credit_after
            """, returnsValues: true),
        Statement(text: """
            INSERT INTO wallet_transfers (refid, idempotency_key, fingerprint, debit_account, credit_account, amount,
                                          description, metadata, created_at)
            VALUES (:transfer_refid, :key, :fingerprint, (SELECT id FROM wallet_accounts WHERE refid = :wallet),
                    (SELECT id FROM wallet_accounts WHERE refid = :credit), :amount, :description, :metadata, :now)
            """, returnsID: true),
        Statement(text: """
            INSERT INTO wallet_entries (account_id, transfer_id, amount, balance_after, created_at)
            VALUES ((SELECT id FROM wallet_accounts WHERE refid = :wallet), :transfer_id, -:amount, :debit_after, :now),
                   ((SELECT id FROM wallet_accounts WHERE refid = :credit), :transfer_id, :amount, :credit_after, :now)
            """),
    ]

    private static let lean: [Statement] = [
        Statement(text: """
            UPDATE wallet_accounts SET balance = balance - :amount
            WHERE refid = (SELECT wallet_refid FROM ally_resellers WHERE refid = :reseller AND status = 'active')
              AND balance >= :amount
            RETURNING id AS debit_id, balance AS debit_after
            """, returnsValues: true),
        Statement(text: """
            UPDATE wallet_accounts SET balance = balance + :amount WHERE refid = :credit AND balance <= :highest
            RETURNING id AS credit_id, balance AS credit_after
            """, returnsValues: true),
        Statement(text: """
            INSERT INTO wallet_transfers (refid, idempotency_key, fingerprint, debit_account, credit_account, amount,
                                          description, metadata, created_at)
            VALUES (:transfer_refid, :key, :fingerprint, :debit_id, :credit_id, :amount, :description, :metadata, :now)
            """, returnsID: true),
        Statement(text: """
            INSERT INTO wallet_entries (account_id, transfer_id, amount, balance_after, created_at)
            VALUES (:debit_id, :transfer_id, -:amount, :debit_after, :now), (:credit_id, :transfer_id, :amount, :credit_after, :now)
            """),
    ]

    private static let single: [Statement] = [
        Statement(text: """
            WITH debit AS (
                UPDATE wallet_accounts SET balance = balance - :amount
                WHERE refid = (SELECT wallet_refid FROM ally_resellers WHERE refid = :reseller AND status = 'active')
                  AND balance >= :amount
                RETURNING id, balance
            ), credit AS (
                UPDATE wallet_accounts SET balance = balance + :amount
                WHERE refid = :credit AND balance <= :highest AND EXISTS (SELECT 1 FROM debit)
                RETURNING id, balance
            ), transfer AS (
                INSERT INTO wallet_transfers (refid, idempotency_key, fingerprint, debit_account, credit_account, amount,
                                              description, metadata, created_at)
                SELECT :transfer_refid, :key, :fingerprint, debit.id, credit.id, :amount, :description, :metadata, :now
                FROM debit, credit
                RETURNING id
            ), entries AS (
                INSERT INTO wallet_entries (account_id, transfer_id, amount, balance_after, created_at)
                SELECT debit.id, transfer.id, -:amount, debit.balance, :now FROM debit, transfer
                UNION ALL
                SELECT credit.id, transfer.id, :amount, credit.balance, :now FROM credit, transfer
            )
            SELECT id AS transfer_id FROM transfer
            """, returnsValues: true),
    ]

    /// A stand-in for the ledger's SHA-256 fingerprint (64 hex digits): computing it is Swift work, not SQL.
    static let fingerprint = String(repeating: "0f", count: 32)
}
