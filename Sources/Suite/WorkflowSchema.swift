import Forge
import SuiteCore
public import SuiteStorage

extension Workflows {
    /// The module's name in `suite_migrations` and `dock install`.
    public static let name = "workflow"

    /// The workflows' records: one row per idempotency key, and one per licence a workflow issued
    /// (against its provisioning debit or its paid invoice) — what the crash test audits.
    public static let schema = ModuleSchema(module: "workflow", migrations: [
        Migration(version: 1, name: "workflow runs and issued licences") { dialect in
            [
                """
                CREATE TABLE workflow_runs (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    idempotency_key TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL CHECK (kind IN ('provision', 'purchase')),
                    fingerprint TEXT NOT NULL,
                    reseller_refid TEXT,
                    client_refid TEXT,
                    product TEXT NOT NULL,
                    cost BIGINT NOT NULL,
                    transfer_refid TEXT,
                    invoice_refid TEXT,
                    balance_after BIGINT,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE workflow_licences (
                    licence_refid TEXT NOT NULL PRIMARY KEY,
                    client_refid TEXT NOT NULL,
                    source TEXT NOT NULL CHECK (source IN ('provision', 'purchase')),
                    run_key TEXT,
                    invoice_refid TEXT,
                    transfer_refid TEXT,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX workflow_licences_run ON workflow_licences (run_key)",
                "CREATE INDEX workflow_licences_invoice ON workflow_licences (invoice_refid)",
                "CREATE INDEX workflow_licences_client ON workflow_licences (client_refid)",
            ]
        },
    ])
}

/// The `workflow_licences` table: which licence a workflow issued, against what.
enum IssuedLicenceRecords {
    enum Source: String { case provision, purchase }

    /// Records `licence`, issued to `client` by a provisioning run (`runKey`) or a paid invoice.
    static func record(_ licence: Refid, client: Refid, source: Source, runKey: String? = nil, invoice: Refid? = nil,
                       transfer: Refid?, at now: Timestamp, in tx: any Transaction) throws {
        try tx.execute("""
            INSERT INTO workflow_licences (licence_refid, client_refid, source, run_key, invoice_refid, transfer_refid, created_at)
            VALUES (\(licence), \(client), \(source.rawValue), \(runKey), \(invoice), \(transfer), \(now))
            """)
    }

    /// The licences a provisioning run (`runKey`) or a paid invoice issued, without keys.
    static func fetch(runKey: String? = nil, invoice: Refid? = nil, licences: Licences, in tx: any Transaction) throws -> [IssuedLicence] {
        let condition: SQL = if let runKey { "run_key = \(runKey)" } else { "invoice_refid = \(invoice)" }
        let refids = try tx.query("""
            SELECT licence_refid FROM workflow_licences WHERE \(condition) ORDER BY created_at, licence_refid
            """).map { try $0.refid("licence_refid") }
        return try refids.compactMap { try licences.findByRefid($0, in: tx).map { IssuedLicence(licence: $0, key: nil) } }
    }
}
