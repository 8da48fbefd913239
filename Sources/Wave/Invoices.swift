import Foundation
public import Logging
public import SuiteCore
public import SuiteStorage
public import Wallet

/// Wave's invoices: issued to a client in one currency, numbered `INV-YYYY-NNNN` without gaps,
/// moved through ``InvoiceStatus`` by an explicit transition table, every move audited — and paid
/// from the client's wallet or through a ``PaymentGateway`` (see `Invoices+Payment.swift`).
///
/// ```swift
/// let invoices = Invoices(database: database, clients: clients, gateway: LocalCheckoutGateway(database: database))
/// let invoice = try await invoices.make().for(client.refid).currency("USD")
///     .line("Pro licence", amount: 4_900, product: "pro-1y").description("Order 42").due(inDays: 14).create()
/// print(invoice.number)   // INV-2026-0001
/// ```
public struct Invoices: Sendable {
    /// Where invoices and payments are stored.
    public let database: any Database
    /// Where client wallets live (accounts owned by the client refid, in the invoice's currency).
    public let ledger: Ledger
    /// Checks that an invoiced client exists and is not inactive (the Client module's `Clients`).
    public let clients: any ClientDirectory
    /// Where a payment goes when the wallet is short; nil reports such a payment as failed.
    public private(set) var gateway: (any PaymentGateway)?
    /// Where ``InvoiceCreated``, ``InvoicePaid`` and ``InvoiceStatusChanged`` are published after commit.
    public let events: DomainEventBus
    /// Runs inside the transaction that marks an invoice paid — by wallet, checkout webhook or
    /// by hand — exactly once per invoice; nil for none. A workflow uses it to deliver what was
    /// bought (the suite's standalone purchase activates the client and mints its licence).
    public let fulfilment: (any InvoiceFulfilment)?
    /// The source of every timestamp and due date the service writes.
    public let clock: any WallClock
    /// Where the service logs.
    public let logger: Logger

    /// The most lines an invoice may have.
    public static let maximumLines = 100
    /// The largest quantity of one line.
    public static let maximumQuantity: Int64 = 1_000_000
    /// The furthest an invoice may be due, in days.
    public static let maximumDueDays = 3_650
    /// The last sequence number a year may hand out (`INV-2026-99999999`).
    public static let maximumSequence: Int64 = 99_999_999

    /// Invoices over `database`, checking clients through `clients`; without a `gateway`, a payment
    /// the wallet cannot cover fails.
    /// - Parameter ledger: where client wallets live; nil opens one on `database` (a suite passes its one ledger).
    public init(database: any Database, clients: any ClientDirectory, gateway: (any PaymentGateway)? = nil,
                events: DomainEventBus = DomainEventBus(), fulfilment: (any InvoiceFulfilment)? = nil,
                ledger: Ledger? = nil, clock: any WallClock = SystemWallClock(),
                logger: Logger = Logger(label: "clientsuite.wave")) {
        self.database = database
        self.ledger = ledger ?? Ledger(database: database, clock: clock)
        self.clients = clients
        self.gateway = gateway
        self.events = events
        self.fulfilment = fulfilment
        self.clock = clock
        self.logger = logger
    }

    /// This service without a payment gateway: a payment the wallet cannot cover fails instead
    /// of opening a checkout session.
    public func walletOnly() -> Invoices {
        var copy = self
        copy.gateway = nil
        return copy
    }

    /// A fluent invoice builder: `invoices.make().for(client).currency("USD").line("Pro", amount: 4_900).create()`.
    public func make() -> InvoiceBuilder { InvoiceBuilder(invoices: self) }

    // MARK: Issuing

    func issue(_ builder: InvoiceBuilder, actor: String, in tx: any Transaction) throws -> Invoice {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        guard let clientRefid = builder.client else { throw WaveError.invalid("client", "required") }
        guard let rawCurrency = builder.currency else {
            throw WaveError(.invalidCurrency, message: "Invalid Currency: required (an ISO 4217 code such as USD)")
        }
        let currency = try WaveValidation.currency(rawCurrency)
        let description = try builder.description.map { try WaveValidation.text($0, field: "description", maximum: 1_000) }
        var drafts = builder.lines
        if let amount = builder.amount {
            guard drafts.isEmpty else { throw WaveError.invalid("lines", "give an amount or lines, not both") }
            drafts = [InvoiceBuilder.LineDraft(description: description ?? "Invoice", amount: amount, quantity: 1, product: nil)]
        }
        guard !drafts.isEmpty else { throw WaveError.invalid("lines", "at least one line (or an amount) is required") }
        guard drafts.count <= Self.maximumLines else { throw WaveError.invalid("lines", "at most \(Self.maximumLines) lines") }
        guard (0...Self.maximumDueDays).contains(builder.dueInDays) else {
            throw WaveError.invalid("due days", "use 0…\(Self.maximumDueDays)")
        }
        var lines: [InvoiceLine] = []
        var total: Int64 = 0
        for draft in drafts {
            let text = try WaveValidation.text(draft.description, field: "line description", maximum: 500)
            guard draft.amount > 0 else {
                throw WaveError(.invalidAmount, message: "Invalid amount: a line amount must be greater than zero")
            }
            guard (1...Self.maximumQuantity).contains(draft.quantity) else {
                throw WaveError.invalid("quantity", "use 1…\(Self.maximumQuantity)")
            }
            let (amount, lineOverflow) = draft.amount.multipliedReportingOverflow(by: draft.quantity)
            let (sum, totalOverflow) = total.addingReportingOverflow(amount)
            guard !lineOverflow, !totalOverflow else {
                throw WaveError(.invalidAmount, message: "Invalid amount: the invoice total is too large")
            }
            total = sum
            if let slug = draft.product {
                guard let product = try draft.resolvedProduct
                    ?? Products.table.findBySlug(slug, in: tx)
                else { throw WaveError(.invalidProduct, message: "Invalid Product: no product with slug \(slug.prefix(64))") }
                guard product.isActive else {
                    throw WaveError(.invalidProduct, message: "Invalid Product: \(product.slug) is not for sale")
                }
                guard product.currency == currency else {
                    throw WaveError(.currencyMismatch,
                                    message: "Currency Mismatch: \(product.slug) is priced in \(product.currency), the invoice is in \(currency)")
                }
            }
            lines.append(InvoiceLine(description: text, product: draft.product, unitAmount: draft.amount,
                                     quantity: draft.quantity, amount: amount))
        }
        try usableClient(clientRefid, resolved: builder.resolvedClient, in: tx)
        let now = Timestamp(clock.now())
        let (due, dueOverflow) = now.milliseconds.addingReportingOverflow(Int64(builder.dueInDays) * 86_400_000)
        guard !dueOverflow else { throw WaveError.invalid("due days", "the due date would overflow") }
        let year = CivilDate(now.date).year
        let sequence = try nextSequence(year: year, in: tx)
        let number = Self.number(year: year, sequence: sequence)
        let refid = Refid.generate(prefix: "IN-")
        let id = try tx.insertReturningID("""
            INSERT INTO wave_invoices (refid, number, year, sequence, client_refid, currency, total, description, status,
                                       due_at, version, created_at, updated_at)
            VALUES (\(refid), \(number), \(year), \(sequence), \(clientRefid), \(currency), \(total), \(description), 'open',
                    \(due), 1, \(now), \(now))
            """)
        for (position, line) in lines.enumerated() {
            try tx.execute("""
                INSERT INTO wave_invoice_lines (invoice_id, position, description, product, unit_amount, quantity, amount)
                VALUES (\(id), \(position), \(line.description), \(line.product), \(line.unitAmount), \(line.quantity), \(line.amount))
                """)
        }
        try audit(id: id, version: 1, event: "created", from: nil, to: .open, actor: actor, reason: nil, detail: number,
                  at: now, in: tx)
        let events = events
        let created = InvoiceCreated(invoice: refid, number: number, client: clientRefid, total: total, currency: currency)
        tx.afterCommit { events.publish(created) }
        return Invoice(refid: refid, number: number, client: clientRefid, currency: currency, total: total,
                       description: description, status: .open, lines: lines, dueAt: Timestamp(milliseconds: due).date,
                       paidAt: nil, paymentMethod: nil, paymentReference: nil, createdAt: now.date, updatedAt: now.date)
    }

    /// The next number of `year`, taken inside the invoice's transaction: the counter row is
    /// created if missing, then incremented by a conditional `UPDATE … RETURNING`, which holds the
    /// row's lock until commit. Concurrent invoices queue on that row; a rollback returns the number.
    private func nextSequence(year: Int, in tx: any Transaction) throws -> Int64 {
        try tx.execute("INSERT INTO wave_invoice_counters (year, last_sequence) VALUES (\(year), 0) ON CONFLICT (year) DO NOTHING")
        guard let sequence = try tx.queryInt64("""
            UPDATE wave_invoice_counters SET last_sequence = last_sequence + 1
            WHERE year = \(year) AND last_sequence < \(Self.maximumSequence)
            RETURNING last_sequence
            """)
        else { throw WaveError.invalid("invoice number", "this year's \(Self.maximumSequence) numbers are used up") }
        return sequence
    }

    /// `INV-2026-0001`: at least four digits, more once a year passes 9999 invoices.
    static func number(year: Int, sequence: Int64) -> String {
        let digits = String(sequence)
        return "INV-\(year)-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: Status

    /// Open or uncollectible → void: nothing is owed. Audited.
    @discardableResult
    public func void(_ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Invoice {
        try await move(.void, refid, actor: actor, reason: reason)
    }

    /// Open → uncollectible: written off, still payable. Audited.
    @discardableResult
    public func markUncollectible(_ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Invoice {
        try await move(.markUncollectible, refid, actor: actor, reason: reason)
    }

    private func move(_ transition: InvoiceTransition, _ refid: Refid, actor: String, reason: String?) async throws -> Invoice {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        let reason = try reason.map { try WaveValidation.text($0, field: "reason", maximum: 1_000) }
        return try await database.write { tx in
            let (row, current) = try self.locked(refid, in: tx)
            let target = try transition.target(from: current.status, orThrow: WaveError.transitionDenied)
            let now = Timestamp(self.clock.now())
            let version = try tx.advanceVersion(of: "wave_invoices", id: row.id, from: row.version,
                                                setting: "status = \(target.rawValue), ", updatedAt: now)
            try self.audit(id: row.id, version: version, event: transition.rawValue, from: current.status, to: target,
                           actor: actor, reason: reason, detail: nil, at: now, in: tx)
            let events = self.events
            let changed = InvoiceStatusChanged(invoice: refid, from: current.status, to: target, actor: actor, reason: reason)
            tx.afterCommit { events.publish(changed) }
            var invoice = current
            invoice.status = target
            invoice.updatedAt = now.date
            return invoice
        }
    }

    // MARK: Lookups

    /// The invoice with `refid`; throws "Invoice Not Found" if there is none.
    public func find(_ refid: Refid) async throws -> Invoice {
        try await database.read { tx in try self.find(refid, in: tx) }
    }

    /// The invoice with `refid`, read inside an open transaction; throws "Invoice Not Found" if there is none.
    public func find(_ refid: Refid, in tx: any Transaction) throws -> Invoice {
        guard let invoice = try findByRefid(refid, in: tx) else { throw WaveError.notFound("invoice", refid.rawValue) }
        return invoice
    }

    /// The invoice with `refid`, or nil.
    public func findByRefid(_ refid: Refid) async throws -> Invoice? {
        try await database.read { tx in try self.findByRefid(refid, in: tx) }
    }

    /// The invoice with `refid`, or nil, read inside an open transaction.
    public func findByRefid(_ refid: Refid, in tx: any Transaction) throws -> Invoice? {
        try fetch("SELECT \(raw: Self.columns) FROM wave_invoices WHERE refid = \(refid)", in: tx).first
    }

    /// The invoice numbered `number` (`INV-2026-0001`), or nil.
    public func findByNumber(_ number: String) async throws -> Invoice? {
        try await database.read { tx in
            try self.fetch("SELECT \(raw: Self.columns) FROM wave_invoices WHERE number = \(number)", in: tx).first
        }
    }

    /// One page of a client's invoices, oldest first (1…500 per page).
    public func getByClient(_ client: Refid, limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<Invoice> {
        try await page(where: ["client_refid = \(client)"], limit: limit, after: cursor)
    }

    /// One page of all invoices, oldest first (1…500 per page).
    public func list(limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<Invoice> {
        try await page(where: [], limit: limit, after: cursor)
    }

    /// A page of the invoices that meet `conditions`; a cursor must name one of them.
    private func page(where conditions: [SQL], limit: Int, after cursor: Cursor?) async throws -> Page<Invoice> {
        try WaveError.checkLimit(limit)
        return try await database.read { tx in
            try Keyset(table: "wave_invoices").page(
                select: Self.columns, where: conditions, after: cursor, scope: conditions.isEmpty ? nil : SQL.joined(conditions, separator: " AND "),
                limit: limit, in: tx, invalidCursor: WaveError.invalidCursor,
                fetch: { try self.fetch($0, in: tx) }, refid: \.refid)
        }
    }

    /// The invoice's audit trail, oldest first.
    public func auditTrail(of refid: Refid, limit: Int = 100) async throws -> [InvoiceAuditEntry] {
        guard (1...1000).contains(limit) else { throw WaveError.invalid("limit", "use 1…1000") }
        return try await database.read { tx in
            guard let id = try tx.queryInt64("SELECT id FROM wave_invoices WHERE refid = \(refid)") else {
                throw WaveError.invoiceNotFound("refid")
            }
            return try Self.auditLog.trail(owner: id, limit: limit, in: tx)
        }
    }

    // MARK: Internals

    static let columns = """
        id, version, refid, number, client_refid, currency, total, description, status, due_at, paid_at, payment_method, \
        payment_reference, created_at, updated_at
        """

    /// Invoices of a bounded query, with their lines (one more query for all of them).
    func fetch(_ sql: SQL, in tx: any Transaction) throws -> [Invoice] {
        let rows = try tx.query(sql)
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.int64("id") }
        let lineRows = try tx.query("""
            SELECT invoice_id, description, product, unit_amount, quantity, amount FROM wave_invoice_lines
            WHERE invoice_id IN (\(SQL.joined(ids.map { id -> SQL in "\(id)" }, separator: ", "))) ORDER BY invoice_id, position
            """)
        var lines: [Int64: [InvoiceLine]] = [:]
        for row in lineRows {
            lines[try row.int64("invoice_id"), default: []].append(
                InvoiceLine(description: try row.string("description"), product: try row.optionalString("product"),
                            unitAmount: try row.int64("unit_amount"), quantity: try row.int64("quantity"),
                            amount: try row.int64("amount")))
        }
        return try rows.map { row in try Self.decode(row, lines: lines[try row.int64("id")] ?? []) }
    }

    static func decode(_ row: Row, lines: [InvoiceLine]) throws -> Invoice {
        guard let status = InvoiceStatus(rawValue: try row.string("status")) else {
            throw StorageError(code: .decoding, message: "stored invoice data has an unexpected shape")
        }
        return Invoice(refid: try row.refid("refid"), number: try row.string("number"), client: try row.refid("client_refid"),
                       currency: try row.string("currency"), total: try row.int64("total"),
                       description: try row.optionalString("description"), status: status, lines: lines,
                       dueAt: try row.timestamp("due_at").date, paidAt: try row.optionalTimestamp("paid_at")?.date,
                       paymentMethod: try row.optionalString("payment_method"),
                       paymentReference: try row.optionalString("payment_reference"),
                       createdAt: try row.timestamp("created_at").date, updatedAt: try row.timestamp("updated_at").date)
    }

    /// The invoice, its row id and version, locked until commit (PostgreSQL `FOR UPDATE`; SQLite's
    /// write transaction is already exclusive).
    func locked(_ refid: Refid, in tx: any Transaction) throws -> ((id: Int64, version: Int64), Invoice) {
        guard let row = try tx.queryFirst("""
            SELECT \(raw: Self.columns) FROM wave_invoices WHERE refid = \(refid)\(raw: tx.dialect.forUpdate)
            """)
        else { throw WaveError.invoiceNotFound("refid") }
        let id = try row.int64("id")
        let invoice = try fetch("SELECT \(raw: Self.columns) FROM wave_invoices WHERE id = \(id)", in: tx)[0]
        return ((id, try row.int64("version")), invoice)
    }

    /// The client, which must exist and not be inactive (a suspended client still owes its invoices).
    @discardableResult
    /// The client, which must exist and not be inactive; `resolved` is the caller's own reading of
    /// it in this transaction, which spares asking the directory again.
    func usableClient(_ refid: Refid, resolved: ClientSummary? = nil, in tx: any Transaction) throws -> ClientSummary {
        guard let summary = try resolved.flatMap({ $0.refid == refid ? $0 : nil }) ?? clients.client(refid, in: tx) else {
            throw WaveError(.invalidClient, message: "Invalid Client: no client with refid \(refid.rawValue.prefix(64))")
        }
        guard summary.status != .inactive else {
            throw WaveError(.invalidClient, message: "Invalid Client: the client is inactive")
        }
        return summary
    }

    static let auditLog = AuditLog<InvoiceStatus>(table: "wave_invoice_audit", owner: "invoice_id", hasDetail: true)

    func audit(id: Int64, version: Int64, event: String, from: InvoiceStatus?, to: InvoiceStatus?, actor: String,
               reason: String?, detail: String?, at: Timestamp, in tx: any Transaction) throws {
        try Self.auditLog.record(owner: id, version: version, event: event, from: from, to: to, actor: actor, reason: reason,
                                 detail: detail, at: at, in: tx)
    }
}

/// A fluent, value-typed invoice builder.
///
/// ```swift
/// let invoice = try await invoices.make().for(client).currency("USD")
///     .line("Pro licence", amount: 4_900, quantity: 2, product: "pro-1y").dueNow().create()
/// ```
public struct InvoiceBuilder: Sendable {
    struct LineDraft: Sendable {
        var description: String
        var amount: Int64
        var quantity: Int64
        var product: String?
        var resolvedProduct: Product?
    }

    let invoices: Invoices
    var client: Refid?
    var resolvedClient: ClientSummary?
    var currency: String?
    var description: String?
    var amount: Int64?
    var lines: [LineDraft] = []
    var dueInDays = 0

    /// The client billed (must exist and not be inactive).
    public func `for`(_ client: Refid) -> InvoiceBuilder { with { $0.client = client; $0.resolvedClient = nil } }
    /// The client billed, as the caller has already read it in the issuing transaction
    /// (Client's `Client.summary`): the ``ClientDirectory`` is not asked again.
    public func `for`(_ client: ClientSummary) -> InvoiceBuilder { with { $0.client = client.refid; $0.resolvedClient = client } }
    /// An ISO 4217 code such as `USD`.
    public func currency(_ code: String) -> InvoiceBuilder { with { $0.currency = code } }
    /// A free-text note on the whole invoice (optional).
    public func description(_ text: String) -> InvoiceBuilder { with { $0.description = text } }
    /// A single-line invoice of `amount` minor units, described by ``description(_:)``. Not with ``line(_:amount:quantity:product:)``.
    public func amount(_ amount: Int64) -> InvoiceBuilder { with { $0.amount = amount } }
    /// Adds a line of `quantity × amount` minor units, optionally selling a product (by slug).
    public func line(_ description: String, amount: Int64, quantity: Int64 = 1, product: String? = nil) -> InvoiceBuilder {
        with { $0.lines.append(LineDraft(description: description, amount: amount, quantity: quantity, product: product)) }
    }
    /// Adds a line selling `product` at its price, as the caller has already read it in the
    /// issuing transaction: the catalogue is not read again (it is still checked for sale and currency).
    public func line(_ product: Product, quantity: Int64 = 1) -> InvoiceBuilder {
        with {
            $0.lines.append(LineDraft(description: product.name, amount: product.price, quantity: quantity, product: product.slug,
                                      resolvedProduct: product))
        }
    }
    /// Due `days` days after issue (0…3650).
    public func due(inDays days: Int) -> InvoiceBuilder { with { $0.dueInDays = days } }
    /// Due on issue (the default).
    public func dueNow() -> InvoiceBuilder { due(inDays: 0) }

    /// Issues the invoice, numbering it in the same transaction.
    public func create(actor: String = "system") async throws -> Invoice {
        let builder = self
        return try await invoices.database.write { tx in try builder.invoices.issue(builder, actor: actor, in: tx) }
    }

    /// Issues the invoice inside an open transaction.
    public func create(actor: String = "system", in tx: any Transaction) throws -> Invoice {
        try invoices.issue(self, actor: actor, in: tx)
    }

    private func with(_ change: (inout InvoiceBuilder) -> Void) -> InvoiceBuilder {
        var copy = self
        change(&copy)
        return copy
    }
}

/// What happens when an invoice is paid, inside the transaction that pays it.
///
/// Called once per invoice — the invoice row is locked and moved to paid by a compare-and-set
/// before the hook runs, so concurrent payments, redelivered webhooks and retries never call it
/// twice for one invoice. Throwing rolls the payment back (for a webhook, the gateway retries);
/// the error reaches the caller unchanged.
public protocol InvoiceFulfilment: Sendable {
    /// `invoice` as it was before payment (status open or uncollectible); `payment` is the new payment.
    func invoicePaid(_ invoice: Invoice, payment: Payment, in tx: any Transaction) throws
}
