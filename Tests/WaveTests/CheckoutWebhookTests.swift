import Client
import Crypto
import Foundation
import Synchronization
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet
import Wave

private struct EndOfWebhookTest: DomainEvent { var name: String { "test.end" } }

/// Counts `InvoicePaid` per invoice and records what the fulfilment hook saw.
private final class PaidLedger: InvoiceFulfilment {
    let calls = Mutex<[Refid]>([])
    let refuse = Mutex(false)
    struct Refused: Error {}

    func invoicePaid(_ invoice: Invoice, payment: Payment, in tx: any Transaction) throws {
        if refuse.withLock({ $0 }) { throw Refused() }
        // Writes in the paying transaction: it commits with the payment or not at all.
        try tx.execute("INSERT INTO wave_settings (name, value, created_at) VALUES (\("fulfilled:" + invoice.refid.rawValue), \(payment.refid), 0)")
        calls.withLock { $0.append(invoice.refid) }
    }
}

private func count(_ wave: WaveFixture, _ sql: String) async throws -> Int64 {
    try await wave.database.read { tx in try tx.queryInt64(SQL(raw: sql)) ?? -1 }
}

private func webhookFixture(_ wave: WaveFixture, fulfilment: PaidLedger? = nil, events: DomainEventBus = DomainEventBus())
    -> (Invoices, CheckoutWebhooks, WebhookSigner) {
    let invoices = Invoices(database: wave.database, clients: wave.clients, gateway: wave.gateway, events: events,
                            fulfilment: fulfilment, clock: wave.clock)
    let signer = try! WebhookSigner(secret: Data(repeating: 7, count: 32))
    return (invoices, CheckoutWebhooks(invoices: invoices, signer: signer), signer)
}

private func openSession(_ wave: WaveFixture, _ invoices: Invoices, amount: Int64 = 4_900) async throws -> (Invoice, CheckoutSession) {
    let client = try await wave.client("Buyer\(Int.random(in: 0..<1_000_000))")
    let invoice = try await invoices.make().for(client.refid).currency("USD").line("Pro", amount: amount).create()
    guard case .requiresAction(let session) = try await invoices.attemptPayment(invoice.refid) else {
        throw WaveError(.validation, message: "expected a checkout session")
    }
    return (invoice, session)
}

@Suite struct CheckoutWebhookTests {
    @Test func theSignatureCoversTimestampAndBodyAndIsCheckedWithATolerance() throws {
        let signer = try WebhookSigner(secret: Data("0123456789abcdef0123456789abcdef".utf8), tolerance: 300)
        let body = Data(#"{"id":"EV-1"}"#.utf8)
        let header = signer.sign(body, at: 1_764_000_000)
        // An independent HMAC over "timestamp.body" gives the same hex.
        let expected = HMAC<SHA256>.authenticationCode(for: Data("1764000000.".utf8) + body,
                                                       using: SymmetricKey(data: Data("0123456789abcdef0123456789abcdef".utf8)))
        #expect(header == "t=1764000000,v1=" + Data(expected).map { String(format: "%02x", $0) }.joined())
        try signer.verify(body, signature: header, now: 1_764_000_299)
        try signer.verify(body, signature: header, now: 1_763_999_701)
        #expect(throws: WaveError.self) { try signer.verify(body, signature: header, now: 1_764_000_301) }
        do { try signer.verify(body, signature: header, now: 1_764_000_301) } catch let error as WaveError {
            #expect(error.code == .staleWebhook)
        }
        // A changed body, a changed timestamp, another secret, garbage: invalid signature.
        let forged = [
            (Data(#"{"id":"EV-2"}"#.utf8), header),
            (body, header.replacingOccurrences(of: "t=1764000000", with: "t=1764000001")),
            (body, try WebhookSigner(secret: Data(repeating: 1, count: 32)).sign(body, at: 1_764_000_000)),
            (body, "t=1764000000,v1=zz"), (body, "v1=00"), (body, ""),
        ]
        for (forgedBody, forgedHeader) in forged {
            do {
                try signer.verify(forgedBody, signature: forgedHeader, now: 1_764_000_000)
                Issue.record("accepted \(forgedHeader)")
            } catch let error as WaveError {
                #expect(error.code == .invalidSignature, "\(forgedHeader): \(error)")
            }
        }
        // While a secret rotates, either of two signatures is accepted.
        let old = try WebhookSigner(secret: Data(repeating: 1, count: 32)).sign(body, at: 1_764_000_000)
        try signer.verify(body, signature: old + "," + header.split(separator: ",")[1], now: 1_764_000_000)
        #expect(throws: WaveError.self) { try WebhookSigner(secret: Data(repeating: 1, count: 8)) }
    }

    @Test(arguments: Engine.allCases)
    func aCompletedCheckoutPaysTheInvoiceOnceThroughItsSignedWebhook(engine: Engine) async throws {
        try await engine.withWave(gateway: true) { wave in
            let bus = DomainEventBus(), fulfilment = PaidLedger()
            let (invoices, _, _) = webhookFixture(wave, fulfilment: fulfilment, events: bus)
            let webhooks = CheckoutWebhooks(invoices: invoices, signer: try await wave.gateway.signer())
            let (invoice, session) = try await openSession(wave, invoices)
            let stream = bus.subscribe()
            let collector = Task {
                var paid: [InvoicePaid] = []
                for await event in stream {
                    if event is EndOfWebhookTest { break }
                    if let event = event as? InvoicePaid { paid.append(event) }
                }
                return paid
            }
            let delivery = try await wave.gateway.complete(session.id)
            #expect(try await wave.gateway.session(session.id)?.status == .completed)
            // Completing only produced the webhook: nothing is paid until it is received.
            #expect(try await invoices.find(invoice.refid).status == .open)
            let outcome = try await webhooks.receive(delivery)
            guard case .paid(let payment) = outcome else { Issue.record("expected paid, got \(outcome)"); return }
            #expect(payment.method == "checkout" && payment.reference == session.id && payment.amount == 4_900 && payment.transfer == nil)
            let paid = try await invoices.find(invoice.refid)
            #expect(paid.status == .paid && paid.paymentMethod == "checkout" && paid.paymentReference == session.id)
            #expect(try await invoices.auditTrail(of: invoice.refid).map(\.event) == ["created", "pay"])
            // The same event again (a redelivery, freshly signed): a duplicate, nothing written.
            let before = try await wave.rowCounts()
            let again = try await webhooks.receive(try await wave.gateway.complete(session.id))
            #expect(again == .duplicate(eventID: "EV-" + session.id.dropFirst(3)))
            #expect(try await wave.rowCounts() == before)
            bus.publish(EndOfWebhookTest())
            let events = await collector.value
            #expect(events.map(\.invoice) == [invoice.refid] && events.first?.method == "checkout")
            #expect(fulfilment.calls.withLock { $0 } == [invoice.refid])
            // The body is the documented JSON.
            let json = try #require(try JSONSerialization.jsonObject(with: delivery.body) as? [String: Any])
            #expect(json["type"] as? String == "checkout.session.completed")
            #expect((json["data"] as? [String: Any])?["invoice"] as? String == invoice.refid.rawValue)
        }
    }

    @Test(arguments: Engine.allCases)
    func fiftyConcurrentDeliveriesOfOneWebhookPayOnceAndEmitOnce(engine: Engine) async throws {
        try await engine.withWave(inMemory: false, gateway: true) { wave in
            let bus = DomainEventBus(), fulfilment = PaidLedger()
            let (invoices, _, _) = webhookFixture(wave, fulfilment: fulfilment, events: bus)
            let webhooks = CheckoutWebhooks(invoices: invoices, signer: try await wave.gateway.signer())
            let (invoice, session) = try await openSession(wave, invoices)
            let delivery = try await wave.gateway.complete(session.id)
            let stream = bus.subscribe()
            let collector = Task {
                var paid = 0
                for await event in stream {
                    if event is EndOfWebhookTest { break }
                    if event is InvoicePaid { paid += 1 }
                }
                return paid
            }
            let outcomes = try await withThrowingTaskGroup(of: WebhookOutcome.self) { group in
                for _ in 0..<50 { group.addTask { try await webhooks.receive(delivery) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            bus.publish(EndOfWebhookTest())
            let paid = outcomes.filter { if case .paid = $0 { true } else { false } }
            #expect(paid.count == 1, "\(outcomes)")
            // Every other delivery saw either the recorded event or the paid invoice.
            #expect(outcomes.allSatisfy { outcome in
                switch outcome {
                case .paid, .duplicate, .alreadyPaid: true
                case .ignored: false
                }
            })
            #expect(await collector.value == 1)
            #expect(fulfilment.calls.withLock { $0 } == [invoice.refid])
            #expect(try await count(wave, "SELECT count(*) FROM wave_payments") == 1)
            #expect(try await count(wave, "SELECT count(*) FROM wave_webhook_events") == 1)
            #expect(try await count(wave, "SELECT count(*) FROM wave_invoice_audit WHERE event = 'pay'") == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func wrongSignaturesStaleTimestampsAndUnknownSessionsAreRejectedWithNothingWritten(engine: Engine) async throws {
        try await engine.withWave(gateway: true) { wave in
            let (invoices, _, _) = webhookFixture(wave)
            let signer = try await wave.gateway.signer()
            let webhooks = CheckoutWebhooks(invoices: invoices, signer: signer)
            let (invoice, session) = try await openSession(wave, invoices)
            let delivery = try await wave.gateway.complete(session.id)
            let before = try await wave.rowCounts()
            let now = Int64(wave.clock.now().timeIntervalSince1970)

            // Signed with another secret.
            let stranger = try WebhookSigner(secret: Data(repeating: 9, count: 32))
            await expectWaveError(.invalidSignature) {
                try await webhooks.receive(body: delivery.body, signature: stranger.sign(delivery.body, at: now))
            }
            // The body changed after signing (the amount lowered).
            let tampered = Data(String(decoding: delivery.body, as: UTF8.self).replacingOccurrences(of: "4900", with: "49").utf8)
            await expectWaveError(.invalidSignature) { try await webhooks.receive(body: tampered, signature: delivery.signature) }
            await expectWaveError(.invalidSignature) { try await webhooks.receive(body: delivery.body, signature: nil) }
            // Correctly signed, but ten minutes ago (a replay) or ten minutes ahead.
            await expectWaveError(.staleWebhook) {
                try await webhooks.receive(body: delivery.body, signature: signer.sign(delivery.body, at: now - 600))
            }
            await expectWaveError(.staleWebhook) {
                try await webhooks.receive(body: delivery.body, signature: signer.sign(delivery.body, at: now + 600))
            }
            // Correctly signed events naming an unknown session, or another invoice/amount than the session's.
            func event(session: String, invoice: String, amount: Int64, id: String) throws -> WebhookDelivery {
                let event = CheckoutWebhookEvent(id: id, type: CheckoutWebhookEvent.sessionCompleted, created: now,
                                                 data: .init(session: session, invoice: invoice, amount: amount, currency: "USD"))
                let encoder = JSONEncoder()
                encoder.keyEncodingStrategy = .convertToSnakeCase
                let body = try encoder.encode(event)
                return WebhookDelivery(body: body, signature: signer.sign(body, at: now))
            }
            let unknown = try event(session: "CS-UNKNOWN", invoice: invoice.refid.rawValue, amount: 4_900, id: "EV-X1")
            let error = await expectWaveError(.notFound) { try await webhooks.receive(unknown) }
            #expect(error?.message == "Checkout Session Not Found: no session with this id")
            await expectWaveError(.invalidWebhook) {
                try await webhooks.receive(try event(session: session.id, invoice: invoice.refid.rawValue, amount: 1, id: "EV-X2"))
            }
            await expectWaveError(.invalidWebhook) {
                try await webhooks.receive(body: Data("not json".utf8), signature: signer.sign(Data("not json".utf8), at: now))
            }
            #expect(try await wave.rowCounts() == before)
            #expect(try await invoices.find(invoice.refid).status == .open)
            #expect(try await count(wave, "SELECT count(*) FROM wave_webhook_events") == 0)
            // The genuine delivery still works afterwards (rejections consumed nothing).
            #expect(try await webhooks.receive(delivery).payment?.isNew == true)
        }
    }

    @Test(arguments: Engine.allCases)
    func anInvoicePaidByWalletFirstRecordsTheLateWebhookAsAlreadyPaid(engine: Engine) async throws {
        try await engine.withWave(gateway: true) { wave in
            let (invoices, _, _) = webhookFixture(wave)
            let webhooks = CheckoutWebhooks(invoices: invoices, signer: try await wave.gateway.signer())
            let (invoice, session) = try await openSession(wave, invoices)
            let delivery = try await wave.gateway.complete(session.id)
            _ = try await invoices.markAsPaid(invoice.refid, driver: "wire", transactionId: "W-1")
            let outcome = try await webhooks.receive(delivery)
            guard case .alreadyPaid(let payment) = outcome else { Issue.record("expected already paid, got \(outcome)"); return }
            #expect(payment.method == "wire" && !payment.isNew)
            #expect(try await webhooks.receive(delivery) == .duplicate(eventID: "EV-" + session.id.dropFirst(3)))
            #expect(try await count(wave, "SELECT count(*) FROM wave_payments") == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func aFulfilmentThatThrowsRollsThePaymentBackAndARetryPays(engine: Engine) async throws {
        try await engine.withWave(gateway: true) { wave in
            let fulfilment = PaidLedger()
            let (invoices, _, _) = webhookFixture(wave, fulfilment: fulfilment)
            let webhooks = CheckoutWebhooks(invoices: invoices, signer: try await wave.gateway.signer())
            let (invoice, session) = try await openSession(wave, invoices)
            let delivery = try await wave.gateway.complete(session.id)
            fulfilment.refuse.withLock { $0 = true }
            let before = try await wave.rowCounts()
            await #expect(throws: PaidLedger.Refused.self) { try await webhooks.receive(delivery) }
            #expect(try await wave.rowCounts() == before)
            #expect(try await invoices.find(invoice.refid).status == .open)
            // The gateway retries; the hook now succeeds and the invoice is paid once.
            fulfilment.refuse.withLock { $0 = false }
            #expect(try await webhooks.receive(delivery).payment?.isNew == true)
            #expect(fulfilment.calls.withLock { $0 } == [invoice.refid])
            // The wallet path runs the same hook in its transaction.
            let client = try await wave.client("Walleted")
            try await invoices.topUp(client.refid, amount: 500, currency: "USD")
            let small = try await invoices.make().for(client.refid).currency("USD").amount(500).create()
            #expect(try await invoices.attemptPayment(small.refid).isPaid)
            #expect(fulfilment.calls.withLock { $0 } == [invoice.refid, small.refid])
        }
    }

    @Test(arguments: Engine.allCases)
    func completingAnUnknownOrExpiredSessionIsRefused(engine: Engine) async throws {
        try await engine.withWave(gateway: true) { wave in
            await expectWaveError(.notFound) { try await wave.gateway.complete("CS-NOPE") }
            let (invoices, _, _) = webhookFixture(wave)
            let (_, session) = try await openSession(wave, invoices)
            _ = try await wave.database.write { tx in
                try tx.execute("UPDATE wave_checkout_sessions SET status = 'expired' WHERE refid = \(session.id)")
            }
            await expectWaveError(.statusTransitionDenied) { try await wave.gateway.complete(session.id) }
            #expect(try await wave.gateway.session(session.id)?.status == .expired)
            let secret = try await wave.gateway.webhookSecret()
            #expect(secret.count == 32)
            // One secret per database: another gateway value on it signs with the same secret.
            #expect(try await LocalCheckoutGateway(database: wave.database).webhookSecret() == secret)
        }
    }
}
