public import SuiteCore

public import Ally
public import Client
import Foundation
public import Forge
public import SuiteCore
public import SuiteStorage
import Wallet
public import Wave

/// A failure of a workflow that is not one module's own error (those — `AllyError`,
/// `ClientError`, `ForgeError`, `WaveError` — reach the caller unchanged).
public struct WorkflowError: CodedError, Equatable {
    /// What went wrong. A struct so that codes can be added without breaking callers.
    public struct Code: ErrorCode {
        /// The code's snake_case text, e.g. `client_not_found`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        /// A field failed validation (key, client list, names).
        public static let validation = Code("validation")
        /// The client does not exist, or is not in the reseller's portfolio (the same answer, so
        /// a reseller cannot probe other portfolios).
        public static let clientNotFound = Code("client_not_found")
        /// A purchase names a client that belongs to a reseller.
        public static let notStandalone = Code("not_standalone")
        /// The idempotency key was used before with other parameters.
        public static let idempotencyConflict = Code("idempotency_conflict")
    }

    /// What went wrong.
    public var code: Code
    /// Safe to show a user.
    public var message: String
    /// An error with `code` and a user-safe `message`.
    public init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }
}

/// What a reseller provisioning did.
public struct ProvisionResult: Hashable, Sendable, Codable {
    /// The reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The product code the licences are for.
    public var product: String
    /// Credits spent in total (the tier-discounted price times the number of clients).
    public var cost: Int64
    /// The ledger transfer that spent them.
    public var transfer: Refid
    /// The reseller's credit balance right after the debit.
    public var balanceAfter: Int64
    /// One activated licence per client, in the order asked (keys only when `isNew`).
    public var licences: [IssuedLicence]
    /// False when the idempotency key had been used: the first result, nothing spent again.
    public var isNew: Bool
}

/// Who is buying in a standalone purchase.
public enum Customer: Hashable, Sendable {
    /// An existing client without a reseller.
    case existing(Refid)
    /// A new standalone client (status pending until the first payment is confirmed).
    case new(name: String, email: String)
}

/// What a standalone purchase did. In JSON the outcome's fields sit beside the others:
/// `{"client": {…}, "invoice": {…}, "licences": […], "is_new": true, "outcome": "paid", "payment": {…}}`.
public struct PurchaseResult: Hashable, Sendable, Encodable {
    /// The buying client, found or created.
    public var client: Client
    /// The invoice issued for the purchase.
    public var invoice: Invoice
    /// Paid (the licences below were issued in the same transaction), requires action (a checkout
    /// URL: licences follow when the gateway's signed webhook arrives), or failed.
    public var outcome: PaymentOutcome
    /// The licences the paid invoice delivered (keys only to the call that paid).
    public var licences: [IssuedLicence]
    /// False when the idempotency key had been used: the same client and invoice.
    public var isNew: Bool

    private enum CodingKeys: String, CodingKey { case client, invoice, licences, isNew }

    /// Encodes the result flat, with the payment outcome's fields beside the others (see the type's description).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(client, forKey: .client)
        try container.encode(invoice, forKey: .invoice)
        try container.encode(licences, forKey: .licences)
        try container.encode(isNew, forKey: .isNew)
        try outcome.encode(to: encoder)
    }
}

/// A client's activation history (licences over time) and billing history (payments over time).
public struct ClientHistory: Hashable, Sendable, Codable {
    /// The client.
    public var client: Client
    /// Licence activations per day, from Forge's analytics scoped to the client.
    public var activations: [TrendPoint]
    /// The client's licences (at most 100), in the query's order.
    public var licences: [Licence]
    /// The client's invoices, newest first, with the payment of each paid one.
    public var invoices: [Invoice]
    /// The payments of the paid invoices among ``invoices``.
    public var payments: [Payment]
    /// Money received from the client per day and currency, from Wave's analytics scoped to the client.
    public var revenue: [String: [RevenueTrendPoint]]
}

/// The suite's two workflows, atomic and idempotent.
///
/// - **Reseller provisioning** (``provision(reseller:clients:product:idempotencyKey:actor:)``):
///   in **one** transaction the reseller's credits are debited by the tier-discounted price (one
///   credit per minor unit of the product's price) times the number of clients — affordability
///   of the whole batch decided by the ledger's conditional debit inside that transaction — and one
///   licence per client is minted and activated. All or nothing; one idempotency key.
/// - **Standalone purchase** (``purchase(_:product:idempotencyKey:actor:)``): the client is found
///   or created (standalone, pending) and invoiced in one transaction; then payment is attempted.
///   When payment is confirmed — at once from the client's wallet, or later by the gateway's
///   signed webhook — ``SuiteFulfilment`` activates the client and mints its licence inside the
///   paying transaction, exactly once per paid invoice.
public struct Workflows: Sendable {
    /// The one database every module of the suite shares, so a workflow commits across them at once.
    public let database: any Database
    let clients: Clients
    let allies: Allies
    let products: Products
    let licences: Licences
    let invoices: Invoices
    let fulfilment: SuiteFulfilment
    let clock: any WallClock
    let failpoint: WorkflowFailpoint?

    /// The most clients one bulk provisioning may cover.
    public static let maximumBatch = 1_000

    init(database: any Database, clients: Clients, allies: Allies, products: Products, licences: Licences,
         invoices: Invoices, fulfilment: SuiteFulfilment, clock: any WallClock, failpoint: WorkflowFailpoint?) {
        self.database = database
        self.clients = clients
        self.allies = allies
        self.products = products
        self.licences = licences
        self.invoices = invoices
        self.fulfilment = fulfilment
        self.clock = clock
        self.failpoint = failpoint
    }

    // MARK: Reseller provisioning

    /// A reseller provisions `product` for one of its clients. See ``provision(reseller:clients:product:idempotencyKey:actor:)``.
    public func provision(reseller: Refid, client: Refid, product: String, idempotencyKey: String,
                          actor: String = "system") async throws -> ProvisionResult {
        try await provision(reseller: reseller, clients: [client], product: product, idempotencyKey: idempotencyKey, actor: actor)
    }

    /// A reseller provisions `product` for each of `clients` (its own), all or nothing, in one
    /// transaction under one idempotency key. Errors: `WorkflowError` (`.clientNotFound` for a
    /// client outside the portfolio, `.idempotencyConflict`, `.validation`), `AllyError`
    /// (`.insufficientCredits` with balance and cost, unknown or suspended reseller), `WaveError`
    /// (`.invalidProduct`), `ForgeError` (a suspended client). Nothing is written on any error.
    public func provision(reseller: Refid, clients targets: [Refid], product: String, idempotencyKey: String,
                          actor: String = "system") async throws -> ProvisionResult {
        let (key, fingerprint) = try Self.provisionRequest(reseller: reseller, clients: targets, product: product,
                                                           idempotencyKey: idempotencyKey)
        // A concurrent call with the same key may commit its record first (a unique violation), or,
        // on PostgreSQL, spend the credits after this one looked for the key (too few credits
        // left): the second run finds the record and replays it.
        return try await database.writeResolvingRace(alsoRetrying: { error in
            (error as? AllyError)?.code == .insufficientCredits
        }) { tx in
            try self.provision(reseller: reseller, clients: targets, product: product, key: key, fingerprint: fingerprint,
                               actor: actor, in: tx)
        }
    }

    /// The provisioning inside the caller's transaction, to compose it with the caller's own
    /// writes: everything commits or rolls back with that transaction. A concurrent call with the
    /// same key makes this one fail with a unique violation (`StorageError`) once the other
    /// commits; run the whole transaction again and it returns the first result.
    public func provision(reseller: Refid, clients targets: [Refid], product: String, idempotencyKey: String,
                          actor: String = "system", in tx: any Transaction) throws -> ProvisionResult {
        let (key, fingerprint) = try Self.provisionRequest(reseller: reseller, clients: targets, product: product,
                                                           idempotencyKey: idempotencyKey)
        return try provision(reseller: reseller, clients: targets, product: product, key: key, fingerprint: fingerprint,
                             actor: actor, in: tx)
    }

    /// The checked key and the parameters' fingerprint of a provisioning request.
    static func provisionRequest(reseller: Refid, clients targets: [Refid], product: String,
                                 idempotencyKey: String) throws -> (key: IdempotencyKey, fingerprint: String) {
        let key = try key(idempotencyKey)
        guard (1...maximumBatch).contains(targets.count) else {
            throw WorkflowError(.validation, message: "Invalid clients: 1–\(maximumBatch) clients per provisioning")
        }
        guard Set(targets).count == targets.count else {
            throw WorkflowError(.validation, message: "Invalid clients: a client is listed twice")
        }
        return (key, "provision|\(reseller.rawValue)|\(product)|\(targets.map(\.rawValue).joined(separator: ","))")
    }

    private func provision(reseller: Refid, clients targets: [Refid], product: String, key: IdempotencyKey, fingerprint: String,
                           actor: String, in tx: any Transaction) throws -> ProvisionResult {
        if let replay = try replayProvision(key: key, fingerprint: fingerprint, clients: targets, in: tx) { return replay }
        // Each party is read once here and handed on: Forge is given the client and the product
        // it would otherwise ask its directories for again in this transaction.
        let found = try allies.find(reseller, in: tx)
        let portfolio = try targets.map { target in
            guard let client = try clients.client(target, in: tx), client.reseller == reseller else {
                throw WorkflowError(.clientNotFound, message: "Client Not Found: \(target.rawValue.prefix(40)) is not in the reseller's portfolio")
            }
            return client
        }
        let item = try products.forSale(product, in: tx)
        let total = try allies.discounts.cost(of: item.price, for: found.tier, count: targets.count)
        try failpoint?(.validated)
        let spent = try allies.provision(reseller, cost: total,
                                         action: "Provision \(item.slug) for \(targets.count) client\(targets.count == 1 ? "" : "s")",
                                         key: key.scoped("workflow"), in: tx)
        try failpoint?(.creditsDebited)
        let now = Timestamp(clock.now())
        var issued: [IssuedLicence] = []
        for client in portfolio {
            let minted = try licences.make().product(item.summary)
                .metadata(["reseller": .string(reseller.rawValue), "provision": .string(key.rawValue)])
                .mintActivated(for: client, actor: actor, in: tx)
            try IssuedLicenceRecords.record(minted.licence.refid, client: client.refid, source: .provision, runKey: key.rawValue,
                                            transfer: spent.transfer, at: now, in: tx)
            issued.append(IssuedLicence(licence: minted.licence, key: minted.key))
            try failpoint?(.licenceMinted)
        }
        try tx.execute("""
            INSERT INTO workflow_runs (idempotency_key, kind, fingerprint, reseller_refid, client_refid, product, cost,
                                       transfer_refid, invoice_refid, balance_after, created_at)
            VALUES (\(key.rawValue), 'provision', \(fingerprint), \(reseller), \(targets.count == 1 ? targets[0].rawValue : nil), \(item.slug),
                    \(total), \(spent.transfer), NULL, \(spent.balanceAfter), \(now))
            """)
        try failpoint?(.recorded)
        return ProvisionResult(reseller: reseller, product: item.slug, cost: total, transfer: spent.transfer,
                               balanceAfter: spent.balanceAfter, licences: issued, isNew: true)
    }

    private func replayProvision(key: IdempotencyKey, fingerprint: String, clients targets: [Refid],
                                 in tx: any Transaction) throws -> ProvisionResult? {
        // The fingerprint begins with the run's kind, so a purchase's key is a conflict here.
        guard let row = try key.replay("""
            SELECT fingerprint, reseller_refid, product, cost, transfer_refid, balance_after FROM workflow_runs
            WHERE idempotency_key = \(key.rawValue)
            """, fingerprint: fingerprint, in: tx, orThrow: { Self.conflict }) else { return nil }
        // Back in the order the clients were asked for (the fingerprint matched, so these are they).
        let position = Dictionary(uniqueKeysWithValues: targets.enumerated().map { ($1, $0) })
        let issued = try IssuedLicenceRecords.fetch(runKey: key.rawValue, licences: licences, in: tx).sorted { first, second in
            (first.licence.client.flatMap { position[$0] } ?? 0) < (second.licence.client.flatMap { position[$0] } ?? 0)
        }
        return ProvisionResult(reseller: try row.refid("reseller_refid"), product: try row.string("product"),
                               cost: try row.int64("cost"), transfer: try row.refid("transfer_refid"),
                               balanceAfter: try row.int64("balance_after"), licences: issued, isNew: false)
    }

    // MARK: Standalone purchase

    /// A standalone client buys `product`: found or created, invoiced, and payment attempted —
    /// the wallet first, else a checkout session. The client is activated and its licence issued
    /// only when payment is confirmed (see ``SuiteFulfilment``). The same key returns the same
    /// client and invoice and never invoices twice; calling again after topping up the wallet
    /// pays the same invoice.
    public func purchase(_ customer: Customer, product: String, idempotencyKey: String,
                         actor: String = "system") async throws -> PurchaseResult {
        let key = try Self.key(idempotencyKey)
        let fingerprint: String
        switch customer {
        case .existing(let refid): fingerprint = "purchase|existing|\(refid.rawValue)|\(product)"
        case .new(let name, let email): fingerprint = "purchase|new|\(name)|\(email.lowercased())|\(product)"
        }
        // A concurrent call with the same key may commit its record first (a unique violation), or,
        // for a new customer, create the client first (a duplicate email): the second run finds
        // the record. Without a record for this key a duplicate email is genuine, and the second
        // run says so again.
        var (client, invoice, isNew) = try await database.writeResolvingRace(alsoRetrying: { error in
            (error as? ClientError)?.code == .duplicateEmail
        }) { tx in
            try self.openPurchase(customer, product: product, key: key, fingerprint: fingerprint, actor: actor, in: tx)
        }
        let outcome = try await invoices.attemptPayment(invoice.refid, key: key.scoped("purchase"), actor: actor)
        var issued = fulfilment.takeIssued(for: invoice.refid) ?? []
        if outcome.isPaid {
            if issued.isEmpty { issued = try await licencesIssued(for: invoice.refid) }
            client = try await clients.find(client.refid)
            invoice = try await invoices.findByRefid(invoice.refid) ?? invoice
        }
        return PurchaseResult(client: client, invoice: invoice, outcome: outcome, licences: issued, isNew: isNew)
    }

    private func openPurchase(_ customer: Customer, product: String, key: IdempotencyKey, fingerprint: String, actor: String,
                              in tx: any Transaction) throws -> (Client, Invoice, Bool) {
        if let row = try key.replay("""
            SELECT fingerprint, client_refid, invoice_refid FROM workflow_runs WHERE idempotency_key = \(key.rawValue)
            """, fingerprint: fingerprint, in: tx, orThrow: { Self.conflict }) {
            guard let client = try clients.findByRefid(try row.refid("client_refid"), in: tx),
                  let invoice = try invoices.findByRefid(try row.refid("invoice_refid"), in: tx)
            else { throw Self.conflict }
            return (client, invoice, false)
        }
        let item = try products.forSale(product, in: tx)
        let client: Client
        switch customer {
        case .existing(let refid):
            guard let found = try clients.findByRefid(refid, in: tx) else {
                throw WorkflowError(.clientNotFound, message: "Client Not Found: no client with this refid")
            }
            guard found.reseller == nil else {
                throw WorkflowError(.notStandalone, message: "Not Standalone: this client buys through its reseller")
            }
            client = found
        case .new(let name, let email):
            client = try clients.make().name(name).email(email).create(actor: actor, in: tx)
        }
        try failpoint?(.clientResolved)
        let invoice = try invoices.make().for(client.summary).currency(item.currency)
            .line(item).description("Purchase of \(item.name)").dueNow()
            .create(actor: actor, in: tx)
        try failpoint?(.invoiceCreated)
        try tx.execute("""
            INSERT INTO workflow_runs (idempotency_key, kind, fingerprint, reseller_refid, client_refid, product, cost,
                                       transfer_refid, invoice_refid, balance_after, created_at)
            VALUES (\(key.rawValue), 'purchase', \(fingerprint), NULL, \(client.refid), \(item.slug), \(item.price), NULL, \(invoice.refid),
                    NULL, \(Timestamp(clock.now())))
            """)
        try failpoint?(.recorded)
        return (client, invoice, true)
    }

    /// The licences a paid invoice delivered (without keys).
    public func licencesIssued(for invoice: Refid) async throws -> [IssuedLicence] {
        try await database.read { tx in try IssuedLicenceRecords.fetch(invoice: invoice, licences: licences, in: tx) }
    }

    // MARK: History

    /// The client's activation history (licence activations per day over `days`, from Forge's
    /// analytics, and its licences) and billing history (money received per day, from Wave's
    /// analytics, with its invoices and payments), each scoped to the client.
    public func history(of client: Refid, days: Int = 30) async throws -> ClientHistory {
        guard (1...3_660).contains(days) else { throw WorkflowError(.validation, message: "Invalid days: 1–3,660") }
        let found = try await clients.find(client)
        let today = CivilDate(clock.now())
        let activations = try await licences.analytics().daily().forClient(client)
            .activationTrends(from: CivilDate(dayNumber: today.dayNumber - Int64(days - 1)), to: today)
        let owned = try await licences.query().forClient(client).limit(100).fetch().items
        let billed = try await invoices.getByClient(client, limit: 100).items
        var payments: [Payment] = []
        for invoice in billed where invoice.status == .paid {
            if let payment = try await invoices.payment(of: invoice.refid) { payments.append(payment) }
        }
        var revenue: [String: [RevenueTrendPoint]] = [:]
        for currency in Set(payments.map(\.currency)).sorted() {
            revenue[currency] = try await invoices.analytics().daily().forClient(client)
                .revenueTrends(from: CivilDate(dayNumber: today.dayNumber - Int64(days - 1)), to: today, currency: currency)
        }
        return ClientHistory(client: found, activations: activations, licences: owned, invoices: billed, payments: payments,
                             revenue: revenue)
    }

    // MARK: Helpers

    /// The error a workflow key reused for another request throws.
    static let conflict = WorkflowError(.idempotencyConflict, message: IdempotencyKey.conflictMessage)

    /// A caller's key, without surrounding spaces, checked by the suite's one rule.
    static func key(_ raw: String) throws -> IdempotencyKey {
        guard let key = IdempotencyKey(raw.trimmingCharacters(in: .whitespaces)) else {
            throw WorkflowError(.validation, message: "Invalid idempotency key: \(IdempotencyKey.rule)")
        }
        return key
    }
}
