public import Client
import Foundation
public import Forge
import Synchronization
public import SuiteCore
public import SuiteStorage
public import Wave

/// A step of a workflow, for ``WorkflowFailpoint``: a test hook, not API (`package` access).
package enum WorkflowStep: String, Sendable, CaseIterable {
    /// Provision: reseller, clients and product checked, cost computed.
    case validated
    /// Provision: the reseller's credits debited (one ledger transfer for the whole batch).
    case creditsDebited
    /// A licence minted and activated (after each one).
    case licenceMinted
    /// The run recorded under its idempotency key (the last step of each transaction).
    case recorded
    /// Purchase: the client found or created.
    case clientResolved
    /// Purchase: the invoice issued.
    case invoiceCreated
    /// Purchase: money moved and the invoice marked paid (inside the paying transaction).
    case paymentCaptured
    /// Purchase: a pending client activated.
    case clientActivated
}

/// A test hook called after each ``WorkflowStep`` inside its transaction; throwing aborts it.
/// Only the package's own tests can pass one (`package` access).
package typealias WorkflowFailpoint = @Sendable (WorkflowStep) throws -> Void

/// A licence a workflow issued, with its key when this call minted it (keys are stored only as a
/// digest, so a replayed call returns the licence without its key).
public struct IssuedLicence: Hashable, Sendable, Codable {
    /// The licence, activated for the client.
    public var licence: Licence
    /// Its key, only in the call that minted it; nil on a replay.
    @ExplicitNull public var key: LicenceKey?

    /// An issued `licence`, with its `key` when this call minted it.
    public init(licence: Licence, key: LicenceKey?) {
        self.licence = licence
        self.key = key
    }
}

/// Published after commit when a paid invoice delivered its licences — however the payment was
/// confirmed (wallet, webhook, by hand). Carries the keys: the one moment they exist in clear.
public struct PurchaseFulfilled: DomainEvent, Hashable {
    /// The event's name, `suite.purchase_fulfilled`.
    public var name: String { "suite.purchase_fulfilled" }
    /// The paid invoice's refid.
    public var invoice: Refid
    /// The refid of the client who bought.
    public var client: Refid
    /// The licences delivered, with their keys.
    public var licences: [IssuedLicence]
}

/// Delivers what a paid invoice bought, inside the transaction that pays it (Wave's
/// ``InvoiceFulfilment``): for an invoice with product lines, a pending client is activated and
/// one licence per unit is minted and activated for it (days from the product), each recorded in
/// `workflow_licences` against the invoice. Wave calls it once per invoice, so licences are
/// issued exactly once however often confirmation arrives. Invoices without product lines are
/// left alone.
public final class SuiteFulfilment: InvoiceFulfilment {
    let clients: Clients
    let products: Products
    let licences: Licences
    let events: DomainEventBus
    let clock: any WallClock
    let failpoint: WorkflowFailpoint?
    /// Keys issued in this process, by invoice, until the caller that paid takes them (bounded).
    private let issued = Mutex<[(invoice: Refid, licences: [IssuedLicence])]>([])
    static let retained = 1_000

    init(clients: Clients, products: Products, licences: Licences, events: DomainEventBus, clock: any WallClock,
         failpoint: WorkflowFailpoint?) {
        self.clients = clients
        self.products = products
        self.licences = licences
        self.events = events
        self.clock = clock
        self.failpoint = failpoint
    }

    /// Activates the invoice's client if pending and mints one activated licence per unit of each product line.
    public func invoicePaid(_ invoice: Invoice, payment: Payment, in tx: any Transaction) throws {
        let lines = invoice.lines.filter { $0.product != nil }
        guard !lines.isEmpty else { return }
        try failpoint?(.paymentCaptured)
        // The client and each product are read once here and handed to Forge.
        let (client, activated) = try clients.transitionIfAllowed(.activate, invoice.client, actor: "purchase",
                                                                  reason: "invoice \(invoice.number) paid", in: tx)
        if activated { try failpoint?(.clientActivated) }
        var minted: [IssuedLicence] = []
        let now = Timestamp(clock.now())
        for line in lines {
            let product = try products.forSale(line.product ?? "", in: tx)
            for _ in 0..<line.quantity {
                let licence = try licences.make().product(product.summary)
                    .metadata(["invoice": .string(invoice.refid.rawValue), "payment": .string(payment.refid.rawValue)])
                    .mintActivated(for: client.summary, actor: "purchase", in: tx)
                try IssuedLicenceRecords.record(licence.licence.refid, client: invoice.client, source: .purchase,
                                                invoice: invoice.refid, transfer: payment.transfer, at: now, in: tx)
                minted.append(IssuedLicence(licence: licence.licence, key: licence.key))
                try failpoint?(.licenceMinted)
            }
        }
        let event = PurchaseFulfilled(invoice: invoice.refid, client: invoice.client, licences: minted)
        let events = events
        let issuedLicences = minted
        tx.afterCommit { [weak self] in
            self?.issued.withLock { entries in
                entries.append((invoice.refid, issuedLicences))
                if entries.count > Self.retained { entries.removeFirst(entries.count - Self.retained) }
            }
            events.publish(event)
        }
    }

    /// The licences (with keys) this process issued for `invoice`, once: a second call returns nil.
    public func takeIssued(for invoice: Refid) -> [IssuedLicence]? {
        issued.withLock { entries in
            guard let index = entries.firstIndex(where: { $0.invoice == invoice }) else { return nil }
            return entries.remove(at: index).licences
        }
    }
}
