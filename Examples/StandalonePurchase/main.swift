// StandalonePurchase — a customer without a reseller buys a product: invoice, payment, licence.
// Run it with:
//
//     swift run StandalonePurchase
//
// It uses a private in-memory SQLite database, so it leaves nothing behind. Pass a path or a
// postgres:// URL as the first argument to run it on a database of your own.

import Client
import Forge
import Foundation
import Suite
import SuitePostgres
import SuiteSQLite
import SuiteCore
import Wave

// 1. One call: open, install every module, wire them.
let location = CommandLine.arguments.dropFirst().first ?? ":memory:"
let suite = try await ClientSuite.open(location, drivers: [.sqlite, .postgres])   // a file, :memory: or postgres://
let tag = UUID().uuidString.prefix(6).lowercased()
let product = try await suite.products.create(name: "Studio (lifetime)", slug: "studio-\(tag)", price: 19_900, currency: "USD")

// Licences issued by a paid invoice are announced after commit, with their keys.
let announcements = suite.events.subscribe()
let listener = Task {
    for await event in announcements {
        if let fulfilled = event as? PurchaseFulfilled {
            print("  event: invoice \(fulfilled.invoice) delivered \(fulfilled.licences.count) licence(s)")
            return
        }
    }
}

// 2. A new customer buys. The workflow creates the client (pending), issues an invoice
//    (INV-YYYY-NNNN, gap-free) and attempts payment: the client's wallet first, else a checkout.
let first = try await suite.workflows.purchase(.new(name: "Pied Piper", email: "ops-\(tag)@piedpiper.example"),
                                               product: product.slug, idempotencyKey: "order-\(tag)")
print("\(first.invoice.number) for \(first.invoice.total) \(first.invoice.currency); client \(first.client.refid) is \(first.client.status)")

// 3. The wallet is empty, so the outcome is "requires action": a hosted checkout page. Nothing is
//    paid, no licence exists, the client stays pending — Wave never reports a redirect as a payment.
guard case .requiresAction(let session) = first.outcome else { fatalError("expected a checkout session") }
print("send the customer to \(session.url)")

// 4. The customer pays on the page. The local gateway completes the session and produces the
//    webhook that confirms it: a JSON body signed with HMAC-SHA256 over "timestamp.body".
let delivery = try await suite.gateway.complete(session.id)
print("webhook header: Wave-Signature: \(delivery.signature.prefix(40))…")

// 5. Your HTTP endpoint hands the body and header to Wave. The signature is checked in constant
//    time, the timestamp against a 300 s window, the event id de-duplicated; the invoice is paid
//    once, and in that same transaction the client is activated and the licence minted.
let webhooks = try await suite.webhooks()
if case .paid(let payment) = try await webhooks.receive(delivery) {
    print("first delivery: paid — payment \(payment.refid) by \(payment.method), reference \(payment.reference ?? "")")
}
if case .duplicate(let event) = try await webhooks.receive(delivery) {
    print("redelivery: event \(event) already received — nothing changes")
}
await listener.value

// 6. A forged webhook is refused and writes nothing.
do {
    try await webhooks.receive(body: delivery.body, signature: "t=\(Int(Date().timeIntervalSince1970)),v1=" + String(repeating: "0", count: 64))
} catch let error as WaveError {
    print("forged: \(error)")
}

// 7. The client is now active, with an active lifetime licence.
let paid = try await suite.workflows.purchase(.new(name: "Pied Piper", email: "ops-\(tag)@piedpiper.example"),
                                              product: product.slug, idempotencyKey: "order-\(tag)")
print("same order again: paid? \(paid.outcome.isPaid); client \(paid.client.status); licences \(paid.licences.map(\.licence.refid))")

// 8. A customer with money in the wallet is paid, activated and licensed in one transaction.
let hooli = try await suite.clients.make().name("Hooli").email("buy-\(tag)@hooli.example").create()
try await suite.invoices.topUp(hooli.refid, amount: 50_000, currency: "USD", idempotencyKey: "deposit-\(tag)")
let instant = try await suite.workflows.purchase(.existing(hooli.refid), product: product.slug, idempotencyKey: "hooli-\(tag)")
print("Hooli: \(instant.invoice.number) paid? \(instant.outcome.isPaid); client \(instant.client.status)")
print("Hooli's key verifies: \(try await suite.licences.verify(instant.licences[0].key!).code)")

// 9. History, through the modules' analytics: activations and payments for one client.
let history = try await suite.workflows.history(of: hooli.refid, days: 7)
print("Hooli: \(history.activations.map(\.count).reduce(0, +)) activation(s), payments \(history.payments.map { "\($0.amount) \($0.currency) by \($0.method)" })")
try await suite.close()
