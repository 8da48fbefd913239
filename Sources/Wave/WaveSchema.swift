public import SuiteStorage

extension WaveModule {
    /// The Wave module's tables (the ledger's are installed with them by ``WaveModule/install(on:)``).
    public static let schema = ModuleSchema(module: "wave", migrations: [
        Migration(version: 1, name: "products, invoices, payments, checkout sessions") { dialect in
            [
                """
                CREATE TABLE wave_products (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    slug TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    price BIGINT NOT NULL CHECK (price > 0),
                    currency TEXT NOT NULL,
                    licence_days INTEGER,
                    active INTEGER NOT NULL,
                    version BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE wave_product_audit (
                    product_id BIGINT NOT NULL REFERENCES wave_products (id),
                    version BIGINT NOT NULL,
                    event TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    at BIGINT NOT NULL,
                    PRIMARY KEY (product_id, version)
                )\(raw: dialect.withoutRowID)
                """,
                // One row per year: the last invoice sequence handed out. Incremented inside the
                // invoice's own transaction, so a rollback returns the number and there is no gap.
                """
                CREATE TABLE wave_invoice_counters (
                    year INTEGER NOT NULL PRIMARY KEY,
                    last_sequence BIGINT NOT NULL CHECK (last_sequence >= 0)
                )
                """,
                """
                CREATE TABLE wave_invoices (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    number TEXT NOT NULL UNIQUE,
                    year INTEGER NOT NULL,
                    sequence BIGINT NOT NULL,
                    client_refid TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    total BIGINT NOT NULL CHECK (total > 0),
                    description TEXT,
                    status TEXT NOT NULL CHECK (status IN ('open', 'paid', 'void', 'uncollectible')),
                    due_at BIGINT NOT NULL,
                    paid_at BIGINT,
                    payment_method TEXT,
                    payment_reference TEXT,
                    version BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    UNIQUE (year, sequence)
                )
                """,
                "CREATE INDEX wave_invoices_client ON wave_invoices (client_refid, id)",
                """
                CREATE TABLE wave_invoice_lines (
                    invoice_id BIGINT NOT NULL REFERENCES wave_invoices (id),
                    position INTEGER NOT NULL,
                    description TEXT NOT NULL,
                    product TEXT,
                    unit_amount BIGINT NOT NULL CHECK (unit_amount > 0),
                    quantity BIGINT NOT NULL CHECK (quantity > 0),
                    amount BIGINT NOT NULL CHECK (amount > 0),
                    PRIMARY KEY (invoice_id, position)
                )\(raw: dialect.withoutRowID)
                """,
                """
                CREATE TABLE wave_invoice_audit (
                    invoice_id BIGINT NOT NULL REFERENCES wave_invoices (id),
                    version BIGINT NOT NULL,
                    event TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT,
                    actor TEXT NOT NULL,
                    reason TEXT,
                    detail TEXT,
                    at BIGINT NOT NULL,
                    PRIMARY KEY (invoice_id, version)
                )\(raw: dialect.withoutRowID)
                """,
                // An invoice is paid once: at most one payment row per invoice.
                """
                CREATE TABLE wave_payments (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    invoice_id BIGINT NOT NULL UNIQUE REFERENCES wave_invoices (id),
                    method TEXT NOT NULL,
                    reference TEXT,
                    transfer_refid TEXT,
                    amount BIGINT NOT NULL CHECK (amount > 0),
                    currency TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE wave_checkout_sessions (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    invoice_refid TEXT NOT NULL,
                    amount BIGINT NOT NULL CHECK (amount > 0),
                    currency TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('open', 'completed', 'expired')),
                    url TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                // At most one open session per invoice, so a retried attempt reuses it.
                "CREATE UNIQUE INDEX wave_checkout_sessions_open ON wave_checkout_sessions (invoice_refid) WHERE status = 'open'",
            ]
        },
        Migration(version: 2, name: "signed checkout webhooks: received events, gateway settings") { _ in
            [
                // One row per webhook event id: a redelivered event finds its row and changes nothing.
                """
                CREATE TABLE wave_webhook_events (
                    event_id TEXT NOT NULL PRIMARY KEY,
                    type TEXT NOT NULL,
                    session_refid TEXT,
                    invoice_refid TEXT,
                    outcome TEXT NOT NULL,
                    received_at BIGINT NOT NULL
                )
                """,
                // Named values the local gateway keeps, e.g. its webhook signing secret.
                """
                CREATE TABLE wave_settings (
                    name TEXT NOT NULL PRIMARY KEY,
                    value TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
            ]
        },
        Migration(version: 3, name: "subscription plans, subscriptions and their audit; revenue indexes") { dialect in
            [
                """
                CREATE TABLE wave_plans (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    slug TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    price BIGINT NOT NULL CHECK (price > 0),
                    currency TEXT NOT NULL,
                    billing_interval TEXT NOT NULL CHECK (billing_interval IN ('daily', 'weekly', 'monthly', 'yearly')),
                    active INTEGER NOT NULL,
                    version BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE wave_plan_audit (
                    plan_id BIGINT NOT NULL REFERENCES wave_plans (id),
                    version BIGINT NOT NULL,
                    event TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    at BIGINT NOT NULL,
                    PRIMARY KEY (plan_id, version)
                )\(raw: dialect.withoutRowID)
                """,
                // Periods are computed from `anchor_at` (the start of the first billed period) and
                // `periods` (how many have been invoiced), so month ends never drift (Jan 31 → Feb 28 → Mar 31).
                // `payment_pending` is 1 while `latest_invoice_refid` awaits its payment attempt or payment.
                """
                CREATE TABLE wave_subscriptions (
                    id \(raw: dialect.autoIncrementPrimaryKey),
                    refid TEXT NOT NULL UNIQUE,
                    client_refid TEXT NOT NULL,
                    plan_id BIGINT NOT NULL REFERENCES wave_plans (id),
                    status TEXT NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'canceled')),
                    trial_end BIGINT,
                    anchor_at BIGINT NOT NULL,
                    periods BIGINT NOT NULL CHECK (periods >= 0),
                    current_period_start BIGINT NOT NULL,
                    current_period_end BIGINT NOT NULL,
                    cancel_at_period_end INTEGER NOT NULL,
                    canceled_at BIGINT,
                    latest_invoice_refid TEXT,
                    payment_pending INTEGER NOT NULL,
                    version BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX wave_subscriptions_client ON wave_subscriptions (client_refid, id)",
                // One live subscription per client and plan, enforced by the engine (concurrent starts included).
                """
                CREATE UNIQUE INDEX wave_subscriptions_client_refid_plan_live ON wave_subscriptions (client_refid, plan_id)
                WHERE status <> 'canceled'
                """,
                // What the renewal job scans: live subscriptions by period end, and those awaiting payment.
                "CREATE INDEX wave_subscriptions_due ON wave_subscriptions (current_period_end) WHERE status <> 'canceled'",
                "CREATE INDEX wave_subscriptions_pending ON wave_subscriptions (id) WHERE payment_pending = 1",
                // MRR counts subscriptions per status and plan from this index alone.
                "CREATE INDEX wave_subscriptions_status_plan ON wave_subscriptions (status, plan_id)",
                """
                CREATE TABLE wave_subscription_audit (
                    subscription_id BIGINT NOT NULL REFERENCES wave_subscriptions (id),
                    version BIGINT NOT NULL,
                    event TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT,
                    actor TEXT NOT NULL,
                    reason TEXT,
                    detail TEXT,
                    at BIGINT NOT NULL,
                    PRIMARY KEY (subscription_id, version)
                )\(raw: dialect.withoutRowID)
                """,
                // Revenue analytics read payments by currency and time from these indexes (amount
                // included, so the sums never visit the table), and open invoices by status and time.
                "CREATE INDEX wave_payments_revenue ON wave_payments (currency, created_at, amount)",
                "CREATE INDEX wave_payments_time ON wave_payments (created_at, currency, amount)",
                "CREATE INDEX wave_invoices_status ON wave_invoices (status, created_at, currency, total)",
            ]
        },
    ])
}
